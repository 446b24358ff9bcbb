import { UsageError } from '../errors.js';
import type { Problem } from './errors.js';
import { resolveScenario } from './library.js';
import { readScenarioText, validateScenarioText } from './load.js';

export interface FileValidation {
  /** As the user named it. */
  file: string;
  problems: Problem[];
}

/** Check every file (or library name), never stopping at the first bad one. */
export async function validateFiles(files: string[]): Promise<FileValidation[]> {
  const results: FileValidation[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readScenarioText((await resolveScenario(file)).path, file);
    } catch (error) {
      const message =
        error instanceof UsageError ? error.message : `cannot read: ${(error as Error).message}`;
      results.push({ file, problems: [{ file, line: 1, col: 1, path: '', message }] });
      continue;
    }
    const v = validateScenarioText(text, file);
    results.push({ file, problems: v.ok ? [] : v.problems });
  }
  return results;
}

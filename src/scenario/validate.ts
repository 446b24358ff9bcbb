import { UsageError } from '../errors.js';
import type { Problem } from './errors.js';
import { resolveScenario } from './library.js';
import { readScenarioText, validateScenarioText } from './load.js';
import { splitCommandLine } from './protocols/command.js';

export interface FileValidation {
  /** As the user named it. */
  file: string;
  problems: Problem[];
  /** The programs its `command` workloads run (`run` needs --allow-commands for them). */
  programs: string[];
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
      results.push({
        file,
        problems: [{ file, line: 1, col: 1, path: '', message }],
        programs: [],
      });
      continue;
    }
    const v = validateScenarioText(text, file);
    const programs = v.ok
      ? (v.scenario.workloads ?? []).flatMap((w) =>
          (['server', 'client'] as const).flatMap((role) => {
            const p = w.command?.[role];
            const argv = p === undefined ? [] : typeof p === 'string' ? splitCommandLine(p) : p;
            return argv.length > 0 ? [`${w.name} ${role}: ${argv[0]}`] : [];
          }),
        )
      : [];
    results.push({ file, problems: v.ok ? [] : v.problems, programs });
  }
  return results;
}

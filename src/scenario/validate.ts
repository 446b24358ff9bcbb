import { UsageError } from '../errors.js';
import type { Problem } from './errors.js';
import type { FileAllowance } from './files.js';
import { resolveScenario } from './library.js';
import { readScenarioText } from './load.js';
import { checkScenario } from './prepare.js';
import { splitCommandLine } from './protocols/command.js';

export interface FileValidation {
  /** As the user named it. */
  file: string;
  problems: Problem[];
  /** The programs its `command` workloads run (`run` needs --allow-commands for them). */
  programs: string[];
}

/**
 * Check every file (or library name), never stopping at the first bad one: what `run`
 * checks before a lab, the files a scenario names and its budget included.
 */
export async function validateFiles(
  files: string[],
  allow?: FileAllowance,
): Promise<FileValidation[]> {
  const results: FileValidation[] = [];
  for (const file of files) {
    let text: string;
    let resolved;
    try {
      resolved = await resolveScenario(file);
      text = await readScenarioText(resolved.path, file);
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
    const v = checkScenario(text, file, { path: resolved.path, name: resolved.name, allow });
    const programs = v.ok
      ? (v.prepared.scenario.workloads ?? []).flatMap((w) =>
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

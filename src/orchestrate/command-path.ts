import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Whether a command can be started, decided before a lab is handed to it: 127 (not found)
 * and 126 (found, not executable), as a shell would exit; undefined when it can run.
 * `ip netns exec` would otherwise report its own exit code for both.
 */
export function commandProblem(
  command: string,
  path = process.env.PATH ?? '',
): { code: 126 | 127; message: string } | undefined {
  const candidates = command.includes('/')
    ? [command]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  let found: string | undefined;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
    } catch {
      continue;
    }
    found ??= c;
    try {
      accessSync(c, constants.X_OK);
      return undefined;
    } catch {
      // look further along PATH, as a shell does
    }
  }
  return found === undefined
    ? { code: 127, message: `command not found: ${command}` }
    : { code: 126, message: `permission denied: ${found} is not executable` };
}

/**
 * Before a lab is made: the system programs a scenario's workloads need (Chromium, Caddy,
 * ngtcp2, coturn) are there and executable. Without this, a missing browser surfaced as an
 * agent's `spawn … EACCES` seconds into the run.
 */
import { EnvironmentError } from '../errors.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { programsOf } from '../scenario/protocols/index.js';
import { PROGRAMS, type ProgramName } from '../scenario/protocols/programs.js';
import { commandProblem } from './command-path.js';

export interface MissingProgram {
  program: ProgramName;
  problem: string;
  workloads: string[];
}

/** Each program the workloads need that cannot be started, with the workloads needing it. */
export function missingPrograms(compiled: CompiledConfig): MissingProgram[] {
  const users = new Map<ProgramName, string[]>();
  for (const w of compiled.workloads) {
    for (const p of programsOf(w)) users.set(p, [...(users.get(p) ?? []), w.name]);
  }
  const missing: MissingProgram[] = [];
  for (const [program, workloads] of users) {
    const problem = commandProblem(PROGRAMS[program].command);
    if (problem !== undefined) missing.push({ program, problem: problem.message, workloads });
  }
  return missing;
}

/** Exit 3 naming every missing program, the workloads that need it and its package. */
export function assertPrograms(compiled: CompiledConfig): void {
  const missing = missingPrograms(compiled);
  if (missing.length === 0) return;
  const packages = missing.map((m) => PROGRAMS[m.program].package);
  throw new EnvironmentError(
    `scenario '${compiled.name}' needs programs this machine does not have`,
    [
      ...missing.map(
        (m) =>
          `${m.program} (${PROGRAMS[m.program].role}): ${m.problem}; needed by ${m.workloads.join(', ')}`,
      ),
      `install: apt-get install ${[...new Set(packages)].join(' ')} (npm run setup installs them all)`,
      'in a container: the full image has them (README "CI and containers")',
    ],
  );
}

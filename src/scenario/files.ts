/**
 * The files a scenario names (docs/security.md "A scenario file"): `trace:` of a link and
 * the `trace` action's `file`. A shared scenario is untrusted, so such a path resolves
 * against the scenario file's folder and must lead (after links) into that folder or a
 * folder the user allowed with --allow-path; kernel file systems never; and only a
 * regular file within its cap is read (src/files/read.ts). The files are read here, once,
 * and handed on parsed: the core never opens a path a scenario wrote.
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { capText, FILE_CAPS, kernelRootOf } from '../files/limits.js';
import { FileRefused, readRegularFile } from '../files/read.js';
import type { KeyPath, UnlocatedProblem } from './errors.js';
import type { Scenario } from './schema.js';
import { parseTrace } from './trace-file.js';

/** What the user allowed on the command line beyond the scenario's own folder. */
export interface FileAllowance {
  /** Real paths of folders whose files a scenario may name (--allow-path DIR). */
  paths: string[];
  /** Whether a scenario may run programs it names (--allow-commands). */
  commands: boolean;
}

export const NO_ALLOWANCE: FileAllowance = { paths: [], commands: false };

/** Parsed traces (run-length encoded, trace-file.ts) by the path the compiled scenario carries. */
export type TraceSet = Record<string, number[]>;

/** --allow-path values as real folder paths; UsageError for one that is not a folder. */
export function allowance(paths: string[] = [], commands = false): FileAllowance {
  const real = paths.map((p) => {
    let r: string;
    try {
      r = realpathSync(p);
    } catch {
      throw new UsageError(`--allow-path ${p}: no such folder`);
    }
    if (!statSync(r).isDirectory()) throw new UsageError(`--allow-path ${p}: is not a folder`);
    const kernel = kernelRootOf(r);
    if (kernel !== undefined) {
      throw new UsageError(`--allow-path ${p}: ${kernel} is never read on a scenario's behalf`);
    }
    return r;
  });
  return { paths: real, commands };
}

export interface NamedFile {
  /** Where it is written in the scenario. */
  path: KeyPath;
  /** The path as written. */
  value: string;
}

/** Every file-valued field of a scenario. A new such field belongs here, or it is unchecked. */
export function namedFiles(s: Scenario): NamedFile[] {
  const found: NamedFile[] = [];
  for (const dir of ['uplink', 'downlink'] as const) {
    const trace = s.network?.[dir]?.trace;
    if (trace !== undefined) found.push({ path: ['network', dir, 'trace'], value: trace });
  }
  for (const [name, policy] of Object.entries(s.policies ?? {})) {
    policy.actions.forEach((a, i) => {
      if ('trace' in a && a.trace !== undefined) {
        found.push({
          path: ['policies', name, 'actions', i, 'trace', 'file'],
          value: a.trace.file,
        });
      }
    });
  }
  return found;
}

/** The path compiled scenarios carry for a named file (compile.ts resolves the same way). */
export function namedFilePath(baseDir: string, value: string): string {
  return resolve(baseDir, value);
}

const inside = (real: string, root: string) =>
  real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

/**
 * Where a named path leads, if a scenario in `baseDir` may read it; else why not. The
 * kernel roots are judged by the path as written and as resolved (/proc/self is a link).
 */
export function confine(
  value: string,
  baseDir: string,
  allow: FileAllowance,
): { real: string } | { why: string } {
  if (value.includes('\0')) return { why: 'contains a NUL byte' };
  const abs = namedFilePath(baseDir, value);
  const kernelAsWritten = kernelRootOf(abs);
  if (kernelAsWritten !== undefined) {
    return { why: `is under ${kernelAsWritten}, which a scenario may never name` };
  }
  let real: string;
  let base: string;
  try {
    base = realpathSync(baseDir);
    real = realpathSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      why:
        code === 'ENOENT'
          ? `does not exist (looked for ${abs})`
          : code === 'ELOOP'
            ? 'is a symbolic link loop'
            : `cannot be resolved (${code ?? 'error'})`,
    };
  }
  const kernel = kernelRootOf(real);
  if (kernel !== undefined)
    return { why: `leads to ${real}, under ${kernel}, which a scenario may never name` };
  if (inside(real, base) || allow.paths.some((root) => inside(real, root))) return { real };
  return {
    why: `leads to ${real}, outside the scenario's folder ${base}; a scenario may name files in its own folder, or in one the user allows with --allow-path DIR`,
  };
}

/**
 * Reads and parses every file the scenario names, for `validate`, `run` and `simulate`
 * alike: problems at the key that names the file, and the parsed traces.
 */
export function readNamedFiles(
  s: Scenario,
  baseDir: string,
  allow: FileAllowance,
): { problems: UnlocatedProblem[]; traces: TraceSet } {
  const problems: UnlocatedProblem[] = [];
  const traces: TraceSet = {};
  for (const f of namedFiles(s)) {
    const problem = (why: string) =>
      problems.push({ path: f.path, message: `trace file '${f.value}' ${why}` });
    const where = confine(f.value, baseDir, allow);
    if ('why' in where) {
      problem(where.why);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readRegularFile(where.real, { maxBytes: FILE_CAPS.trace });
    } catch (e) {
      if (!(e instanceof FileRefused)) throw e;
      problem(
        `${e.why}${/at most/.test(e.why) ? '' : ` (a trace file: a regular file of at most ${capText(FILE_CAPS.trace)})`}`,
      );
      continue;
    }
    const parsed = parseTrace(bytes);
    if (!parsed.ok) {
      problem(parsed.problem);
      continue;
    }
    traces[namedFilePath(baseDir, f.value)] = parsed.runs;
  }
  return { problems, traces };
}

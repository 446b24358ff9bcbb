import { ExitCode, QoslabError } from '../errors.js';

/** Where a value sits in the scenario data: keys and list indices. */
export type KeyPath = (string | number)[];

/** A problem before it is located: where in the data, and whether the key itself is wrong. */
export interface UnlocatedProblem {
  path: KeyPath;
  message: string;
  /** Point at the key rather than its value (unknown or badly named keys). */
  atKey?: boolean;
  /** Shown only if nothing more precise was found inside the same value. */
  fallback?: boolean;
}

/** One thing wrong with a scenario, located in its file. */
export interface Problem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** Dotted key path with list indices, e.g. `policies.wa.actions[0].police.rate`. */
  path: string;
  message: string;
}

/** `file:line:col  key.path  message` — the one way problems are shown. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}  ${p.path || '(top level)'}  ${p.message}`;
}

/** Every problem of a scenario at once; bad input, so exit 2 like any usage error. */
export class ScenarioError extends QoslabError {
  readonly problems: Problem[];

  constructor(file: string, problems: Problem[]) {
    const n = problems.length;
    super(
      'QL_SCENARIO',
      `${file} is not a valid scenario (${n} problem${n === 1 ? '' : 's'}):\n` +
        problems.map(formatProblem).join('\n'),
      ExitCode.usage,
      [
        '`qoslab validate FILE` checks a scenario; `qoslab schema` prints the JSON Schema for editors',
      ],
    );
    this.name = 'ScenarioError';
    this.problems = problems;
  }
}

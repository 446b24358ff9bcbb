import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Raised when a helper program (ip, ...) fails; the message quotes its stderr. */
export class ExecError extends Error {
  readonly command: string;
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(command: string, stderr: string, exitCode: number | null, cause?: unknown) {
    const detail = stderr.trim() || (cause instanceof Error ? cause.message : '');
    super(`\`${command}\` failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${detail}`);
    this.name = 'ExecError';
    this.command = command;
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

/** Run a program without a shell and collect its output; rejects with ExecError. */
export function exec(file: string, args: string[], timeoutMs = 10_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new ExecError([file, ...args].join(' '), stderr, code, error));
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** `ip` from iproute2, the one tool the lab drives. */
export function ip(...args: string[]): Promise<ExecResult> {
  return exec('ip', args);
}

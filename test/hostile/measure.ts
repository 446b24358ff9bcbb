/**
 * Runs the CLI the way the hostile corpus needs: in a given folder, with a given
 * environment, under GNU time so that the child's peak RSS is known (/usr/bin/time,
 * Debian package `time`, installed by `npm run setup`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CLI, completion, type CliResult } from '../helpers/cli.js';

export const TIME = '/usr/bin/time';
export const haveTime = existsSync(TIME);

export interface Measured extends CliResult {
  /** Peak resident set size of the qoslab process, in KiB. */
  maxRssKiB: number;
  /** CPU time it used (user and system), in ms: its work, whatever else loads the machine. */
  cpuMs: number;
  /** Wall-clock time, in ms. */
  ms: number;
}

export async function qoslabMeasured(
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Measured> {
  const scratch = mkdtempSync(join(os.tmpdir(), 'qoslab-rss-'));
  const rssFile = join(scratch, 'rss');
  const t0 = performance.now();
  try {
    const child = spawn(TIME, ['-f', '%M %U %S', '-o', rssFile, process.execPath, CLI, ...args], {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await completion(child, `qoslab ${args.join(' ')}`, o.timeoutMs);
    // GNU time writes "Command exited with non-zero status N" before the values then.
    const [rss, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ');
    return {
      ...r,
      ms: performance.now() - t0,
      maxRssKiB: Number(rss),
      cpuMs: (Number(user) + Number(sys)) * 1000,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

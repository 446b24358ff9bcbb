/**
 * The instrument's own resources failing mid-run, and what the user then has: a results
 * disk that fills up (a small tmpfs as --out), the results folder removed, a results file
 * that cannot be written. Each: a clear message, exit 6 (never 1, never "internal error"),
 * no false fault lines, and what was measured kept. Root only (labs, mount).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import {
  fixture,
  missingFiles,
  namespacesOf,
  readSummary,
  sleep,
  startQoslab,
  tmpOut,
} from '../run/helpers.js';

/** The summary a run printed on stderr when it could not write summary.json. */
function stderrSummary(stderr: string): RunSummary {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => /the summary follows/.test(l));
  expect(at, stderr).toBeGreaterThan(0);
  return JSON.parse(lines[at + 1]!) as RunSummary;
}

/** What no resource fault may ever print. */
function expectNoFalseFaults(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|this is a bug|Chromium|went silent|killed by/);
}

const sends = (dir: string) =>
  readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"ev":"send"')).length;

const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});

describe.skipIf(!isRoot)('resource faults of the instrument itself', () => {
  it('a results disk that fills up mid-run: exit 6, the summary on stderr, nothing else lost', async () => {
    const disk = tmpDir('qoslab-enospc-');
    // The first files fit; the events of a 5 ms chat fill the rest within a second or two.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48k', 'tmpfs', disk]);
    mounts.push(disk);
    const out = join(disk, 'run');
    const run = startQoslab(['run', fixture('chat-4s'), '--out', out], /phase main/);
    await run.matched;
    const r = await run.done;
    // Before: "internal error: ENOSPC ... this is a bug", exit 1, no table, summary.json
    // left "running".
    expect(r.code, r.stderr).toBe(6);
    expectNoFalseFaults(r.stderr);
    expect(r.stderr).toMatch(
      /qoslab: events\.ndjson: no space left on the device \(ENOSPC\) at [\d.]+ s; the run goes on measuring/,
    );
    // Written again from memory at the end, the disk still full: summary.json cannot be
    // written either, so the summary is on stderr, whole, as summary.json would hold it.
    const s = stderrSummary(r.stderr);
    expect(s).toMatchObject({ status: 'completed', exit_code: 6, ok: false });
    expect(s.resource_faults!.join('\n')).toMatch(/events\.ndjson: no space left/);
    const ws = s.workloads[0]!.scopes.find((x) => x.phase === null)!.directions.at(-1)!;
    // Every message of the 4 s was counted, from memory: 800 at 5 ms.
    expect(ws.sent).toBeGreaterThan(790);
    expect(ws.delivery).toBe(1);
    expect(r.stdout).toMatch(/^ws +main +\d+ +\d+ +100%/m);
    expect(r.stdout).toMatch(/resource fault \(exit 6\): events\.ndjson: no space left/);
    expect(namespacesOf(s.lab_id)).toEqual([]);
  }, 60_000);

  it('the results folder removed mid-run: exit 6, written again from memory, complete', async () => {
    const out = tmpOut();
    const run = startQoslab(['run', fixture('chat-4s'), '--out', out], /phase main/);
    await run.matched;
    await sleep(1500);
    rmSync(out, { recursive: true, force: true });
    const r = await run.done;
    // Before: the run played on, then "internal error: ENOENT ... summary.json", exit 1,
    // everything measured lost.
    expect(r.code, r.stderr).toBe(6);
    expectNoFalseFaults(r.stderr);
    expect(r.stderr).toMatch(
      /qoslab: the results folder was removed at [\d.]+ s; the run goes on measuring/,
    );
    expect(missingFiles(out)).toEqual([]);
    const s = readSummary(out);
    expect(s).toMatchObject({ status: 'completed', exit_code: 6 });
    expect(s.resource_faults).toEqual([
      expect.stringMatching(/^the results folder was removed at [\d.]+ s$/),
    ]);
    expect(s.results_incomplete).toBeUndefined();
    // events.ndjson holds every message the summary counted.
    const ws = s.workloads[0]!.scopes.find((x) => x.phase === null)!.directions.at(-1)!;
    expect(sends(out)).toBe(ws.sent);
    expect(ws.sent).toBeGreaterThan(790);
    expect(r.stdout).toMatch(/every results file was written again from memory/);
  }, 60_000);

  it('summary.json made unwritable mid-run: exit 6, the summary on stderr, the rest written', async () => {
    const out = tmpOut();
    const run = startQoslab(['run', fixture('chat-4s'), '--out', out], /phase main/);
    await run.matched;
    await sleep(1000);
    // A folder where the file was: the final write gets EISDIR.
    rmSync(join(out, 'summary.json'));
    mkdirSync(join(out, 'summary.json'));
    const r = await run.done;
    expect(r.code, r.stderr).toBe(6);
    expectNoFalseFaults(r.stderr);
    expect(r.stderr).toMatch(
      /qoslab: summary\.json: a folder is in the way \(EISDIR\) at [\d.]+ s: the summary follows/,
    );
    const s = stderrSummary(r.stderr);
    expect(s).toMatchObject({ status: 'completed', exit_code: 6 });
    expect(s.expectations).toMatchObject([{ outcome: 'ok' }]);
    expect(existsSync(join(out, 'events.ndjson'))).toBe(true);
  }, 60_000);
});

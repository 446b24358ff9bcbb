/**
 * The run's event budget (run/recorder.ts): what no plan bounds (tiny bulk objects, a
 * reconnect storm) stops the run at its budget — status failed, exit 4, the reason in
 * summary.json — instead of growing it until the kernel kills it and leaves the lab.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventRecorder, MAX_RECORDED_EVENTS } from '../../src/run/recorder.js';
import { LiveTally } from '../../src/run/progress.js';
import type { NdjsonFile } from '../../src/run/results.js';
import { run } from '../../src/run/run.js';
import { isRoot } from '../helpers/cli.js';
import { fixture, namespacesOf, readSummary, tmpOut } from './helpers.js';

describe('EventRecorder', () => {
  it('keeps at most its budget, then records nothing more and says so once', () => {
    const written: unknown[] = [];
    const file = { write: (v: unknown) => written.push(v) } as unknown as NdjsonFile;
    const r = new EventRecorder(file, new LiveTally(['ws']), 3);
    let aborts = 0;
    r.full.addEventListener('abort', () => aborts++);
    for (let t = 1; t <= 5; t++) r.record({ ev: 'phase', phase: 'main', t });
    expect(r.events.map((e) => e.t)).toEqual([1, 2, 3]);
    expect(written).toHaveLength(3);
    expect(r.full.aborted).toBe(true);
    expect(aborts).toBe(1);
    expect(r.lastEventNs()).toBe(3);
    expect(MAX_RECORDED_EVENTS).toBe(2_500_000);
  });
});

describe.skipIf(!isRoot)('a run at its event budget', () => {
  it('stops, fails with exit 4 naming the budget, keeps what it measured, and leaves no lab', async () => {
    const out = tmpOut();
    const err: string[] = [];
    const t0 = Date.now();
    const r = await run({
      scenario: fixture('failing-expect'),
      outDir: out,
      quiet: true,
      maxEvents: 40,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
      err: { write: (s: string) => err.push(s) } as unknown as NodeJS.WritableStream,
    });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.exitCode).toBe(4);
    const summary = readSummary(out);
    expect(summary.status).toBe('failed');
    expect(summary.exit_code).toBe(4);
    expect(summary.error).toMatch(/^the run recorded 40 events, its memory budget, at \d+\.\d s/);
    expect(err.join('')).toMatch(/qoslab: the run recorded 40 events, its memory budget/);
    const lines = readFileSync(join(out, 'events.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(40);
    expect(summary.workloads[0]!.scopes[0]!.directions.some((d) => d.sent > 0)).toBe(true);
    expect(namespacesOf(summary.lab_id)).toEqual([]);
  });
});

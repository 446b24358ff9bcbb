import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeSweeps } from '../../src/sweep/merge.js';
import { mergeText } from '../../src/sweep/merge-output.js';
import { runRows } from '../../src/sweep/matrix-view.js';
import type { SweepManifest } from '../../src/sweep/manifest.js';
import { tmpDir } from '../helpers/tmp.js';
import { RUN_BASIC } from '../report/helpers.js';
import { loadRun } from '../../src/report/load.js';
import type { RunSummary } from '../../src/record/summary.js';

/**
 * merge reads only files, so sweep folders are written here by hand: a manifest, shard
 * files and run summaries (the report fixture's, with the seed each run would have).
 */
const summary = loadRun(RUN_BASIC).summary;

function manifest(fingerprint: string): SweepManifest {
  return {
    format: 1,
    kind: 'qoslab-sweep',
    scenario: 'report-basic',
    fingerprint,
    axes: [{ key: 'network.downlink.delay', values: ['1ms'] }],
    repeat: 2,
    base_seed: 5,
    duration_ns: 4e9,
    cells: [{ index: 0, id: 'c0-delay=1ms', params: { 'network.downlink.delay': '1ms' } }],
    runs_total: 2,
  };
}

/** A sweep folder holding the runs `seeds` (by repetition) and the shard files given. */
function sweepDir(
  fingerprint: string,
  seeds: number[],
  shards: Record<string, string>,
  edit: (s: RunSummary, rep: number) => void = () => {},
): string {
  const dir = tmpDir('qoslab-merge-');
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(manifest(fingerprint)));
  seeds.forEach((seed, rep) => {
    const run = join(dir, 'c0-delay=1ms', `rep-${rep}`);
    mkdirSync(run, { recursive: true });
    const s = structuredClone({ ...summary, seed });
    edit(s, rep);
    writeFileSync(join(run, 'summary.json'), JSON.stringify(s));
  });
  for (const [name, fp] of Object.entries(shards)) {
    writeFileSync(
      join(dir, name),
      JSON.stringify({ format: 1, fingerprint: fp, shard: { index: 1, count: 1 }, runs: [] }),
    );
  }
  return dir;
}

describe('merge on folders it should not trust', () => {
  it('merges the runs of one sweep', () => {
    const m = mergeSweeps([sweepDir('aaaa', [5, 6], { 'shard-1-of-1.json': 'aaaa' })]);
    expect(m.runs.map((r) => [r.rep, r.seed])).toEqual([
      [0, 5],
      [1, 6],
    ]);
    expect(m.missing).toEqual([]);
  });

  it('refuses a folder that shards of two different sweeps wrote into', () => {
    // Shard 2 ran an edited scenario into the shared folder after shard 1: sweep.json is
    // its own, and shard 1's runs of the old scenario were merged as if they were of it.
    const dir = sweepDir('bbbb', [5, 6], {
      'shard-1-of-2.json': 'aaaa',
      'shard-2-of-2.json': 'bbbb',
    });
    expect(() => mergeSweeps([dir])).toThrow(
      `${join(dir, 'shard-1-of-2.json')} is from another sweep (matrix aaaa) than ${join(dir, 'sweep.json')} (matrix bbbb)`,
    );
  });

  it('does not take a run with another seed than the sweep planned for it', () => {
    const dir = sweepDir('aaaa', [5, 9], { 'shard-1-of-1.json': 'aaaa' });
    const m = mergeSweeps([dir]);
    expect(m.runs.map((r) => r.rep)).toEqual([0]);
    expect(m.missing).toEqual([
      {
        cell: 'c0-delay=1ms',
        rep: 1,
        params: { 'network.downlink.delay': '1ms' },
        reason: `${join(dir, 'c0-delay=1ms', 'rep-1')}: seed 9, not the sweep's 6 (a run of another sweep)`,
      },
    ]);
  });

  it('says how many runs of a cell had no value, instead of a median of the others alone', () => {
    // Rep 1's ws measured nothing (delivery and latency null): the matrix showed rep 0's
    // 100% and 6 ms as if both repetitions had measured them.
    const dir = sweepDir('aaaa', [5, 6], { 'shard-1-of-1.json': 'aaaa' }, (s, rep) => {
      if (rep !== 1) return;
      const all = s.workloads[0]!.scopes.find((x) => x.phase === null)!;
      const both = all.directions.find((d) => d.dir === 'both')!;
      both.delivery = null;
      both.latency = { p50: null, p90: null, p95: null, p99: null, max: null };
    });
    const m = mergeSweeps([dir]);
    const text = mergeText(m, runRows(m));
    expect(text).toMatch(/ws delivery:\n.*\ndelivery\s+100% \+1 unmeasured\n/);
    expect(text).toMatch(/ws latency p95:\n.*\nlatency p95\s+[\d.]+ ms \+1 unmeasured\n/);
    // A workload both runs measured says nothing more.
    expect(text).toMatch(/h2 delivery:\n.*\ndelivery\s+100% \(100%\.\.100%\)\n/);
  });

  it('names why a failed run is missing: the agent that died', () => {
    const dir = sweepDir('aaaa', [5, 6], { 'shard-1-of-1.json': 'aaaa' }, (s, rep) => {
      if (rep !== 1) return;
      s.status = 'failed';
      s.faults = [
        {
          ev: 'agent',
          role: 'server',
          state: 'stalled',
          t: 1e9,
          code: null,
          signal: null,
          detail: 'the server agent went silent for 3 s',
        },
      ];
    });
    expect(mergeSweeps([dir]).missing[0]!.reason).toBe(
      `${join(dir, 'c0-delay=1ms', 'rep-1')}: failed (the server agent went silent for 3 s at 1.00 s)`,
    );
  });

  it('refuses a damaged sweep.json or run summary, located, instead of merging it', () => {
    const dir = sweepDir('aaaa', [5, 6], { 'shard-1-of-1.json': 'aaaa' });
    const m = { ...manifest('aaaa'), repeat: 'two' };
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(m));
    expect(() => mergeSweeps([dir])).toThrow(
      `${join(dir, 'sweep.json')} is not a qoslab sweep manifest (format 1): repeat: expected number, found 'two'`,
    );
    const run = sweepDir('aaaa', [5, 6], { 'shard-1-of-1.json': 'aaaa' }, (s, rep) => {
      // A goodput as a string: merged, it would have been a matrix cell's number.
      if (rep === 1)
        (s.workloads[0]!.scopes[0]!.directions[0] as { goodput_bps: unknown }).goodput_bps = '1e9';
    });
    expect(() => mergeSweeps([run])).toThrow(
      /rep-1\/summary\.json is not a qoslab run summary: workloads\[0\]\.scopes\[0\]\.directions\[0\]\.goodput_bps: expected number, found '1e9'/,
    );
  });
});

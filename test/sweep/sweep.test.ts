import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, qoslab } from '../helpers/cli.js';

/**
 * The scale-out path end to end: a 2x2 matrix x 2 repetitions split into two shards run
 * by two processes (as two CI jobs or two Kubernetes pods would), then merged.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/sweep-small.yaml', import.meta.url));
const tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MATRIX = [
  'sweep',
  FIXTURE,
  '--set',
  'network.downlink.delay=1ms,30ms',
  '--set',
  'policies.cap.actions[0].police.rate=64kbit,1mbit',
  '--repeat',
  '2',
  '--seed',
  '5',
  '--duration',
  '1s',
];

interface MergedJson {
  runs_total: number;
  runs_found: number;
  runs: { cell: string; rep: number; seed: number; status: string }[];
  missing: { cell: string; rep: number }[];
  cells: {
    cell: string;
    workload: string;
    phase: string | null;
    metric: string;
    n: number;
    median: number | null;
  }[];
}

describe.skipIf(!isRoot)('qoslab sweep and merge', () => {
  it('two shards of a 2x2x2 sweep merge into one summary of all 8 runs with the matrix', async () => {
    const s1 = await qoslab([...MATRIX, '--shard', '1/2', '--out', join(tmp, 's1')], 170_000);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.stderr).toContain('4 cell(s) x 2 repetition(s) = 8 runs; shard 1/2 runs 4');
    const s2 = await qoslab([...MATRIX, '--shard', '2/2', '--out', join(tmp, 's2')], 170_000);
    expect(s2.code, s2.stderr).toBe(0);

    // One shard alone: merged, with the other half named as missing, exit 1.
    const half = await qoslab(['merge', join(tmp, 's1'), '--out', join(tmp, 'half')]);
    expect(half.code).toBe(1);
    expect(half.stdout).toContain('4 of 8 runs');
    expect(half.stdout).toMatch(
      /missing 4 run\(s\):\n {2}c0-delay=1ms_rate=64kbit rep 1: not run by any shard given/,
    );

    const m = await qoslab(['merge', join(tmp, 's1'), join(tmp, 's2'), '--out', join(tmp, 'm')]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toContain('sweep sweep-small: 8 of 8 runs (4 cells x 2)');
    const merged = JSON.parse(readFileSync(join(tmp, 'm', 'merged.json'), 'utf8')) as MergedJson;
    expect(merged.runs_found).toBe(8);
    expect(merged.missing).toEqual([]);
    expect(merged.runs.every((r) => r.status === 'completed')).toBe(true);
    expect(new Set(merged.runs.map((r) => `${r.cell}/${r.rep}`)).size).toBe(8);
    expect(merged.runs.map((r) => r.seed).sort()).toEqual([5, 5, 5, 5, 6, 6, 6, 6]);

    // The settings took effect: 30 ms more delay shows in the median latency of its cells.
    const p50 = (cell: string) =>
      merged.cells.find(
        (c) =>
          c.cell === cell &&
          c.workload === 'ws' &&
          c.phase === null &&
          c.metric === 'latency_p50_ns',
      )!;
    expect(p50('c0-delay=1ms_rate=64kbit').n).toBe(2);
    expect(
      p50('c2-delay=30ms_rate=64kbit').median! - p50('c0-delay=1ms_rate=64kbit').median!,
    ).toBeGreaterThan(20e6);

    // CSV: one row per run, workload and scope, a column per parameter.
    const csv = readFileSync(join(tmp, 'm', 'matrix.csv'), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(csv[0]).toMatch(
      /^network\.downlink\.delay,policies\.cap\.actions\[0\]\.police\.rate,cell,rep,seed,status,ok,workload,phase,delivery,/,
    );
    const wsAll = csv.filter((l) => /,ws,all,/.test(l));
    expect(wsAll).toHaveLength(8);
    expect(wsAll.filter((l) => l.startsWith('30ms,1mbit,'))).toHaveLength(2);

    // Report and terminal: the metric against the parameters (rows: delay, columns: rate).
    const html = readFileSync(join(tmp, 'm', 'report.html'), 'utf8');
    expect(html).toContain('<th>network.downlink.delay</th>');
    expect(html).toContain('policies.cap.actions[0].police.rate=1mbit</th>');
    expect(html).toMatch(/<h2>ws — all<\/h2>/);
    expect(m.stdout).toMatch(
      /ws latency p95:\nnetwork\.downlink\.delay\s+policies\.cap\.actions\[0\]\.police\.rate=64kbit\s+policies\.cap\.actions\[0\]\.police\.rate=1mbit\n1ms\s+\S+ ms \(/,
    );
  }, 400_000);

  it('merge refuses folders of different sweeps', async () => {
    // Shard 9 of 9 of a one-run sweep owns no run: it writes the manifest and needs no lab.
    const other = await qoslab([
      'sweep',
      FIXTURE,
      '--set',
      'network.downlink.delay=1ms',
      '--shard',
      '9/9',
      '--out',
      join(tmp, 'other'),
    ]);
    expect(other.code, other.stderr).toBe(0);
    const r = await qoslab(['merge', join(tmp, 'other'), join(tmp, 's1')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is from another sweep than/);
  });
});

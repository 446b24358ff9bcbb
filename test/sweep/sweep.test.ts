import { spawn } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, qoslab } from '../helpers/cli.js';
import { junitSchemaViolations } from '../report/junit-schema.js';

/**
 * The scale-out path end to end, as CI jobs or Kubernetes pods run it: a 2x2 matrix x 2
 * repetitions split into four shards run by four processes, one of them killed and
 * retried into its folder, merged with a shard missing and then whole.
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

/** A sweep shard killed with SIGKILL once its `[2/2]` run has started. */
async function killDuringSecondRun(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no [2/2] in time:\n${stderr}`)), 60_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/^\[2\/2\] /m.test(stderr)) {
        clearTimeout(timer);
        // Into the run: its lab and agents are up.
        setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 1500);
      }
    });
  });
  await new Promise((r) => child.on('exit', r));
  return stderr;
}

const suitesOf = (xml: string) => [...xml.matchAll(/<testsuite /g)].length;

describe.skipIf(!isRoot)('qoslab sweep and merge', () => {
  it('four shards of a 2x2x2 sweep: failed expectations reported, a killed shard resumed, three merged with the rest named, all four merged', async () => {
    const shard = (i: number, ...extra: string[]) =>
      qoslab([...MATRIX, '--shard', `${i}/4`, '--out', join(tmp, `s${i}`), ...extra], 120_000);
    // Every shard has a 1 ms cell and a 30 ms one, whose p50 < 25ms fails by design (the
    // 64 kbit/s policer's drops may fail it in a 1 ms cell too). A median, not a p95: the
    // stalls of a loaded machine's lab would leave a p95 not measured (exit 0, not 1).
    const s1 = await shard(1, '--junit', join(tmp, 's1.xml'));
    expect(s1.code, s1.stderr).toBe(1);
    expect(s1.stderr).toContain('4 cell(s) x 2 repetition(s) = 8 runs; shard 1/4 runs 2');
    const j1 = readFileSync(join(tmp, 's1.xml'), 'utf8');
    expect(junitSchemaViolations(j1)).toEqual([]);
    expect(suitesOf(j1)).toBe(2);
    expect(j1).toContain('name="qoslab.sweep-small.c2-delay=30ms_rate=64kbit.rep-0"');
    expect(j1).toMatch(/<failure message="ws\.latency\.p50 &lt; 25ms: measured/);
    // --fail-on runs: the same kind of failure is reported, the exit code stays 0.
    const md = join(tmp, 's2.md');
    const s2 = await shard(2, '--fail-on', 'runs', '--summary-md', md);
    expect(s2.code, s2.stderr).toBe(0);
    expect(readFileSync(md, 'utf8')).toMatch(
      /^### ❌ qoslab sweep: sweep-small \(shard 2\/4\)\n\n2 of 2 run\(s\) completed, [12] failed an expectation, \(fails on: runs\)/,
    );
    const s3 = await shard(3, '--fail-on', 'runs', '--quiet');
    expect(s3.code, s3.stderr).toBe(0);
    // Only the runs' own warnings (--duration cuts the scenario): no progress lines.
    expect(s3.stdout).toBe('');
    expect(
      s3.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('qoslab: warning:')),
    ).toEqual([]);

    // Three of four folders (the fourth never came): merged, the missing named, exit 1.
    const three = await qoslab([
      'merge',
      ...[1, 2, 3, 4].map((i) => join(tmp, `s${i}`)),
      '--out',
      join(tmp, 'three'),
      '--junit',
      join(tmp, 'three.xml'),
    ]);
    expect(three.code, three.stderr).toBe(1);
    expect(three.stdout).toContain('6 of 8 runs');
    expect(three.stdout).toContain(`folder not read: ${join(tmp, 's4')} (no such folder)`);
    expect(three.stdout).toMatch(
      /missing 2 run\(s\):\n {2}c1-delay=1ms_rate=1mbit rep 1: not in the folders read \(absent: /,
    );
    const mergedThree = JSON.parse(
      readFileSync(join(tmp, 'three', 'merged.json'), 'utf8'),
    ) as MergedJson;
    expect(mergedThree.runs_found).toBe(6);
    const j3 = readFileSync(join(tmp, 'three.xml'), 'utf8');
    expect(junitSchemaViolations(j3)).toEqual([]);
    expect(suitesOf(j3)).toBe(8);
    expect([
      ...j3.matchAll(/<error message="the run failed: missing from the merge/g),
    ]).toHaveLength(2);

    // Shard 4 killed in its second run, as a node or pod is lost.
    const killed = await killDuringSecondRun([
      ...MATRIX,
      '--shard',
      '4/4',
      '--out',
      join(tmp, 's4'),
    ]);
    expect(killed).toMatch(
      /^\[1\/2\] c1-delay=1ms_rate=1mbit rep 1 seed 6: completed, exit [01]$/m,
    );
    expect((await qoslab(['cleanup'])).code).toBe(0);
    // Retried into the same folder: refused without --resume (a run is there), then resumed.
    const again = await shard(4);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds 2 run\(s\) of this shard/);
    expect(again.stderr).toContain('pass --resume');
    const resumed = await shard(4, '--resume', '--fail-on', 'runs');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /^\[1\/2\] c1-delay=1ms_rate=1mbit rep 1 seed 6: complete already \(exit [01]\), kept$/m,
    );
    expect(resumed.stderr).toMatch(
      /^\[2\/2\] c3-delay=30ms_rate=1mbit rep 1 seed 6: .* \(re-run: status running\)$/m,
    );

    const m = await qoslab([
      'merge',
      ...[1, 2, 3, 4].map((i) => join(tmp, `s${i}`)),
      '--out',
      join(tmp, 'm'),
    ]);
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
  }, 600_000);

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

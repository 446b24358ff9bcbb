import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { applySettings } from '../../src/sweep/apply.js';
import {
  cellsOf,
  matrixFingerprint,
  parseKeyPath,
  parseSet,
  planRuns,
  runsOfShard,
  shardOf,
} from '../../src/sweep/matrix.js';
import { loadScenario } from '../../src/scenario/library.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/sweep-small.yaml', import.meta.url));

describe('sweep matrix', () => {
  it('parses key paths with indexes, and rejects malformed ones', () => {
    expect(parseKeyPath('policies.x.actions[0].police.rate')).toEqual([
      'policies',
      'x',
      'actions',
      0,
      'police',
      'rate',
    ]);
    expect(() => parseKeyPath('a..b')).toThrow(/bad key path at '.b'/);
    expect(() => parseKeyPath('[0].a')).toThrow(/bad key path|must start with a key/);
    expect(() => parseSet('network.downlink.rate')).toThrow(/expected KEY=VALUE/);
    expect(() => parseSet('a=1,,2')).toThrow(/empty value/);
  });

  it('crosses axes (first slowest) and repeats each cell with seeds base + r', () => {
    const cells = cellsOf([parseSet('a.rate=1mbit,10mbit'), parseSet('b[0].c=x,y,z')]);
    expect(cells.map((c) => c.params)).toEqual([
      { 'a.rate': '1mbit', 'b[0].c': 'x' },
      { 'a.rate': '1mbit', 'b[0].c': 'y' },
      { 'a.rate': '1mbit', 'b[0].c': 'z' },
      { 'a.rate': '10mbit', 'b[0].c': 'x' },
      { 'a.rate': '10mbit', 'b[0].c': 'y' },
      { 'a.rate': '10mbit', 'b[0].c': 'z' },
    ]);
    expect(cells[4]!.id).toBe('c4-rate=10mbit_c=y');
    const runs = planRuns(cells, 2, 7);
    expect(runs).toHaveLength(12);
    expect(runs.slice(0, 3).map((r) => [r.cell.index, r.rep, r.seed])).toEqual([
      [0, 0, 7],
      [0, 1, 8],
      [1, 0, 7],
    ]);
    expect(cellsOf([]).map((c) => c.id)).toEqual(['c0']);
    expect(() => cellsOf([parseSet('a=1'), parseSet('a=2')])).toThrow(/given twice/);
  });

  it('shards are disjoint, cover every run, and differ in size by at most one', () => {
    const runs = planRuns(cellsOf([parseSet('a=1,2,3'), parseSet('b=1,2')]), 3, 1);
    for (const n of [1, 2, 3, 4, 7, 18, 25]) {
      const slices = Array.from({ length: n }, (_, i) =>
        runsOfShard(runs, { index: i + 1, count: n }),
      );
      const all = slices.flat().map((r) => r.index);
      expect(all.sort((x, y) => x - y)).toEqual(runs.map((r) => r.index));
      const sizes = slices.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('reads the shard from --shard, else from a Kubernetes Indexed Job', () => {
    expect(shardOf('2/4', {})).toEqual({ index: 2, count: 4 });
    expect(shardOf(undefined, {})).toEqual({ index: 1, count: 1 });
    expect(shardOf(undefined, { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '3' })).toEqual({
      index: 1,
      count: 3,
    });
    expect(shardOf('1/2', { JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '3' })).toEqual({
      index: 1,
      count: 2,
    });
    expect(() => shardOf(undefined, { JOB_COMPLETION_INDEX: '1' })).toThrow(
      /needs JOB_COMPLETIONS/,
    );
    expect(() => shardOf(undefined, { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '3' })).toThrow(
      /index < completions/,
    );
    for (const bad of ['0/2', '3/2', '1/0', 'a/b', '1'])
      expect(() => shardOf(bad, {})).toThrow(/--shard/);
  });

  it('writes settings into the scenario, typed as YAML reads them, and checks them', async () => {
    const base = await loadScenario(FIXTURE);
    const axes = [
      parseSet('network.downlink.delay=20ms'),
      parseSet('policies.cap.actions[0].police.rate=64kbit'),
    ];
    const cell = applySettings(base, axes, {
      'network.downlink.delay': '20ms',
      'policies.cap.actions[0].police.rate': '64kbit',
    });
    expect(cell.compiled.network.downlink.delay_ns).toBe(20e6);
    expect(JSON.stringify(cell.compiled.policies)).toContain('64000');
    expect(cell.text).toContain('rate: 64kbit');
    expect(() =>
      applySettings(base, [parseSet('network.downlink.rate=fast')], {
        'network.downlink.rate': 'fast',
      }),
    ).toThrow(/network\.downlink\.rate\s+expected a rate/);
    expect(() =>
      applySettings(base, [parseSet('policies.nope.actions[0].x=1')], {
        'policies.nope.actions[0].x': '1',
      }),
    ).toThrow(/no policies\.nope to set a value in/);
  });

  it('fingerprints the matrix, so merge can tell sweeps apart', () => {
    const parts = {
      scenarioText: 'x',
      axes: [parseSet('a=1,2')],
      repeat: 2,
      baseSeed: 1,
      durationNs: null,
    };
    expect(matrixFingerprint(parts)).toBe(matrixFingerprint({ ...parts }));
    expect(matrixFingerprint({ ...parts, repeat: 3 })).not.toBe(matrixFingerprint(parts));
    expect(matrixFingerprint({ ...parts, axes: [parseSet('a=1,3')] })).not.toBe(
      matrixFingerprint(parts),
    );
  });
});

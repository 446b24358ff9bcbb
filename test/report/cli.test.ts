import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/report/csv.js';
import { qoslab } from '../helpers/cli.js';
import { RUN_BASIC, copyOfRun } from './helpers.js';

describe('qoslab report / compare', () => {
  it('re-renders summary.json and report.html of a run directory', async () => {
    const dir = copyOfRun();
    const r = await qoslab(['report', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`report: ${join(dir, 'report.html')}\n`);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(
      readFileSync(join(RUN_BASIC, 'summary.json'), 'utf8'),
    );
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('refuses a damaged compiled.json: exit 2, located, and summary.json left as it was', async () => {
    const dir = copyOfRun();
    const path = join(dir, 'compiled.json');
    const c = JSON.parse(readFileSync(path, 'utf8')) as { workloads: { deadline_ns?: number }[] };
    delete c.workloads[2]!.deadline_ns;
    writeFileSync(path, JSON.stringify(c));
    const before = readFileSync(join(dir, 'summary.json'), 'utf8');
    for (const args of [
      ['report', dir],
      ['compare', RUN_BASIC, dir],
    ]) {
      const r = await qoslab(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /^qoslab: .*compiled\.json is not a compiled qoslab scenario: workloads\[2\]\.deadline_ns: missing; expected number\n/,
      );
    }
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(before);
  });

  it('exports CSV to a file or stdout', async () => {
    const dir = copyOfRun();
    const file = join(dir, 'summary.csv');
    expect((await qoslab(['report', dir, '--csv', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8').split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const r = await qoslab(['report', dir, '--csv']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
  });

  it('exits 2 with a clear message on a bad run directory', async () => {
    const r = await qoslab(['report', '/nonexistent/run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^qoslab: '\/nonexistent\/run' is not a directory/);
    const c = await qoslab(['compare', RUN_BASIC, join(RUN_BASIC, '..')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/is not a qoslab run directory/);
  });

  it('compares two runs as a table and as JSON', async () => {
    const t = await qoslab(['compare', RUN_BASIC, RUN_BASIC]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/WORKLOAD +PHASE +METRIC +A +B +DELTA +B\/A/);
    expect(t.stdout).toMatch(/voice +later +mos +[\d.]+ +[\d.]+ +±0\.00 +1\.00x/);
    const j = await qoslab(['compare', RUN_BASIC, RUN_BASIC, '--json']);
    const parsed = JSON.parse(j.stdout) as { rows: { delta: number | null }[] };
    expect(parsed.rows.every((r) => r.delta === 0)).toBe(true);
  });
});

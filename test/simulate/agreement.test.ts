/**
 * The twin agrees with the lab. Each scenario of ./agreement/scenarios/ (library scenarios
 * as of when the lab measured them, and a trace-driven one) was run in the lab by
 * bench/agreement-lab.js, several times with seeds 1..n, and what each run measured is in
 * ./agreement/lab.json. Here `simulate` runs the same files with the same seeds and the
 * lab's TCP congestion control, and every workload and phase must agree on delivery
 * (2 points), median latency (±15 %), goodput (±15 %) and loss (3 points) — or lie
 * inside the lab's own range over its runs — and every expectation must come out as in
 * the lab. Where the twin cannot, KNOWN names the row and why; an entry that no longer
 * differs fails too, so the list only shrinks. ./agreement/AGREEMENT.md is the table of
 * both sides, written by this test (`UPDATE_AGREEMENT=1`) and checked against it.
 *
 * To refresh the lab's side (after a change to the lab, a stack or a fixture): as root,
 * holding the lab to yourself, `npm run agreement:lab -- --reps 3` (about 30 minutes;
 * `--only name,name` for some), then `UPDATE_AGREEMENT=1 npx vitest run
 * test/simulate/agreement.test.ts`, and commit both files.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.js';
import {
  AGREEMENT_METRICS,
  agreementRows,
  agrees,
  type AgreementMetric,
  type AgreementRow,
} from '../../src/simulate/agreement.js';
import { simulateScenario } from '../../src/simulate/simulate.js';
import type { TcpCongestionControl } from '../../src/simulate/plan.js';
import { KNOWN, type CellView, type Known } from './agreement/known.js';

const DIR = join(import.meta.dirname, 'agreement');

interface LabRun {
  seed: number;
  rows: AgreementRow[];
  expectations: { text: string; outcome: string }[];
}

interface LabScenario {
  measured: string;
  kernel: string;
  tcp_congestion_control: string;
  sha256: string;
  runs: LabRun[];
}

const lab = JSON.parse(readFileSync(join(DIR, 'lab.json'), 'utf8')) as {
  scenarios: Record<string, LabScenario>;
};
const names = Object.keys(lab.scenarios).sort();

/** One compared cell: the lab's median and range, the twin's median, and the verdict. */
interface Cell {
  scenario: string;
  workload: string;
  phase: string;
  metric: AgreementMetric;
  lab: { median: number | null; min: number | null; max: number | null };
  sim: number | null;
  ok: boolean;
  known?: Known;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The entry that explains a cell: named by it, or by a rule that matches it. */
function knownFor(c: CellView): Known | undefined {
  return KNOWN.find(
    (k) =>
      k.expectation === undefined &&
      (k.scenario === undefined || k.scenario === c.scenario) &&
      (k.workload === undefined || k.workload === c.workload) &&
      (k.phase === undefined || k.phase === c.phase) &&
      (k.metric === undefined || k.metric === c.metric) &&
      (k.rule === undefined || k.rule(c)),
  );
}

const cells: Cell[] = [];
const outcomes: { scenario: string; text: string; lab: string; sim: string }[] = [];

function compare(scenario: string, labRuns: AgreementRow[][], simRuns: AgreementRow[][]): Cell[] {
  const keys = new Map<string, { workload: string; phase: string }>();
  for (const rows of labRuns)
    for (const r of rows)
      if (r.phase !== null)
        keys.set(`${r.workload}/${r.phase}`, { workload: r.workload, phase: r.phase });
  const out: Cell[] = [];
  for (const { workload, phase } of keys.values()) {
    const pick = (runs: AgreementRow[][], m: AgreementMetric) =>
      runs.flatMap((rows) => {
        const v = rows.find((r) => r.workload === workload && r.phase === phase)?.[m];
        return v === null || v === undefined ? [] : [v];
      });
    const labMedians = Object.fromEntries(
      AGREEMENT_METRICS.map((m) => [m, median(pick(labRuns, m))]),
    ) as CellView['lab'];
    for (const metric of AGREEMENT_METRICS) {
      const l = pick(labRuns, metric);
      const s = pick(simRuns, metric);
      // A metric neither side measures (latency of a call, loss of a chat) is no row.
      if (l.length === 0 && s.length === 0) continue;
      const labSide = {
        median: median(l),
        min: l.length === 0 ? null : Math.min(...l),
        max: l.length === 0 ? null : Math.max(...l),
      };
      const sim = median(s);
      const ok = agrees(metric, sim, labSide);
      const view = { scenario, workload, phase, metric, lab: labMedians, sim };
      out.push({
        scenario,
        workload,
        phase,
        metric,
        lab: labSide,
        sim,
        ok,
        known: ok ? undefined : knownFor(view),
      });
    }
  }
  return out;
}

/** The outcome most runs had (ties: the first run's). */
function majority(outcomes: string[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  return [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}

describe('simulate agrees with the lab', () => {
  afterAll(() => {
    // A rule over every scenario must still explain something.
    const idle = KNOWN.filter((k) => k.scenario === undefined && !cells.some((c) => c.known === k));
    expect(
      idle.map((k) => k.label),
      'KNOWN rules that explain nothing now',
    ).toEqual([]);
    if (cells.length === 0) return;
    const table = agreementTable(cells, outcomes);
    const file = join(DIR, 'AGREEMENT.md');
    if (process.env.UPDATE_AGREEMENT === '1') writeFileSync(file, table);
    else
      expect(table, 'AGREEMENT.md is stale: UPDATE_AGREEMENT=1 refreshes it').toBe(
        readFileSync(file, 'utf8'),
      );
  });

  it.for(names)('%s', { timeout: 120_000 }, async (name) => {
    const entry = lab.scenarios[name]!;
    const file = join(DIR, 'scenarios', `${name}.yaml`);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(
      sha,
      `lab.json measured another ${name}.yaml: npm run agreement:lab -- --only ${name}`,
    ).toBe(entry.sha256);
    const { compiled, traces } = await loadScenario(file);
    const tcp = entry.tcp_congestion_control as TcpCongestionControl;
    const sims = entry.runs.map((run) =>
      simulateScenario({ ...compiled, seed: run.seed }, tcp, traces),
    );
    const mine = compare(
      name,
      entry.runs.map((r) => r.rows),
      sims.map((s) => agreementRows(s.workloads)),
    );
    cells.push(...mine);
    for (const [i, e] of (entry.runs[0]?.expectations ?? []).entries()) {
      outcomes.push({
        scenario: name,
        text: e.text,
        lab: majority(entry.runs.map((r) => r.expectations[i]!.outcome)),
        sim: majority(sims.map((s) => s.expectations[i]!.outcome)),
      });
    }
    // Every disagreement is a known one, and every known one still disagrees.
    const unexplained = mine.filter((c) => !c.ok && c.known === undefined).map(describeCell);
    const stale = KNOWN.filter((k) => k.scenario === name && k.expectation === undefined)
      .filter((k) => !mine.some((c) => c.known === k))
      .map((k) => `${k.label}: explains nothing now (remove it from KNOWN)`);
    const expectations = outcomes
      .filter((o) => o.scenario === name && o.lab !== o.sim)
      .filter((o) => !KNOWN.some((k) => k.scenario === name && k.expectation === o.text))
      .map((o) => `${o.text}: lab ${o.lab}, simulate ${o.sim}`);
    expect({ unexplained, stale, expectations }).toEqual({
      unexplained: [],
      stale: [],
      expectations: [],
    });
  });
});

const fmt = (m: AgreementMetric, v: number | null): string => {
  if (v === null) return '-';
  if (m === 'p50_ns') return v >= 1e9 ? `${(v / 1e9).toFixed(2)} s` : `${(v / 1e6).toFixed(1)} ms`;
  if (m === 'goodput_bps')
    return v >= 1e6 ? `${(v / 1e6).toFixed(2)} Mbit/s` : `${(v / 1e3).toFixed(1)} kbit/s`;
  return `${(v * 100).toFixed(1)} %`;
};

function describeCell(c: Cell): string {
  return `${c.workload} ${c.phase} ${c.metric}: lab ${fmt(c.metric, c.lab.median)} (${fmt(c.metric, c.lab.min)}..${fmt(c.metric, c.lab.max)}), simulate ${fmt(c.metric, c.sim)}`;
}

/** sim/lab for ratios, sim−lab in points for shares. */
function relation(c: Cell): string {
  if (c.sim === null || c.lab.median === null) return '-';
  if (c.metric === 'delivery' || c.metric === 'loss') {
    const d = (c.sim - c.lab.median) * 100;
    return `${d >= 0 ? '+' : ''}${d.toFixed(1)} pt`;
  }
  return c.lab.median === 0 ? '-' : `${(c.sim / c.lab.median).toFixed(2)}×`;
}

function agreementTable(all: Cell[], exps: typeof outcomes): string {
  const lines = [
    '# The twin against the lab',
    '',
    'Written by `UPDATE_AGREEMENT=1 npx vitest run test/simulate/agreement.test.ts` from',
    "`lab.json` (the lab's runs: when, kernel, TCP per scenario) and `simulate` with the same",
    'seeds. Lab: median of its runs [their range]. Bounds: delivery ±2 pt, latency p50 and',
    "goodput ±15 %, loss ±3 pt, or inside the lab's range. `known`: a difference the test",
    'names, with its reason in test/simulate/agreement/known.ts.',
    '',
    '| Scenario | Workload | Phase | Metric | Lab | Simulate | Sim vs lab | Agrees |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const sorted = [...all].sort(
    (a, b) =>
      a.scenario.localeCompare(b.scenario) ||
      a.workload.localeCompare(b.workload) ||
      a.phase.localeCompare(b.phase) ||
      AGREEMENT_METRICS.indexOf(a.metric) - AGREEMENT_METRICS.indexOf(b.metric),
  );
  for (const c of sorted) {
    const range =
      c.lab.min === c.lab.max ? '' : ` [${fmt(c.metric, c.lab.min)}–${fmt(c.metric, c.lab.max)}]`;
    lines.push(
      `| ${c.scenario} | ${c.workload} | ${c.phase} | ${c.metric} | ${fmt(c.metric, c.lab.median)}${range} | ${fmt(c.metric, c.sim)} | ${relation(c)} | ${c.ok ? 'yes' : c.known ? `known: ${c.known.label}` : 'NO'} |`,
    );
  }
  const total = all.length;
  const ok = all.filter((c) => c.ok).length;
  lines.push(
    '',
    `${ok} of ${total} cells agree; the other ${total - ok} are known differences:`,
    '',
  );
  for (const k of KNOWN) {
    const n = all.filter((c) => c.known === k).length;
    if (n > 0) lines.push(`- **${k.label}** (${n}): ${k.why}.`);
  }
  lines.push('');
  lines.push(
    '## Expectations',
    '',
    '| Scenario | Expectation | Lab | Simulate |',
    '| --- | --- | --- | --- |',
  );
  for (const o of [...exps].sort((a, b) => a.scenario.localeCompare(b.scenario)))
    lines.push(`| ${o.scenario} | \`${o.text}\` | ${o.lab} | ${o.sim} |`);
  return lines.join('\n') + '\n';
}

/**
 * The library test's closing table: per scenario, each expectation with how its number is
 * marked (cited with the quote's start, or assumed) and what this run measured. Printed
 * at the end of the library test, and written to $QOSLAB_LIBRARY_TABLE when set, so a
 * release note can quote the lab's last numbers beside the sources'.
 */
import type { NumberMark } from '../../src/scenario/provenance.js';
import { fmtMeasured } from '../../src/record/format.js';
import type { ExpectationResult } from '../../src/record/summary.js';

export interface ScenarioRow {
  name: string;
  /** The seed it ran with (undefined: the scenario's own). */
  seed?: number;
  /** How each number of the scenario is marked (`qoslab scenarios --numbers`). */
  marks: NumberMark[];
  expectations: ExpectationResult[];
  exitCode: number | null;
  seconds: number;
}

const QUOTE_CHARS = 90;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function markOf(marks: NumberMark[], i: number): string {
  const mark = marks.find((m) => m.path === `expect.${i}`);
  if (mark === undefined || mark.status === 'unmarked') return 'unmarked';
  const quote =
    mark.text.length > QUOTE_CHARS ? `${mark.text.slice(0, QUOTE_CHARS - 1)}…` : mark.text;
  return `${mark.status}: ${quote}`;
}

export function libraryTable(rows: ScenarioRow[]): string {
  const lines = [
    '| Scenario | Expectation | Cited or assumed | Measured | Result |',
    '| --- | --- | --- | --- | --- |',
  ];
  const order = (a: ScenarioRow, b: ScenarioRow) =>
    a.name.localeCompare(b.name) || (a.seed ?? 0) - (b.seed ?? 0);
  for (const r of [...rows].sort(order)) {
    const name = r.seed === undefined ? r.name : `${r.name} (seed ${r.seed})`;
    if (r.expectations.length === 0) {
      lines.push(`| \`${name}\` | (no summary) | | | exit ${r.exitCode} |`);
    }
    r.expectations.forEach((e, i) => {
      const measured =
        e.outcome === 'not reached' || e.outcome === 'not measured' ? '-' : fmtMeasured(e);
      lines.push(
        `| \`${name}\` | \`${cell(e.text)}\` | ${cell(markOf(r.marks, i))} | ${measured} | ${e.outcome} |`,
      );
    });
  }
  return lines.join('\n') + '\n';
}

/**
 * Per scenario and expectation, the measured values over the seeds it ran with: lowest,
 * highest, and how many runs held it. A two-sided bound drawn around the source's number
 * must also hold everything here.
 */
export function spreadTable(rows: ScenarioRow[]): string {
  const by = new Map<string, { values: ExpectationResult[]; kind: ExpectationResult }>();
  for (const r of rows) {
    for (const e of r.expectations) {
      const key = `${r.name}\u0000${e.text}`;
      const entry = by.get(key) ?? { values: [], kind: e };
      entry.values.push(e);
      by.set(key, entry);
    }
  }
  const lines = [
    '| Scenario | Expectation | Lowest | Highest | Held |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [key, { values }] of [...by].sort(([a], [b]) => a.localeCompare(b))) {
    const [name, text] = key.split('\u0000');
    const measured = values.filter((e) => e.measured !== null);
    const sorted = [...measured].sort((a, b) => a.measured! - b.measured!);
    const show = (e: ExpectationResult | undefined) => (e === undefined ? '-' : fmtMeasured(e));
    const held = values.filter((e) => e.outcome === 'ok').length;
    lines.push(
      `| \`${name}\` | \`${cell(text!)}\` | ${show(sorted[0])} | ${show(sorted[sorted.length - 1])} | ${held}/${values.length} |`,
    );
  }
  return lines.join('\n') + '\n';
}

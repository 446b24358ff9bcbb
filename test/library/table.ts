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
  for (const r of [...rows].sort((a, b) => a.name.localeCompare(b.name))) {
    if (r.expectations.length === 0) {
      lines.push(`| \`${r.name}\` | (no summary) | | | exit ${r.exitCode} |`);
    }
    r.expectations.forEach((e, i) => {
      const measured =
        e.outcome === 'not reached' || e.outcome === 'not measured' ? '-' : fmtMeasured(e);
      lines.push(
        `| \`${r.name}\` | \`${cell(e.text)}\` | ${cell(markOf(r.marks, i))} | ${measured} | ${e.outcome} |`,
      );
    });
  }
  return lines.join('\n') + '\n';
}

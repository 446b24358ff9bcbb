/**
 * A run as Markdown for CI job summaries (GitHub's $GITHUB_STEP_SUMMARY, GitLab and
 * others render it): the verdict, the expectations with measured values, and one row per
 * workload and phase (both directions pooled), as the terminal table shows them.
 */
import type { ExpectationResult } from '../record/summary.js';
import type { RunSummary } from '../record/summary.js';
import {
  failureText,
  fmtDuration,
  fmtMeasured,
  fmtRate,
  fmtRatio,
  unjudgedText,
  verdictText,
} from '../record/format.js';

/** A table cell: pipes and line breaks would break the row. */
export function mdCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

function verdict(s: RunSummary): string {
  if (s.status === 'interrupted') return 'interrupted (measured until then)';
  if (s.status === 'failed') return `failed: ${failureText(s)}`;
  if ((s.resource_faults ?? []).length > 0) return `${failureText(s)} (exit 6)`;
  return verdictText(s);
}

/**
 * Only the run's own `not measured`/`not reached` are unjudged; a metric with no data in a
 * window the run watched failed its expectation (exit 1), and reads FAIL, nothing measured.
 */
function resultOf(e: ExpectationResult): string {
  if (e.outcome === 'not measured' || e.outcome === 'not reached') return e.outcome;
  return e.ok ? 'ok' : 'FAIL';
}

function expectationRow(e: ExpectationResult): string[] {
  const why = unjudgedText(e);
  return [resultOf(e), e.text, why === undefined ? fmtMeasured(e) : why];
}

export function summaryMarkdown(s: RunSummary, resultsDir?: string): string {
  // A run that judged nothing is no pass, even when allowed: it tested nothing.
  const icon =
    s.status === 'completed' && s.unjudged === true
      ? '⚠️'
      : s.status === 'completed' && s.ok
        ? '✅'
        : '❌';
  const parts = [
    `### ${icon} qoslab run: ${s.scenario}`,
    '',
    `${verdict(s)} — seed ${s.seed}, ${fmtDuration(s.duration_ns)} planned, ${fmtDuration(s.observed_ns)} observed, qoslab ${s.qoslab}`,
  ];
  for (const note of s.notes ?? []) parts.push('', `> warning: ${note}`);
  if (s.expectations.length > 0) {
    parts.push(
      '',
      mdTable(['result', 'expectation', 'measured'], s.expectations.map(expectationRow)),
    );
  }
  const rows: string[][] = [];
  for (const w of s.workloads) {
    for (const scope of w.scopes) {
      const both = scope.directions.find((d) => d.dir === 'both');
      if (both === undefined) continue;
      rows.push([
        w.name,
        scope.phase ?? '(all)',
        String(both.sent),
        String(both.counted),
        fmtRatio(both.delivery),
        fmtDuration(both.latency.p50),
        fmtDuration(both.latency.p99),
        fmtRate(both.goodput_bps),
        both.voice ? fmtRatio(both.voice.loss) : '-',
        both.voice ? both.voice.mos.toFixed(2) : '-',
      ]);
    }
  }
  if (rows.length > 0) {
    parts.push(
      '',
      '<details><summary>workloads</summary>',
      '',
      mdTable(
        [
          'workload',
          'phase',
          'sent',
          'judged',
          'delivered',
          'p50',
          'p99',
          'goodput',
          'loss',
          'MOS',
        ],
        rows,
      ),
      '',
      '</details>',
    );
  }
  if (resultsDir !== undefined) parts.push('', `results: \`${resultsDir}\``);
  return `${parts.join('\n')}\n`;
}

/** One run of a sweep or merge, as a row of runsMarkdown. */
export interface RunsMdRow {
  /** `c0-rate=1mbit rep 0`. */
  run: string;
  params: string;
  summary?: RunSummary;
  /** Why there is no summary (a run missing from a merge). */
  missing?: string;
}

/**
 * Many runs for a job summary (a sweep shard's, a merge's): a headline, then a row per run
 * with its verdict, so a failed cell is found without opening each run.
 */
export function runsMarkdown(title: string, headline: string, rows: RunsMdRow[]): string {
  const allHeld = rows.every((r) => r.summary?.status === 'completed' && r.summary.ok);
  return `${[
    `### ${allHeld ? '✅' : '❌'} ${title}`,
    '',
    headline,
    '',
    mdTable(
      ['run', 'parameters', 'result'],
      rows.map((r) => [
        r.run,
        r.params,
        r.summary ? verdict(r.summary) : `missing: ${r.missing ?? 'no run'}`,
      ]),
    ),
  ].join('\n')}\n`;
}

/**
 * What `qoslab merge` writes: merged.json (every run, the missing ones, the spread per
 * cell), matrix.csv (one row per run, workload and phase, with a column per parameter:
 * ready for a pivot table), report.html (the matrix views) and a text summary.
 */
import { writeFileReplacing } from '../files/write.js';
import { join } from 'node:path';
import { csvField, type CsvValue } from '../report/csv.js';
import { esc, htmlTable } from '../report/markup.js';
import type { CiTargets } from '../report/ci-outputs.js';
import { prepareResultsDir } from '../run/out-path.js';
import { writeRunsCi, type CiRun } from './ci.js';
import type { Merged } from './merge.js';
import {
  formatSpread,
  METRICS,
  pivot,
  runRows,
  seriesOf,
  spread,
  type RunRow,
} from './matrix-view.js';

const scopeName = (phase: string | null) => phase ?? 'all';

export function matrixCsv(merged: Merged, rows: RunRow[]): string {
  const keys = merged.manifest.axes.map((a) => a.key);
  const head = [
    ...keys,
    'cell',
    'rep',
    'seed',
    'status',
    'ok',
    'workload',
    'phase',
    ...METRICS.map((m) => m.key),
  ];
  const lines = [head.map(csvField).join(',')];
  for (const r of rows) {
    const params = merged.manifest.cells.find((c) => c.id === r.run.cell)!.params;
    const row: CsvValue[] = [
      ...keys.map((k) => params[k]),
      r.run.cell,
      r.run.rep,
      r.run.seed,
      r.run.status,
      String(r.run.ok),
      r.workload,
      scopeName(r.phase),
      ...METRICS.map((m) => r.values[m.key] ?? null),
    ];
    lines.push(row.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Per cell, workload, scope and metric: n, median, min, max over the repetitions. */
function cellSpreads(merged: Merged, rows: RunRow[]) {
  return merged.manifest.cells.flatMap((cell) =>
    seriesOf(rows).flatMap(({ workload, phase }) =>
      METRICS.map((m) => ({
        cell: cell.id,
        params: cell.params,
        workload,
        phase,
        metric: m.key,
        ...spread(
          rows
            .filter((r) => r.run.cell === cell.id && r.workload === workload && r.phase === phase)
            .map((r) => r.values[m.key] ?? null),
        ),
      })),
    ),
  );
}

function pivotTable(
  merged: Merged,
  rows: RunRow[],
  workload: string,
  phase: string | null,
  metric: (typeof METRICS)[number],
) {
  const p = pivot(merged, rows, workload, phase, metric.key);
  const head = [
    ...(p.rowKeys.length > 0 ? p.rowKeys : ['']),
    ...p.columns.map((c) => (p.columnKey ? `${p.columnKey}=${c}` : c)),
  ];
  const body = p.rows.map((r) => [
    ...(r.labels.length > 0 ? r.labels : [metric.label]),
    ...r.cells.map((c) => formatSpread(c, metric.format)),
  ]);
  return { head, body, textColumns: Math.max(1, p.rowKeys.length) };
}

export function mergeHtml(merged: Merged, rows: RunRow[]): string {
  const m = merged.manifest;
  const sections: string[] = [];
  for (const { workload, phase } of seriesOf(rows)) {
    const tables = METRICS.filter((metric) =>
      rows.some(
        (r) => r.workload === workload && r.phase === phase && r.values[metric.key] !== null,
      ),
    ).map((metric) => {
      const t = pivotTable(merged, rows, workload, phase, metric);
      return `<h3>${esc(metric.label)}</h3>\n${htmlTable(t.head, t.body, t.textColumns)}`;
    });
    sections.push(`<h2>${esc(workload)} — ${esc(scopeName(phase))}</h2>\n${tables.join('\n')}`);
  }
  const missing = merged.missing.map((x) => [
    x.cell,
    x.rep,
    Object.entries(x.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    x.reason,
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qoslab sweep: ${esc(m.scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em}.num{text-align:right}.note{color:#666}</style>
</head><body>
<h1>qoslab sweep: ${esc(m.scenario)}</h1>
<p>${m.cells.length} cell(s) × ${m.repeat} repetition(s): ${merged.runs.length} of ${m.runs_total} runs found; seeds ${m.base_seed}..${m.base_seed + m.repeat - 1}. Each matrix cell shows the median over repetitions and (min..max).</p>
<p class="note">axes: ${m.axes.map((a) => `${esc(a.key)} = ${esc(a.values.join(', '))}`).join('; ') || 'none'}. Sources: ${merged.sources.map(esc).join(', ')}${merged.absent.length > 0 ? `. Not read: ${merged.absent.map((a) => `${esc(a.dir)} (${esc(a.reason)})`).join(', ')}` : ''}</p>
<h2>Missing runs</h2>
${htmlTable(['cell', 'rep', 'parameters', 'why'], missing, 4)}
${sections.join('\n')}
</body></html>
`;
}

/** The terminal view: delivery and latency p95 of each workload over the whole run. */
export function mergeText(merged: Merged, rows: RunRow[]): string {
  const m = merged.manifest;
  const lines = [
    `sweep ${m.scenario}: ${merged.runs.length} of ${m.runs_total} runs (${m.cells.length} cells x ${m.repeat})`,
  ];
  for (const { workload, phase } of seriesOf(rows).filter((s) => s.phase === null)) {
    for (const metric of METRICS.filter(
      (x) => x.key === 'delivery' || x.key === 'latency_p95_ns',
    )) {
      const t = pivotTable(merged, rows, workload, phase, metric);
      const all = [t.head, ...t.body];
      const widths = t.head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
      lines.push(
        '',
        `${workload} ${metric.label}:`,
        ...all.map((r) =>
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
        ),
      );
    }
  }
  for (const a of merged.absent) lines.push('', `folder not read: ${a.dir} (${a.reason})`);
  if (merged.missing.length > 0) {
    lines.push('', `missing ${merged.missing.length} run(s):`);
    for (const x of merged.missing) lines.push(`  ${x.cell} rep ${x.rep}: ${x.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

export function writeMerged(merged: Merged, outDir: string): { dir: string; text: string } {
  prepareResultsDir(outDir, true);
  const rows = runRows(merged);
  const json = {
    format: 1,
    kind: 'qoslab-merge',
    scenario: merged.manifest.scenario,
    fingerprint: merged.manifest.fingerprint,
    axes: merged.manifest.axes,
    repeat: merged.manifest.repeat,
    sources: merged.sources,
    absent: merged.absent,
    runs_total: merged.manifest.runs_total,
    runs_found: merged.runs.length,
    runs: merged.runs.map((r) => ({
      cell: r.cell,
      rep: r.rep,
      seed: r.seed,
      dir: r.dir,
      status: r.status,
      exit_code: r.exit_code,
      ok: r.ok,
    })),
    missing: merged.missing,
    cells: cellSpreads(merged, rows),
  };
  writeFileReplacing(join(outDir, 'merged.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileReplacing(join(outDir, 'matrix.csv'), matrixCsv(merged, rows));
  writeFileReplacing(join(outDir, 'report.html'), mergeHtml(merged, rows));
  return { dir: outDir, text: mergeText(merged, rows) };
}

/** JUnit and Markdown of every run of the matrix, the missing ones as errors. */
export function writeMergedCi(merged: Merged, targets: CiTargets): string[] {
  const m = merged.manifest;
  const runs: CiRun[] = m.cells.flatMap((cell) =>
    Array.from({ length: m.repeat }, (_, rep): CiRun => {
      const found = merged.runs.find((r) => r.cell === cell.id && r.rep === rep);
      const missing = merged.missing.find((r) => r.cell === cell.id && r.rep === rep);
      return {
        cell: cell.id,
        rep,
        params: cell.params,
        summary: found?.summary,
        dir: found?.dir,
        missing: missing?.reason,
      };
    }),
  );
  const headline = `${merged.runs.length} of ${m.runs_total} runs found${merged.missing.length > 0 ? `, ${merged.missing.length} missing` : ''}${merged.absent.length > 0 ? `; folders not read: ${merged.absent.map((a) => a.dir).join(', ')}` : ''}`;
  return writeRunsCi(targets, m.scenario, `qoslab merge: ${m.scenario}`, headline, runs);
}

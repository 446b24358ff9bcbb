/** `writeReport`: summary.json and report.html of a run directory, from its files alone. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '../record/summary.js';
import { renderHtml } from './html.js';
import { loadRun } from './load.js';

export interface ReportResult {
  dir: string;
  summary: RunSummary;
  html: string;
}

/**
 * Re-reads the run, recomputes the summary from events.ndjson and writes summary.json
 * and report.html. The run calls it last; `qoslab report` calls it on any run directory.
 */
export function writeReport(runDir: string): ReportResult {
  const run = loadRun(runDir);
  writeFileSync(join(run.dir, 'summary.json'), `${JSON.stringify(run.summary, null, 2)}\n`);
  const html = join(run.dir, 'report.html');
  writeFileSync(html, renderHtml(run));
  return { dir: run.dir, summary: run.summary, html };
}

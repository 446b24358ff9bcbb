/** `writeReport`: summary.json and report.html of a run directory, from its files alone. */
import { join } from 'node:path';
import { writeFileReplacing } from '../files/write.js';
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
 * and report.html. The run calls it last; `qoslab report` calls it on any run directory,
 * which may have come from anyone: a link at either name is replaced, never written through.
 */
export function writeReport(runDir: string): ReportResult {
  const run = loadRun(runDir);
  writeFileReplacing(join(run.dir, 'summary.json'), `${JSON.stringify(run.summary, null, 2)}\n`);
  const html = join(run.dir, 'report.html');
  writeFileReplacing(html, renderHtml(run));
  return { dir: run.dir, summary: run.summary, html };
}

/** What `qoslab run` prints when it is done: the table, the expectations, where results are. */
import {
  expectationLines,
  flowsTable,
  marks,
  summaryTable,
  verdictText,
} from '../record/format.js';
import type { RunSummary } from '../record/summary.js';
import { instrumentLines } from '../report/instrument.js';
import { userTable } from '../record/user-view.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';

export type OutStream = NodeJS.WritableStream & { isTTY?: boolean };

export function printRun(
  summary: RunSummary,
  dir: string,
  out: OutStream,
  mode: { json?: boolean; quiet?: boolean },
): void {
  if (mode.json) {
    out.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  if (mode.quiet) return;
  // Workloads that send messages (an agent's); `command` ones are measured by their flows.
  const messaging = summary.workloads.filter(
    (w) =>
      (PROTOCOLS as Record<string, { agent: unknown } | undefined>)[w.protocol]?.agent === true,
  );
  if (messaging.length > 0) out.write(`\n${summaryTable(messaging)}\n`);
  const users = userTable(summary.workloads);
  if (users !== '') out.write(`\nwhat users lived with:\n${users}\n`);
  const flows = flowsTable(summary.flows);
  if (flows !== '') out.write(`\n${flows}\n`);
  if (summary.expectations.length > 0) {
    const m = marks(out);
    out.write(`\nexpectations:\n${expectationLines(summary.expectations, m.ok, m.fail)}\n`);
  }
  const instrument = summary.instrument;
  if (instrument !== undefined && instrument.lab_stall.count + instrument.agent_lag.count > 0) {
    out.write(
      `\ninstrument:\n${instrumentLines(summary)
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );
  }
  for (const note of summary.notes ?? []) out.write(`\nwarning: ${note}\n`);
  if (summary.unjudged === true && summary.status === 'completed') {
    out.write(
      `\n${verdictText(summary)}: ${summary.allow_unjudged === true ? 'exit 0 as asked' : 'exit 5, not a pass (--allow-unjudged for exploratory runs)'}\n`,
    );
  }
  if (summary.status === 'interrupted') {
    out.write('\ninterrupted: measured until the interruption; later phases not reached\n');
  }
  if (summary.capture !== undefined) {
    const c = summary.capture;
    out.write(
      `\ncapture: ${c.files} file(s), ${c.packets} packet records` +
        (c.lost > 0 ? `, ${c.lost} lost (the writer fell behind; forwarding did not wait)` : '') +
        (c.error !== null ? `; ${c.error}` : '') +
        '\n',
    );
  }
  for (const f of summary.faults) {
    out.write(`\nfailed: ${f.detail}; nothing after ${(f.t / 1e9).toFixed(1)} s is measured\n`);
  }
  const faults = summary.resource_faults ?? [];
  if (faults.length > 0) {
    const missing = summary.results_incomplete ?? [];
    out.write(
      `\nresource fault (exit 6): ${faults.join('; ')}; ${missing.length === 0 ? 'every results file was written again from memory' : `still incomplete on disk: ${missing.join(', ')}`}\n`,
    );
  }
  out.write(`\nresults: ${dir}\n`);
}

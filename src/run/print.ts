/** What `qoslab run` prints when it is done: the table, the expectations, where results are. */
import { expectationLines, flowsTable, marks, summaryTable } from '../record/format.js';
import type { RunSummary } from '../record/summary.js';
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
  const flows = flowsTable(summary.flows);
  if (flows !== '') out.write(`\n${flows}\n`);
  if (summary.expectations.length > 0) {
    const m = marks(out);
    out.write(`\nexpectations:\n${expectationLines(summary.expectations, m.ok, m.fail)}\n`);
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
  out.write(`\nresults: ${dir}\n`);
}

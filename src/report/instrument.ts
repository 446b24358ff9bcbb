/**
 * The report's view of the instrument itself: how long the lab and the agents stalled
 * (second by second), and how each paced workload kept its plan. These are the numbers
 * behind every `not measured` a stall or an agent limit caused.
 */
import { fmtDuration } from '../record/format.js';
import type { LagStats, RunSummary } from '../record/summary.js';
import { htmlTable } from './markup.js';

function lagLine(what: string, l: LagStats): string {
  if (l.count === 0) return `${what}: no stall`;
  const longest = l.longest!;
  return `${what}: ${l.count} stall${l.count === 1 ? '' : 's'}, ${fmtDuration(l.total_ns)} in all, the longest ${fmtDuration(l.max_ns)} at ${(longest.start / 1e9).toFixed(1)} s (${longest.who})`;
}

/** One line per part of the instrument, for the terminal and the report. */
export function instrumentLines(s: Pick<RunSummary, 'instrument'>): string[] {
  if (s.instrument === undefined) return [];
  return [
    lagLine('lab (core, orchestrator)', s.instrument.lab_stall),
    lagLine("agents' event loops", s.instrument.agent_lag),
  ];
}

export function instrumentSection(s: RunSummary): string {
  if (s.instrument === undefined) {
    return '<p class="note">this run did not record the instrument\'s own stalls (an older qoslab)</p>';
  }
  const seconds = new Map<number, string[]>();
  const put = (col: number, l: LagStats) => {
    for (const p of l.per_second) {
      const row = seconds.get(p.s) ?? [String(p.s), '', '', '', ''];
      row[col] = fmtDuration(p.max_ns);
      row[col + 1] = fmtDuration(p.total_ns);
      seconds.set(p.s, row);
    }
  };
  put(1, s.instrument.lab_stall);
  put(3, s.instrument.agent_lag);
  const perSecond = [...seconds.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
  const pacing = s.workloads.flatMap((w) =>
    w.scopes.flatMap((x) =>
      x.pacing === null
        ? []
        : [
            [
              w.name,
              x.phase ?? '(all)',
              x.pacing.planned,
              x.pacing.sent,
              x.pacing.on_time,
              fmtDuration(x.pacing.late_p99_ns),
              fmtDuration(x.pacing.late_max_ns),
              x.pacing.agent_limited ? 'agent-limited' : '',
            ],
          ],
    ),
  );
  return [
    `<p class="note">${instrumentLines(s).join('<br>')}</p>`,
    "<p class=\"note\">Stalls of 1 ms and more of the core's forwarding thread, 5 ms and more of the orchestrator's and the agents' event loops: while they last, packets wait and arrivals are stamped late. An expectation they cover beyond its tolerance is not measured.</p>",
    htmlTable(
      ['second', 'lab longest', 'lab stalled', 'agents longest', 'agents stalled'],
      perSecond,
      1,
    ),
    '<h3>Pacing against the plan</h3>',
    '<p class="note">Messages the plan had, sent, and sent within 100 ms of their time; below 99 % on time the workload is agent-limited: its goodput and latency there are its agent\'s, not the network\'s.</p>',
    htmlTable(
      ['workload', 'phase', 'planned', 'sent', 'on time', 'late p99', 'late max', ''],
      pacing,
      2,
    ),
  ].join('\n');
}

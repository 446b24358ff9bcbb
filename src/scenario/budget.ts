/**
 * What a run may plan (docs/scenario-format.md "Budgets"). Every message a workload sends
 * is a `send` and a `recv` event, each kept in memory until the summary and written to
 * events.ndjson (about 90 bytes a line), so a plan of billions (`every: 1ns`, a
 * `rate: 1000gbit` of 200-byte messages) grew `run` and `simulate` until the kernel killed
 * them. A plan over the budget is refused, at `validate` already, with the limit named;
 * 1 000 000 messages keep events.ndjson near 200 MB, under what `report` reads back.
 */
import type { CompiledConfig, CompiledWorkload } from './compiled.js';
import type { UnlocatedProblem } from './errors.js';
import type { Scenario } from './schema.js';
import { durationText } from './units.js';

export const MAX_PLANNED_MESSAGES = 1_000_000;

/**
 * Interval between messages of a workload: a call's `frame`, `every`, else size over
 * `rate`, else a second.
 */
export function intervalNs(w: CompiledWorkload): number {
  if (w.frame_ns !== null && w.frame_ns !== undefined) return w.frame_ns;
  if (w.interval_ns !== null) return w.interval_ns;
  if (w.rate_bps !== null && w.rate_bps > 0)
    return Math.round((w.size_bytes * 8 * 1e9) / w.rate_bps);
  return 1e9;
}

/** Messages a workload's pacers send over the run: per connection and direction. */
export function plannedMessages(w: CompiledWorkload, durationNs: number): number {
  const span = Math.min(w.stop_ns, durationNs) - w.start_ns;
  if (span <= 0) return 0;
  const each = Math.ceil(span / Math.max(1, intervalNs(w)));
  return each * (w.direction === 'both' ? 2 : 1) * w.connections;
}

const count = (n: number) => (n >= 1e15 ? n.toExponential(1) : n.toLocaleString('en-US'));

/**
 * The plan over budget, located at the workload that plans the most (its `every` or
 * `rate` when written) — or nothing. `scenario` is the one `compiled` came from.
 */
export function budgetProblems(scenario: Scenario, compiled: CompiledConfig): UnlocatedProblem[] {
  const planned = compiled.workloads.map((w) => plannedMessages(w, compiled.duration_ns));
  const total = planned.reduce((a, b) => a + b, 0);
  if (total <= MAX_PLANNED_MESSAGES) return [];
  const top = planned.indexOf(Math.max(...planned));
  const w = compiled.workloads[top]!;
  const written = scenario.workloads?.[top];
  const key =
    written?.every !== undefined ? 'every' : written?.rate !== undefined ? 'rate' : undefined;
  const dirs = w.direction === 'both' ? 2 : 1;
  return [
    {
      path: ['workloads', top, ...(key === undefined ? [] : [key])],
      message:
        `the run plans ${count(total)} messages, more than a run holds (at most ${count(MAX_PLANNED_MESSAGES)}: ` +
        `each is kept in memory and in events.ndjson); '${w.name}' alone sends ${count(planned[top]!)} ` +
        `(${w.connections} connection${w.connections === 1 ? '' : 's'} × ${dirs} direction${dirs === 1 ? '' : 's'}, ` +
        `one every ${durationText(intervalNs(w))} for ${durationText(Math.min(w.stop_ns, compiled.duration_ns) - w.start_ns)}); ` +
        'send less often or run shorter',
    },
  ];
}

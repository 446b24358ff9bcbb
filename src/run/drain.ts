import type { CompiledConfig } from '../scenario/compiled.js';

/**
 * After the last message is sent, a run watches until the longest deadline has passed (at
 * least 1.5 s, at most 10 s) so the last messages are judged too; messages whose deadline
 * outlives the watch are left unjudged, arrived or not. `simulate` watches as long.
 */
const MIN_DRAIN_NS = 1.5e9;
const MAX_DRAIN_NS = 10e9;

export function drainNs(compiled: Pick<CompiledConfig, 'workloads'>): number {
  const longest = Math.max(0, ...compiled.workloads.map((w) => w.deadline_ns));
  return Math.min(MAX_DRAIN_NS, Math.max(MIN_DRAIN_NS, longest));
}

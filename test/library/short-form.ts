/**
 * A library scenario's calibrated short form: start at the first phase any expectation is
 * about (`--phase`, so its connections open under its policies) and stop when the last
 * phase an expectation is about ends, or after MAX_NS. Earlier phases only set the stage
 * for a full run; a long phase only repeats what its first seconds show.
 */
import type { CompiledConfig } from '../../src/scenario/compiled.js';

export const MAX_NS = 20e9;

export interface ShortForm {
  phase: string;
  durationNs: number;
}

export function shortForm(c: CompiledConfig): ShortForm {
  const about = new Set(c.expect.flatMap((e) => (e.phase === null ? [] : [e.phase])));
  const entries = c.timeline.filter((e) => about.has(e.phase));
  if (c.timeline.length === 0 || entries.length === 0 || c.expect.some((e) => e.phase === null)) {
    const phase = c.timeline.length === 0 ? 'main' : c.timeline[0]!.phase;
    return { phase, durationNs: Math.min(MAX_NS, c.duration_ns - (c.timeline[0]?.at_ns ?? 0)) };
  }
  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  const next = c.timeline.find((e) => e.at_ns > last.at_ns && e.phase !== last.phase);
  const end = next?.at_ns ?? c.duration_ns;
  return { phase: first.phase, durationNs: Math.min(MAX_NS, end - first.at_ns) };
}

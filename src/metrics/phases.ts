import type { MeasureEvent } from '../record/events.js';
import type { Phase } from '../record/summary.js';
import type { CompiledTimelineEntry } from '../scenario/compiled.js';

/** Name of the phase before a timeline whose first entry is later than 0 s. */
export const PHASE_BEFORE = 'main';

/**
 * The phases of a run of `durationNs` from the compiled timeline (entries at or after
 * the end are dropped; a phase named twice is two periods of the same phase). Without a
 * timeline the whole run is phase `main`.
 */
export function phasesOf(timeline: CompiledTimelineEntry[], durationNs: number): Phase[] {
  const entries = timeline.filter((e) => e.at_ns < durationNs).sort((a, b) => a.at_ns - b.at_ns);
  const phases: Phase[] = [];
  if (entries.length === 0 || entries[0]!.at_ns > 0) {
    phases.push({ name: PHASE_BEFORE, start: 0, end: entries[0]?.at_ns ?? durationNs });
  }
  entries.forEach((e, i) => {
    phases.push({ name: e.phase, start: e.at_ns, end: entries[i + 1]?.at_ns ?? durationNs });
  });
  return phases.filter((p) => p.end > p.start);
}

/**
 * The planned phases with each boundary moved to when its policies were really handed to
 * the core (the `phase` events a live run records). A timer fires late (about a
 * millisecond, more on a loaded machine), and a bulk workload finishes a 64 KB transfer
 * every half millisecond on a fast link: judged by the plan, the first transfers of a
 * throttled phase ran before the throttle and made its goodput read 2-7 times the policed
 * rate. A boundary only ever moves later, never past the next one; phases with no recorded
 * event (virtual time, a run killed first) keep their plan.
 */
export function phasesAsApplied(planned: Phase[], events: Iterable<MeasureEvent>): Phase[] {
  const applied: { phase: string; t: number }[] = [];
  for (const e of events) if (e.ev === 'phase') applied.push(e);
  const phases = planned.map((p) => ({ ...p }));
  let from = 0;
  for (let i = 1; i < phases.length; i++) {
    const p = phases[i]!;
    const j = applied.findIndex((e, k) => k >= from && e.phase === p.name && e.t >= p.start);
    if (j < 0) continue;
    from = j + 1;
    const start = Math.min(applied[j]!.t, p.end);
    p.start = start;
    phases[i - 1]!.end = start;
  }
  return phases;
}

/**
 * The phase in force at `t`; the last phase extends past the run's end (messages sent
 * then are attributed to it), and times before 0 belong to the first.
 */
export function phaseAt(phases: Phase[], t: number): string {
  for (let i = phases.length - 1; i >= 0; i--) if (t >= phases[i]!.start) return phases[i]!.name;
  return phases[0]?.name ?? PHASE_BEFORE;
}

/** Distinct phase names in order of first appearance. */
export function phaseNames(phases: Phase[]): string[] {
  return [...new Set(phases.map((p) => p.name))];
}

/** Total time covered by a phase name, clipped to [from, to). */
export function phaseTime(phases: Phase[], name: string | null, from: number, to: number): number {
  let total = 0;
  for (const p of phases) {
    if (name !== null && p.name !== name) continue;
    total += Math.max(0, Math.min(p.end, to) - Math.max(p.start, from));
  }
  return total;
}

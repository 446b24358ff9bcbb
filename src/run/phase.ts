/**
 * `--phase NAME`: a scenario started at one of its phases, with that phase's policies in
 * force from the first packet. The timeline from the phase on is kept and shifted to
 * start at 0, so is each workload's start and stop (one already running keeps its message
 * schedule: see nextTick); workloads that would have ended
 * before the phase are dropped, and so are the expectations that can no longer be
 * measured (about a dropped workload, or `during` a phase the run no longer has).
 *
 * Flows then open under the policy, as they do for a censor's users, instead of being
 * caught mid-connection by a switch: this is the calibrated short form the library's
 * regression test runs.
 */
import { UsageError } from '../errors.js';
import type {
  CompiledConfig,
  CompiledExpectation,
  CompiledWorkload,
} from '../scenario/compiled.js';
import { didYouMean } from '../scenario/suggest.js';
import { intervalNs } from '../scenario/budget.js';

/** The phase of a scenario without a timeline. */
const MAIN = 'main';

export interface PhaseStart {
  compiled: CompiledConfig;
  /** Where the phase began in the original timeline. */
  offsetNs: number;
  /** Expectations left out, with why. */
  skipped: { text: string; why: string }[];
}

export function phaseNames(c: CompiledConfig): string[] {
  return c.timeline.length === 0 ? [MAIN] : [...new Set(c.timeline.map((e) => e.phase))];
}

/**
 * Where a workload already running at the phase's start sends its next message of the
 * full run, from the phase's start: its messages keep their instants relative to the
 * timeline, so one the scenario keeps off a later switch (a message leaving as a block
 * begins races it) stays off it in the short form too.
 */
function nextTick(w: CompiledWorkload, offset: number): number {
  const interval = intervalNs(w);
  const since = (offset - w.start_ns) % interval;
  return since === 0 ? 0 : interval - since;
}

export function startAtPhase(c: CompiledConfig, phase: string): PhaseStart {
  const names = phaseNames(c);
  if (!names.includes(phase)) {
    throw new UsageError(
      `scenario '${c.name}' has no phase '${phase}'${didYouMean(phase, names)} (phases: ${names.join(', ')})`,
    );
  }
  if (c.timeline.length === 0) return { compiled: c, offsetNs: 0, skipped: [] };

  const first = c.timeline.findIndex((e) => e.phase === phase);
  const offset = c.timeline[first]!.at_ns;
  const entry = c.timeline[first]!;
  const timeline = [
    // Everything in force at the phase, switched on at once.
    { ...entry, at_ns: 0, enable: [...entry.active], disable: [] },
    ...c.timeline.slice(first + 1).map((e) => ({ ...e, at_ns: e.at_ns - offset })),
  ];
  const duration = Math.max(c.duration_ns - offset, 1);
  const workloads = c.workloads
    .filter((w) => w.stop_ns > offset)
    .map((w) => ({
      ...w,
      start_ns: w.start_ns >= offset ? w.start_ns - offset : nextTick(w, offset),
      stop_ns: Math.min(w.stop_ns - offset, duration),
    }));
  const kept = new Set(workloads.map((w) => w.name));
  const phases = new Set(timeline.map((e) => e.phase));
  const skipped: PhaseStart['skipped'] = [];
  const expectations: CompiledExpectation[] = [];
  for (const e of c.expect) {
    if (!kept.has(e.workload)) {
      skipped.push({ text: e.text, why: `'${e.workload}' ends before phase '${phase}'` });
    } else if (e.phase !== null && !phases.has(e.phase)) {
      skipped.push({ text: e.text, why: `phase '${e.phase}' comes before '${phase}'` });
    } else {
      expectations.push(e);
    }
  }
  return {
    compiled: { ...c, duration_ns: duration, timeline, workloads, expect: expectations },
    offsetNs: offset,
    skipped,
  };
}

/**
 * A run's verdict from its events: the numbers, each expectation's outcome, the status and
 * the exit code. `qoslab run` and `qoslab report` both use it, so a report re-rendered
 * later says exactly what the run said.
 */
import { ExitCode } from '../errors.js';
import type { AgentFaultEvent, MeasureEvent } from '../record/events.js';
import type { FlowLine, FlowsSummary } from '../record/flows.js';
import type {
  ExpectationResult,
  InstrumentStats,
  PacingStats,
  Phase,
  RunStatus,
  WorkloadStats,
} from '../record/summary.js';
import type { CompiledConfig, CompiledExpectation } from '../scenario/compiled.js';
import { checkExpectations } from './expect.js';
import { summarizeFlows } from './flows.js';
import {
  absorbableShare,
  instrumentStats,
  stallsIn,
  stallText,
  stallWindows,
  toleranceNs,
  verdictStallsCannotMove,
  type StallWindow,
} from './instrument.js';
import { measuresVoice } from '../scenario/protocols/index.js';
import { phasesAsApplied } from './phases.js';
import { pooled, summarize } from './summarize.js';

export interface VerdictInput {
  compiled: Pick<CompiledConfig, 'workloads' | 'expect' | 'duration_ns'> &
    Partial<Pick<CompiledConfig, 'timeline' | 'classes'>>;
  /** As planned; the verdict moves each boundary to when the run applied it. */
  phases: Phase[];
  events: MeasureEvent[];
  /** flows.ndjson's lines; absent for a run that metered no flows (older runs). */
  flows?: FlowLine[];
  /** ns since t0 until the run stopped watching (end of drain, or the interruption). */
  observedNs: number;
  interrupted: boolean;
  /** --allow-unjudged: a run that judged nothing is no failure (exit 0, not 5). */
  allowUnjudged?: boolean;
}

export interface Verdict {
  status: RunStatus;
  exitCode: number;
  /** observedNs, or earlier: the moment the first agent was last seen alive. */
  observedNs: number;
  faults: AgentFaultEvent[];
  /** The phases as the run applied them (what every number was judged by). */
  phases: Phase[];
  workloads: WorkloadStats[];
  /** What the core metered of the run's flows (absent when it metered none). */
  flows: FlowsSummary | undefined;
  expectations: ExpectationResult[];
  /** The run completed, no expectation failed, and something was judged (or may not be). */
  ok: boolean;
  /** There were expectations and none was judged (all not reached or not measured). */
  unjudged: boolean;
  /** The instrument's own stalls. */
  instrument: InstrumentStats;
  /** What the run should say about how it measured: stalls and agent limits that cost expectations. */
  notes: string[];
}

/** When the first agent stopped being alive, or null. */
export function faultsOf(events: MeasureEvent[]): AgentFaultEvent[] {
  return events.filter((e): e is AgentFaultEvent => e.ev === 'agent');
}

/** Metrics an agent that fell behind its plan makes its own (src/metrics/pacing.ts). */
const PACE_BOUND = (metric: string) => metric === 'goodput' || metric.startsWith('latency.');

/** What a call's media alone decides. */
const CALL_METRICS = new Set(['mos', 'loss', 'jitter']);

const secs = (ns: number) => `${+(ns / 1e9).toFixed(2)} s`;

interface Unjudged {
  outcome: 'not measured' | 'not reached';
  cause: string;
}

/** Everything an expectation's outcome depends on besides its value. */
interface Context {
  input: VerdictInput;
  phases: Phase[];
  workloads: WorkloadStats[];
  faults: AgentFaultEvent[];
  deadFrom: number | null;
  observedNs: number;
  stalls: StallWindow[];
  /** Per workload, when its media could begin (ns since t0): its first connection or message. */
  firstMedia: Map<string, number>;
}

/** Why `e` cannot be judged, if it cannot: in the order a reader would look for it. */
function whyUnjudged(
  e: CompiledExpectation,
  measured: number | null,
  periods: Phase[],
  ctx: Context,
): Unjudged | undefined {
  const { input, deadFrom, observedNs } = ctx;
  const phase = e.phase === null ? 'the run' : `phase '${e.phase}'`;
  if (periods.length === 0) {
    const at = input.compiled.timeline?.find((t) => t.phase === e.phase)?.at_ns;
    return {
      outcome: 'not reached',
      cause: `the run ended at ${secs(input.compiled.duration_ns)}, before ${phase}${at === undefined ? '' : ` (from ${secs(at)})`}`,
    };
  }
  if (deadFrom !== null && periods.some((p) => p.end > deadFrom)) {
    const f = ctx.faults.find((x) => x.t === deadFrom) ?? ctx.faults[0]!;
    return { outcome: 'not measured', cause: f.detail };
  }
  if (input.interrupted && periods.every((p) => p.start >= observedNs)) {
    return {
      outcome: 'not reached',
      cause: `the run was interrupted at ${secs(observedNs)}, before ${phase}`,
    };
  }
  if (input.interrupted && periods.some((p) => p.end > observedNs)) {
    return {
      outcome: 'not measured',
      cause: `the run was interrupted at ${secs(observedNs)}, during ${phase}`,
    };
  }
  const w = input.compiled.workloads.find((x) => x.name === e.workload);
  // A message of the scope may be in flight until its deadline after the scope's end.
  const reach = w?.deadline_ns ?? 0;
  // A call's quality is made by its media: stalls while it was still being set up (the
  // run's own start-up, before the first frame) cost its set-up time, not its MOS or loss.
  const media =
    w !== undefined && CALL_METRICS.has(e.metric) && measuresVoice(w.protocol)
      ? (ctx.firstMedia.get(w.name) ?? Infinity)
      : 0;
  const windows = periods.map((p) => ({
    start: Math.max(p.start, Math.min(media, p.end)),
    end: Math.min(p.end + reach, observedNs),
  }));
  const scopeNs = periods.reduce(
    (n, p) => n + Math.max(0, Math.min(p.end, observedNs) - p.start),
    0,
  );
  const tolerance = toleranceNs(e, w, scopeNs);
  const hit = stallsIn(ctx.stalls, windows, tolerance);
  // Stalls that cover more than it absorbs cost it, unless they could not have made its verdict.
  if (
    hit.total > absorbableShare(e) * hit.window &&
    !verdictStallsCannotMove(e, measured, hit.window > 0 ? hit.total / hit.window : 1)
  ) {
    return {
      outcome: 'not measured',
      cause: `${stallText(hit.stalls)} (this expectation tolerates ${toleranceText(tolerance)})`,
    };
  }
  const stats = ctx.workloads.find((x) => x.name === e.workload);
  const pacing = stats === undefined ? undefined : pooled(stats, e.phase)?.scope.pacing;
  if (PACE_BOUND(e.metric) && pacing?.agent_limited) {
    return { outcome: 'not measured', cause: agentLimitedText(e.workload, pacing) };
  }
  return undefined;
}

function toleranceText(ns: number): string {
  return ns >= 1e9 ? secs(ns) : `${+(ns / 1e6).toFixed(1)} ms`;
}

function agentLimitedText(workload: string, p: PacingStats): string {
  if (p.sent === 0) {
    return `${workload} was agent-limited: its agents sent none of its ${p.planned} planned messages`;
  }
  const pct = (n: number) => `${((n / p.planned) * 100).toFixed(1)} %`;
  const late = p.on_time < p.sent ? `, ${p.on_time} on time (${pct(p.on_time)})` : '';
  return `${workload} was agent-limited: its agents sent ${p.sent} of ${p.planned} planned messages (${pct(p.sent)})${late}`;
}

export function judgeRun(input: VerdictInput): Verdict {
  const faults = faultsOf(input.events);
  const deadFrom = faults.length > 0 ? Math.min(...faults.map((f) => f.t)) : null;
  const observedNs = deadFrom === null ? input.observedNs : Math.min(input.observedNs, deadFrom);
  const phases = phasesAsApplied(input.phases, input.events);
  const workloads = summarize({
    events: input.events,
    workloads: input.compiled.workloads,
    phases,
    observedEnd: observedNs,
  });
  const flows =
    input.flows === undefined
      ? undefined
      : summarizeFlows({
          lines: input.flows,
          phases,
          observedEnd: observedNs,
          workloads: input.compiled.workloads,
          classes: (input.compiled.classes ?? []).map((c) => c.name),
        });
  const stalls = stallWindows(input.events).filter((x) => x.start < observedNs);
  const firstMedia = new Map<string, number>();
  for (const e of input.events) {
    // A call's media flows once it connected (webrtc) or its first frame came (udp-voice).
    if (e.ev !== 'recv' && e.ev !== 'connect') continue;
    if (e.t < (firstMedia.get(e.w) ?? Infinity)) firstMedia.set(e.w, e.t);
  }
  const ctx: Context = {
    input,
    phases,
    workloads,
    faults,
    deadFrom,
    observedNs,
    stalls,
    firstMedia,
  };
  const whole: Phase[] = [{ name: '', start: 0, end: input.compiled.duration_ns }];
  const measured = checkExpectations(input.compiled.expect, workloads, flows);
  const expectations = measured.map((r, i): ExpectationResult => {
    const e = input.compiled.expect[i]!;
    const periods = r.phase === null ? whole : phases.filter((p) => p.name === r.phase);
    const why = whyUnjudged(e, r.measured, periods, ctx);
    return why === undefined
      ? { ...r, cause: null }
      : { ...r, outcome: why.outcome, ok: false, cause: why.cause };
  });
  const failed = expectations.some((r) => r.outcome === 'fail');
  const unjudged =
    expectations.length > 0 &&
    expectations.every((r) => r.outcome === 'not measured' || r.outcome === 'not reached');
  // A fault that came before an interruption still failed the run; one after it is the
  // orchestrator stopping the agents.
  const status: RunStatus =
    deadFrom !== null && !(input.interrupted && deadFrom >= input.observedNs)
      ? 'failed'
      : input.interrupted
        ? 'interrupted'
        : 'completed';
  const exitCode =
    status === 'failed'
      ? ExitCode.runFailed
      : status === 'interrupted'
        ? ExitCode.interrupted
        : failed
          ? ExitCode.expectFailed
          : unjudged && input.allowUnjudged !== true
            ? ExitCode.unjudged
            : ExitCode.ok;
  return {
    status,
    exitCode,
    observedNs,
    faults,
    phases,
    workloads,
    flows,
    expectations,
    ok: status === 'completed' && exitCode === ExitCode.ok,
    unjudged,
    instrument: instrumentStats(stalls),
    notes: notesOf(expectations, workloads),
  };
}

/**
 * The stalls and agent limits that cost expectations, once each: "the lab stalled 2.25 s
 * at 4.1 s: 3 expectations over that time are not measured".
 */
function notesOf(expectations: ExpectationResult[], workloads: WorkloadStats[]): string[] {
  const counts = new Map<string, number>();
  for (const r of expectations) {
    if (r.outcome !== 'not measured' || r.cause === null || r.cause === undefined) continue;
    if (!/stalled|agent-limited/.test(r.cause)) continue;
    const key = r.cause.replace(/ \(this expectation tolerates [^)]*\)$/, '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const notes = [...counts].map(
    ([cause, n]) =>
      `${cause}: ${n} expectation${n === 1 ? '' : 's'} over that time ${n === 1 ? 'is' : 'are'} not measured`,
  );
  for (const w of workloads) {
    for (const s of w.scopes) {
      const p = s.pacing;
      if (p === null || !p.agent_limited || s.phase === null) continue;
      const text = agentLimitedText(w.name, p);
      if (![...counts.keys()].some((k) => k === text))
        notes.push(`${text} during ${s.phase}: its goodput and latency there are not measured`);
    }
  }
  return notes;
}

/**
 * A run's verdict from its events: the numbers, each expectation's outcome, the status and
 * the exit code. `qoslab run` and `qoslab report` both use it, so a report re-rendered
 * later says exactly what the run said.
 */
import { ExitCode } from '../errors.js';
import type { AgentFaultEvent, MeasureEvent } from '../record/events.js';
import type { FlowLine, FlowsSummary } from '../record/flows.js';
import type { ExpectationResult, Phase, RunStatus, WorkloadStats } from '../record/summary.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { checkExpectations } from './expect.js';
import { summarizeFlows } from './flows.js';
import { phasesAsApplied } from './phases.js';
import { summarize } from './summarize.js';

export interface VerdictInput {
  compiled: Pick<CompiledConfig, 'workloads' | 'expect' | 'duration_ns'> & {
    classes?: CompiledConfig['classes'];
  };
  /** As planned; the verdict moves each boundary to when the run applied it. */
  phases: Phase[];
  events: MeasureEvent[];
  /** flows.ndjson's lines; absent for a run that metered no flows (older runs). */
  flows?: FlowLine[];
  /** ns since t0 until the run stopped watching (end of drain, or the interruption). */
  observedNs: number;
  interrupted: boolean;
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
  /** The run completed and no expectation failed. */
  ok: boolean;
}

/** When the first agent stopped being alive, or null. */
export function faultsOf(events: MeasureEvent[]): AgentFaultEvent[] {
  return events.filter((e): e is AgentFaultEvent => e.ev === 'agent');
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
  const whole: Phase[] = [{ name: '', start: 0, end: input.compiled.duration_ns }];
  const measured = checkExpectations(input.compiled.expect, workloads, flows);
  const expectations = measured.map((r): ExpectationResult => {
    const periods = r.phase === null ? whole : phases.filter((p) => p.name === r.phase);
    const outcome =
      periods.length === 0
        ? 'not reached'
        : deadFrom !== null && periods.some((p) => p.end > deadFrom)
          ? 'not measured'
          : input.interrupted && periods.every((p) => p.start >= observedNs)
            ? 'not reached'
            : input.interrupted && periods.some((p) => p.end > observedNs)
              ? 'not measured'
              : r.outcome;
    return { ...r, outcome, ok: outcome === 'ok' };
  });
  const failed = expectations.some((r) => r.outcome === 'fail');
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
    ok: status === 'completed' && !failed,
  };
}

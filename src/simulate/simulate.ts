/**
 * `qoslab simulate`: the scenario's workloads run by the twin (native/core/src/drive/twin/)
 * through the core's pipeline in virtual time, then judged exactly as a run is: the same
 * events, the same metrics (src/metrics/), the same expectations, labelled simulated.
 * Deterministic for the scenario's seed and the congestion control; needs no privileges.
 */
import { readFileSync } from 'node:fs';
import { judgeRun } from '../metrics/verdict.js';
import { phasesOf } from '../metrics/phases.js';
import { simulate as simulateNative, type ShapingCounters } from '../native/index.js';
import { scenarioRejection } from '../native/rejected.js';
import type { ExpectationResult, Phase, WorkloadStats } from '../record/summary.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import type { TraceSet } from '../scenario/files.js';
import { checkPacketBudget, MAX_SIMULATED_PACKETS } from './budget.js';
import { leftOutOfTwin } from '../scenario/protocols/index.js';
import { planFor, type TcpCongestionControl } from './plan.js';
import { unmodelled } from './unmodelled.js';

export interface SimulationReport {
  scenario: string;
  durationNs: number;
  /** The congestion control the twin's TCP ran (the lab's namespaces take the host's). */
  tcp: TcpCongestionControl;
  phases: Phase[];
  /** The lab's summary shape (record/summary.ts), from the twin's events. */
  workloads: WorkloadStats[];
  /** The scenario's expectations judged on the simulated numbers. */
  expectations: ExpectationResult[];
  /** Per workload: what the twin does not model of it. */
  unmodelled: Record<string, string[]>;
  /** Packets the twin's endpoints sent, and the core's counters after the run. */
  packets: number;
  counters: ShapingCounters;
}

/**
 * The congestion control a lab on this machine runs with: its namespaces inherit the
 * host's default. CUBIC (Linux's default) when it cannot be read or is another module.
 */
export function hostCongestionControl(): TcpCongestionControl {
  try {
    const cc = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
    return cc === 'bbr' ? 'bbr' : 'cubic';
  } catch {
    return 'cubic';
  }
}

/**
 * The congestion control a scenario pins (`network.tcp-congestion`) as the twin models it,
 * with where it came from; undefined when the scenario keeps the host's. Reno has no model
 * of its own: it is loss-based and fills a queue as CUBIC does, so the twin runs CUBIC.
 */
export function scenarioCongestionControl(
  config: CompiledConfig,
): { tcp: TcpCongestionControl; source: string } | undefined {
  const cc = config.network.tcp_congestion;
  if (cc === null) return undefined;
  if (cc === 'reno') {
    return { tcp: 'cubic', source: "the scenario's reno, modelled as CUBIC: loss-based both" };
  }
  return { tcp: cc, source: "the scenario's network.tcp-congestion" };
}

/** `traces`: the trace files the scenario names, read and checked (scenario/files.ts). */
export function simulateScenario(
  config: CompiledConfig,
  tcp: TcpCongestionControl,
  traces: TraceSet = {},
): SimulationReport {
  checkPacketBudget(config, traces);
  const plan = { ...planFor(config, tcp), max_packets: MAX_SIMULATED_PACKETS, traces };
  let result;
  try {
    result = simulateNative(config, plan);
  } catch (error) {
    throw scenarioRejection(error);
  }
  const verdict = judgeRun({
    compiled: config,
    phases: phasesOf(config.timeline, config.duration_ns),
    events: result.events,
    observedNs: plan.until_ns!,
    interrupted: false,
  });
  return {
    scenario: config.name,
    durationNs: config.duration_ns,
    tcp,
    phases: verdict.phases,
    workloads: verdict.workloads,
    // On a workload the twin left out (lookups, a command's programs), nothing was simulated: an
    // expectation there is not measured, not failed.
    expectations: verdict.expectations.map((e, i) => {
      const w = config.workloads.find((x) => x.name === config.expect[i]?.workload);
      return w !== undefined && leftOutOfTwin(w)
        ? { ...e, outcome: 'not measured' as const, ok: false }
        : e;
    }),
    unmodelled: Object.fromEntries(config.workloads.map((w) => [w.name, unmodelled(config, w)])),
    packets: result.packets,
    counters: result.counters,
  };
}

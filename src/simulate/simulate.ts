import type { CompiledConfig } from '../scenario/compiled.js';
import type { TraceSet } from '../scenario/files.js';
import { simulate as simulateNative } from '../native/index.js';
import { scenarioRejection } from '../native/rejected.js';
import { checkPacketBudget, MAX_SIMULATED_PACKETS } from './budget.js';
import { summarise, type SimRow } from './report.js';
import { trafficFor } from './traffic.js';

export interface SimulationReport {
  scenario: string;
  durationNs: number;
  rows: SimRow[];
  /** The core's counters after the simulated run (per class, policy, action, link). */
  counters: unknown;
}

/**
 * `qoslab simulate`: the scenario's policies and links in the core's virtual-time driver
 * over synthetic traffic shaped like its workloads. Deterministic for the scenario's
 * seed; needs no privileges and no lab.
 */
export function simulateScenario(config: CompiledConfig, traces: TraceSet = {}): SimulationReport {
  const traffic = trafficFor(config);
  checkPacketBudget(config, traffic);
  let result;
  try {
    result = simulateNative(config, { ...traffic, max_packets: MAX_SIMULATED_PACKETS, traces });
  } catch (error) {
    throw scenarioRejection(error);
  }
  return {
    scenario: config.name,
    durationNs: config.duration_ns,
    rows: summarise(config, traffic.flows, result.packets),
    counters: result.counters,
  };
}

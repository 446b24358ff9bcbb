/**
 * How much `simulate` may do. The twin keeps an event per message and per transfer until
 * the summary (the run budget, scenario/budget.ts, bounds the messages at validate) and
 * spends its time per packet, so a plan whose packets are past MAX_SIMULATED_PACKETS is
 * refused before simulating, with the limit named: a bulk transfer simulated for two
 * hours would take minutes and its transfers gigabytes. The estimate is an upper bound of
 * what the endpoints send (data and ACKs); the core also stops at the same budget
 * (`max_packets`) should they ever send more.
 */
import { UsageError } from '../errors.js';
import { plannedMessages } from '../scenario/budget.js';
import type { CompiledConfig, CompiledWorkload } from '../scenario/compiled.js';
import type { TraceSet } from '../scenario/files.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';
import { LAB_RATE_BPS } from './plan.js';

export const MAX_SIMULATED_PACKETS = 2_000_000;

/** A full segment's payload, and a TSO super-packet's (what a flow nothing shapes sends). */
const SEGMENT_BYTES = 1448;
const SUPER_PACKET_BYTES = 45 * SEGMENT_BYTES;
/** A connection's set-up and the ACKs around its opening: a generous count. */
const SETUP_PACKETS = 40;

/**
 * The mean rate of a mahimahi trace (`[ms, count, ...]`: an MTU-sized opportunity per
 * count, the trace repeating after its last millisecond); undefined when not read.
 */
function traceRate(traces: TraceSet, file: string | null): number | undefined {
  const runs = file === null ? undefined : traces[file];
  if (runs === undefined || runs.length < 2) return undefined;
  let opportunities = 0;
  for (let i = 1; i < runs.length; i += 2) opportunities += runs[i]!;
  const periodS = Math.max(1, runs[runs.length - 2]!) / 1e3;
  return (opportunities * 1500 * 8) / periodS;
}

/** Packets the twin's endpoints send for a workload, at most (about). */
export function plannedPackets(
  config: CompiledConfig,
  w: CompiledWorkload,
  traces: TraceSet = {},
): number {
  const span = Math.max(0, Math.min(w.stop_ns, config.duration_ns) - w.start_ns) / 1e9;
  const p = PROTOCOLS[w.protocol];
  if (p.traffic === 'window') {
    // As fast as its path lets: the link of its direction, else the lab's own path.
    const link = w.direction === 'up' ? config.network.uplink : config.network.downlink;
    const shaped = link.rate_bps !== null || link.trace_file !== null;
    const rate = Math.min(
      link.rate_bps ?? traceRate(traces, link.trace_file) ?? LAB_RATE_BPS,
      LAB_RATE_BPS,
    );
    const bytes = (rate / 8) * span * w.connections;
    // Data packets and an ACK for every second one (one per super-packet unshaped).
    const data = bytes / (shaped ? SEGMENT_BYTES : SUPER_PACKET_BYTES);
    return Math.ceil(data * (shaped ? 1.5 : 2)) + SETUP_PACKETS * w.connections;
  }
  // Messages, frames, RTP: each message's segments and their ACKs.
  const each = Math.ceil(Math.max(w.size_bytes, 32) / SEGMENT_BYTES) + 1;
  const messages =
    p.traffic === 'rtp' ? span * 50 * 2 * w.connections : plannedMessages(w, config.duration_ns);
  return messages * each + SETUP_PACKETS * w.connections;
}

const count = (n: number) => (n >= 1e15 ? n.toExponential(1) : n.toLocaleString('en-US'));

/** UsageError (exit 2) naming the budget when the plan's packets are past it. */
export function checkPacketBudget(config: CompiledConfig, traces: TraceSet = {}): void {
  const counts = config.workloads.map((w) => plannedPackets(config, w, traces));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= MAX_SIMULATED_PACKETS) return;
  const top = counts.indexOf(Math.max(...counts));
  throw new UsageError(
    `${config.name}: the simulation would send about ${count(total)} packets, more than simulate does ` +
      `(at most ${count(MAX_SIMULATED_PACKETS)}: each costs time, each message and transfer memory); ` +
      `'${config.workloads[top]!.name}' alone ${count(counts[top]!)} in ${(config.duration_ns / 1e9).toFixed(1)} s`,
    ['simulate a shorter time with --duration, or send less often'],
  );
}

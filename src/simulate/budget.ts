/**
 * How many packets `simulate` may generate. The core records every one (and returns it
 * for the per-phase tables), about 200 bytes in all, so the count is the memory: a
 * workload sending every nanosecond grew `simulate` past 4 GB until it was killed. The
 * count is known before simulating (the traffic is a plan); the core also stops at the
 * same budget (`max_packets`) should it ever generate more.
 */
import { UsageError } from '../errors.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import type { SimFlow, SimTrafficSpec } from './traffic.js';

export const MAX_SIMULATED_PACKETS = 2_000_000;

/** Packets the core generates for a flow (native/core/src/drive/sim.rs `Gen::packet`). */
export function flowPackets(f: SimFlow, untilNs: number): number {
  const within = (t: number) => t < f.stop_ns && t <= untilNs;
  // TCP opens with a SYN, SYN-ACK and ACK, a microsecond apart.
  const handshake =
    f.proto === 'tcp' ? [0, 1, 2].filter((k) => within(f.start_ns + k * 1000)).length : 0;
  const interval =
    f.rate_bps !== undefined ? Math.ceil((f.size_bytes * 8e9) / f.rate_bps) : f.interval_ns!;
  const first = f.start_ns + (f.proto === 'tcp' ? 3000 : 0);
  const last = Math.min(f.stop_ns - 1, untilNs);
  const each = last < first ? 0 : Math.floor((last - first) / Math.max(1, interval)) + 1;
  return handshake + each * (f.direction === 'both' ? 2 : 1);
}

/** UsageError (exit 2) naming the budget when the traffic is larger. */
export function checkPacketBudget(config: CompiledConfig, traffic: SimTrafficSpec): void {
  const counts = traffic.flows.map((f) => flowPackets(f, traffic.until_ns));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= MAX_SIMULATED_PACKETS) return;
  const top = counts.indexOf(Math.max(...counts));
  throw new UsageError(
    `${config.name}: the simulation would generate ${total.toLocaleString('en-US')} packets, more than simulate holds ` +
      `(at most ${MAX_SIMULATED_PACKETS.toLocaleString('en-US')}: each is recorded); '${traffic.flows[top]!.name}' alone ` +
      `${counts[top]!.toLocaleString('en-US')} in ${(traffic.until_ns / 1e9).toFixed(1)} s`,
    ['simulate a shorter time with --duration, or send less often'],
  );
}

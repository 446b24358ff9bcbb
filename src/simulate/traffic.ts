import type { CompiledConfig, CompiledWorkload } from '../scenario/compiled.js';
import { CLIENT } from '../addresses.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';

/**
 * Synthetic traffic shaped like a scenario's workloads, for the core's virtual-time
 * driver, from each protocol's traits: a constant stream per message workload (QUIC
 * datagrams opening with an Initial, or a TCP stream opening with a ClientHello), voice
 * frames at the frame interval (opening with a STUN binding request, as calls do), and
 * for bulk a stream at the rate one TCP window per round trip would reach. The simulator
 * has no TCP congestion control, so bulk is an upper bound of what a real transfer sees,
 * not a prediction of it. A media stack's RTP (webrtc) is not modelled yet: it goes as the
 * message stream of its signalling connection.
 */

/** One generated flow, in the format of the core's `simulate` (native/core/src/drive/sim.rs). */
export interface SimFlow {
  name: string;
  proto: 'tcp' | 'udp';
  client: string;
  server: string;
  start_ns: number;
  stop_ns: number;
  interval_ns?: number;
  rate_bps?: number;
  size_bytes: number;
  direction: 'up' | 'down' | 'both';
  first_payload?: { tls_sni: string } | { stun: true } | { quic_version: number; tls_sni?: string };
}

export interface SimTrafficSpec {
  until_ns: number;
  flows: SimFlow[];
}

/** The TCP receive window bulk transfers are assumed to run with. */
export const BULK_WINDOW_BYTES = 64 * 1024;
/** Segment size of bulk transfers (MSS at MTU 1500 with timestamps). */
export const BULK_SEGMENT_BYTES = 1448;
/**
 * Bulk rate when neither the link nor the round trip limits it. Every simulated packet is
 * reported back to JavaScript, so this bounds the work: 20 Mbit/s is ~1,700 packets/s.
 */
export const BULK_UNLIMITED_BPS = 20e6;

function bulkRate(config: CompiledConfig, direction: CompiledWorkload['direction']): number {
  const { uplink, downlink } = config.network;
  const rttNs = uplink.delay_ns + downlink.delay_ns;
  const windowRate = rttNs > 0 ? (BULK_WINDOW_BYTES * 8 * 1e9) / rttNs : BULK_UNLIMITED_BPS;
  const link = direction === 'up' ? uplink : downlink;
  return Math.min(windowRate, link.rate_bps ?? BULK_UNLIMITED_BPS, BULK_UNLIMITED_BPS);
}

function flowFor(config: CompiledConfig, w: CompiledWorkload, index: number): SimFlow {
  const base = {
    name: w.name,
    client: `${CLIENT.v4}:${40000 + index}`,
    server: `${w.address}:${w.port}`,
    start_ns: w.start_ns,
    stop_ns: Math.min(w.stop_ns, config.duration_ns),
  };
  const p = PROTOCOLS[w.protocol];
  if (p.traffic === 'frames') {
    return {
      ...base,
      proto: 'udp',
      interval_ns: w.frame_ns ?? 20e6,
      size_bytes: w.size_bytes,
      direction: 'both',
      first_payload: { stun: true },
    };
  }
  if (p.traffic === 'messages' && p.transport === 'quic') {
    // A QUIC v1 Initial first, encrypted and carrying a ClientHello for the host's name
    // (what QUIC classifiers decrypt and read), then full-size datagrams.
    return {
      ...base,
      proto: 'udp',
      interval_ns: w.interval_ns ?? 1e9,
      size_bytes: Math.max(w.size_bytes, 1200),
      direction: w.direction,
      first_payload: { quic_version: 1, tls_sni: w.server_name },
    };
  }
  const tls = w.tls ? { first_payload: { tls_sni: w.server_name } } : {};
  if (p.traffic === 'window') {
    const direction = w.direction === 'up' ? 'up' : 'down';
    return {
      ...base,
      ...tls,
      proto: 'tcp',
      rate_bps: Math.max(1, Math.round(bulkRate(config, direction))),
      size_bytes: BULK_SEGMENT_BYTES,
      direction,
    };
  }
  // Messages over TCP, and for now `rtp` too (see above).
  const pace =
    w.rate_bps !== null ? { rate_bps: w.rate_bps } : { interval_ns: w.interval_ns ?? 1e9 };
  return {
    ...base,
    ...tls,
    ...pace,
    proto: 'tcp',
    size_bytes: w.size_bytes,
    direction: w.direction,
  };
}

export function trafficFor(config: CompiledConfig): SimTrafficSpec {
  return {
    until_ns: config.duration_ns,
    flows: config.workloads.map((w, i) => flowFor(config, w, i)),
  };
}

/**
 * What a run writes of the flows the core metered (flows.ndjson) and the numbers the
 * summary makes of them. Times are ns since the run's t0 (the core's pipeline times
 * converted), like events.ndjson. One line per JSON object, `ev` saying which:
 *
 * - `open`: a flow was first seen: its 5-tuple and the workload its endpoints belong to.
 * - `sample`: what one flow did in (`from`, `t`]: differences of the core's cumulative
 *   counters between two snapshots (about one a second, and one at each phase change,
 *   so no sample spans two phases).
 * - `flow`: a flow's final record (when it left the flow table, or at the run's end):
 *   everything the core knows of it, cumulative.
 */
import type { FlowDirection, FlowRecord } from '../native/index.js';

export type { FlowDirection, FlowRecord };

export interface FlowOpenLine {
  ev: 'open';
  id: number;
  t: number;
  proto: FlowRecord['proto'];
  client: string;
  client_port: number;
  server: string;
  server_port: number;
  opened_by: FlowRecord['opened_by'];
  /** Its classes as known then (classification may still go on; the `flow` line has the final ones). */
  classes: string[];
  /** The workload whose endpoints (host, port) the flow goes to; null: none, or several. */
  workload: string | null;
  /** Every workload whose endpoints match (several share a host's TLS port). */
  workloads: string[];
  /** The scenario host whose address the server side has; null: none. */
  host: string | null;
}

/** One direction of a sample: what changed over the interval. */
export interface FlowSampleDirection {
  /** Packets and IP bytes that left the lab toward the receiver. */
  packets: number;
  bytes: number;
  goodput_bytes: number;
  /** Packets the lab dropped, by reason (reasons that dropped none are left out). */
  drops: Record<string, number>;
  retransmits: number;
  rtt_n: number;
  rtt_sum_ns: number;
  stalls: number;
  rtp_expected: number;
  rtp_lost: number;
}

export interface FlowSampleLine {
  ev: 'sample';
  id: number;
  from: number;
  t: number;
  up: FlowSampleDirection;
  down: FlowSampleDirection;
}

/** A flow's final record: the core's, its times on the run's clock, and its attribution. */
export interface FlowEndLine extends Omit<FlowRecord, 'live'> {
  ev: 'flow';
  /** The run ended with the flow still in the table (false: it ended before). */
  live: boolean;
  workload: string | null;
  workloads: string[];
  host: string | null;
}

export type FlowLine = FlowOpenLine | FlowSampleLine | FlowEndLine;

/** Percentiles of one kind of handshake time, ns. */
export interface HandshakeStats {
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

/** What the flows of one group (a workload, a class) did in one scope. */
export interface FlowScopeStats {
  /** The phase; null for the whole run. */
  phase: string | null;
  /** Flows first seen in the scope. */
  opened: number;
  /** Payload delivered per direction over the scope's observed time, bits/s; `both` adds them. */
  goodput_bps: { up: number; down: number; both: number } | null;
  goodput_bytes: { up: number; down: number };
  /** TCP handshake as the opener lives it (SYN in → SYN/ACK out), of flows opened in the scope. */
  tcp_handshake: HandshakeStats;
  /** TLS ClientHello → the opener's first application data, of ClientHellos sent in the scope. */
  tls_handshake: HandshakeStats;
  /** QUIC Initial → the opener's first 1-RTT packet. */
  quic_handshake: HandshakeStats;
  /** Mean of the RTT samples taken in the scope (both directions' senders), ns. */
  rtt_mean_ns: number | null;
  rtt_samples: number;
  retransmits: number;
  /** Stalls that began in the scope. */
  stalls: number;
  /** RSTs by who sent them, of flows whose RST came in the scope. */
  resets: { client: number; server: number; lab: number };
  /** RTP packets expected and lost at the receivers (RFC 3550), and lost / expected. */
  rtp: { expected: number; lost: number; loss: number | null } | null;
  /** Packets the lab dropped, by reason. */
  drops: Record<string, number>;
}

export interface FlowGroupStats {
  /** A workload's or a class's name. */
  name: string;
  scopes: FlowScopeStats[];
}

/** summary.json's `flows`: per workload and per class, per phase and over the run. */
export interface FlowsSummary {
  /** Flows seen in all. */
  count: number;
  workloads: FlowGroupStats[];
  classes: FlowGroupStats[];
  /** Flows no workload's endpoints claim (a command's other peers, DNS, anything else). */
  unattributed: FlowGroupStats;
}

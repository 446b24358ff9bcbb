/**
 * The events agents stream to the orchestrator (one JSON object per stdout line) and the
 * orchestrator writes to events.ndjson. Times (`t`, `sent`) are ns since the run's start
 * instant `t0` on CLOCK_MONOTONIC, which both namespaces share, so `t - sent` of a
 * received message is its exact one-way latency.
 */

/** `up`: client → server; `down`: server → client. */
export type Dir = 'up' | 'down';

/** A message (or voice frame, or bulk object) was created by the sending application. */
export interface SendEvent {
  ev: 'send';
  /** Workload name. */
  w: string;
  dir: Dir;
  /** Connection index (0 .. connections-1). */
  c: number;
  seq: number;
  t: number;
  bytes: number;
}

/** A message arrived at the receiving application. */
export interface RecvEvent {
  ev: 'recv';
  w: string;
  dir: Dir;
  c: number;
  seq: number;
  t: number;
  /** Its send time, carried in the message itself. */
  sent: number;
  bytes: number;
}

/** A client connection became usable (TCP, TLS and any protocol handshake done). */
export interface ConnectEvent {
  ev: 'connect';
  w: string;
  c: number;
  t: number;
  /** From the connection attempt to the TCP handshake's end. */
  connect_ns: number;
  /** TLS handshake (after TCP); null without TLS. */
  tls_ns: number | null;
  /**
   * The name lookup at the start of `connect_ns` (through the lab's resolver); absent or
   * null when the connection was opened by address, or its stack does not say.
   */
  dns_ns?: number | null;
  /** A connection after the first one of this workload connection. */
  reconnect: boolean;
  /**
   * http3: the protocol the connection used, `h3`, or `h2` after falling back to TCP.
   * webrtc: the ICE path the call took (`udp host`, `udp relay`…); `connect_ns` is then the
   * time from placing the call to connected (ICE and DTLS done).
   */
  proto?: string;
  /** http3 over QUIC: the QUIC version (Chromium is told to offer only this one). */
  quic_version?: string;
  /**
   * Workloads with a session (keepalive, reconnect, fallback): the transport of the chain
   * it connected over (`tcp-framed:5222`, `http3:443`, `direct`, `turn-tcp:443`).
   */
  transport?: string;
  /**
   * The time the user waited: from the start of this dial (the workload's start, or the
   * moment the last connection was given up) to usable — failed attempts, backoff, other
   * transports and the login included. For a call, from placing it to connected.
   */
  setup_ns?: number;
  /** The login's round trips after the transport connected; null without a login. */
  login_ns?: number | null;
  /**
   * A reconnect: from the last sign of life of the connection before (its last frame
   * received) to this one usable — the outage as the user lived it, detection included.
   * Null for the first connection.
   */
  recover_ns?: number | null;
}

/**
 * A connection attempt failed (`connect`), an established connection ended (`io`), or a
 * call could not be placed over any transport of its chain (`setup`: the user saw the
 * call fail).
 */
export interface FailEvent {
  ev: 'fail';
  w: string;
  c: number;
  t: number;
  stage: 'connect' | 'io' | 'setup';
  error: string;
  /** bulk downloads: bytes of the object received before the transfer failed. */
  bytes?: number;
  /** `setup`: how long the user waited for the call before the app gave up placing it. */
  setup_ns?: number;
}

/**
 * webrtc: what one stack's getStats() counted for one direction of a call over the last
 * sampling interval [from, t]. The receiver of a direction reports `recv` (its
 * inbound-rtp), the sender `send` (its outbound-rtp and the peer's receiver report).
 * Counters are deltas over the interval; jitter, RTT and target bitrate are the values
 * at `t`.
 */
export interface RtcEvent {
  ev: 'rtc';
  w: string;
  c: number;
  dir: Dir;
  side: 'send' | 'recv';
  /** Start of the interval (ns since t0); `t` is its end. */
  from: number;
  t: number;
  /** `audio` or `video`. */
  kind: string;
  /** send: RTP packets sent. */
  packets_sent?: number;
  /** send: target bitrate of the encoder, bits/s (null when the stack does not say). */
  target_bitrate_bps?: number | null;
  /** send: round-trip time from RTCP receiver reports, s (null before the first one). */
  rtt_s?: number | null;
  /** recv: RTP packets received, lost (RFC 3550 cumulative-loss delta) and discarded late. */
  packets_received?: number;
  packets_lost?: number;
  packets_discarded?: number;
  bytes_received?: number;
  /** recv: RFC 3550 interarrival jitter at `t`, s. */
  jitter_s?: number;
  /** recv, audio: samples played, of them concealed, and concealment events (NetEq). */
  total_samples?: number;
  concealed_samples?: number;
  concealment_events?: number;
  /** recv: jitter-buffer delay summed over emitted samples (s) and their count. */
  jitter_buffer_delay_s?: number;
  jitter_buffer_emitted?: number;
  /**
   * recv, video: frames decoded and dropped; Chromium's freezes (a frame later than
   * max(3 x the mean frame interval, mean + 150 ms)) and seconds frozen, both counted when
   * the freeze ends.
   */
  frames_decoded?: number;
  frames_dropped?: number;
  freeze_count?: number;
  freeze_s?: number;
}

/**
 * The client gave up a connection that had not closed: its keepalive went unanswered, a
 * message went unacknowledged past the send timeout, or (calls) no media came.
 */
export interface DetectEvent {
  ev: 'detect';
  w: string;
  c: number;
  t: number;
  cause: 'keepalive' | 'send-timeout' | 'media';
  /** How long nothing had arrived on the connection. */
  silent_ns: number;
  /** The transport it was on. */
  transport: string;
}

/** A message is written again (on a new connection); `attempt` counts resends from 1. */
export interface RetryEvent {
  ev: 'retry';
  w: string;
  dir: Dir;
  c: number;
  seq: number;
  t: number;
  attempt: number;
}

/** The app gave up on a message (too old, or resent too often): failed for the user. */
export interface GiveupEvent {
  ev: 'giveup';
  w: string;
  dir: Dir;
  c: number;
  seq: number;
  t: number;
  /** Writes before it was given up. */
  attempts: number;
}

/** The orchestrator: a timeline phase began. */
export interface PhaseEvent {
  ev: 'phase';
  phase: string;
  t: number;
}

/**
 * The orchestrator: an agent stopped taking part before the run ended — it exited (crash,
 * kill) or went silent (stopped, hung). From `t` on nothing is measured: the summary judges
 * only what was observed before, and the run's status is `failed`.
 */
export interface AgentFaultEvent {
  ev: 'agent';
  role: 'server' | 'client';
  state: 'exited' | 'stalled';
  /** When the agent was last alive (ns since t0). */
  t: number;
  /** Exit code, or null (killed by a signal, or still there but silent). */
  code: number | null;
  signal: string | null;
  /** The sentence shown on the terminal. */
  detail: string;
  /** Set when it was a `command` workload's program that died, not the agent of `role`. */
  workload?: string;
}

/**
 * The orchestrator: a program of a `command` workload started, became ready (servers), was
 * stopped by qoslab, or exited by itself. `t` may be negative: servers start before t0.
 */
export interface CommandEvent {
  ev: 'program';
  w: string;
  role: 'server' | 'client';
  state: 'started' | 'ready' | 'stopped' | 'exited';
  t: number;
  pid: number | null;
  code?: number | null;
  signal?: string | null;
}

/**
 * The lab itself was late, not the network: the core's forwarding thread was not served
 * (a stopped process, a starved CPU: native/core/src/drive/stall.rs) or the
 * orchestrator's event loop ran late. Packets waited in the TUN queues meanwhile.
 */
export interface LabStallEvent {
  ev: 'lab_stall';
  source: 'core' | 'orchestrator';
  /** When the stall began (ns since t0); it lasted `dur_ns`. */
  t: number;
  dur_ns: number;
}

/**
 * An agent's event loop ran late: what it received meanwhile was stamped late, what it
 * should have sent left late (src/workloads/lag.ts).
 */
export interface AgentLagEvent {
  ev: 'agent_lag';
  role: 'server' | 'client';
  t: number;
  dur_ns: number;
}

/**
 * The orchestrator: one exchange the lab's resolver had (a query and what it answered,
 * or `none` when it sent nothing). Not a message of any workload: what the censor's
 * resolver did, beside what the workloads measured.
 */
export interface DnsEvent {
  ev: 'dns';
  t: number;
  /** udp, tcp, tls (DoT) or https (DoH). */
  transport: string;
  /** The querying address. */
  client: string;
  name: string;
  type: string;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, or `none` (no reply sent). */
  rcode: string;
  /** A/AAAA addresses answered. */
  answers: string[];
  /** The resolver rule that decided, if any. */
  rule: string | null;
}

/** An agent's heartbeat while it runs (not written to events.ndjson). */
export interface AliveEvent {
  ev: 'alive';
  role: 'server' | 'client';
  t: number;
}

/** An agent has bound its servers / loaded its clients and waits for `start`. */
export interface ReadyEvent {
  ev: 'ready';
  role: 'server' | 'client';
}

/** Something an agent wants a person to see (not a measurement). */
export interface LogEvent {
  ev: 'log';
  role: 'server' | 'client';
  t: number;
  msg: string;
}

/** What events.ndjson holds. */
export type MeasureEvent =
  | SendEvent
  | RecvEvent
  | ConnectEvent
  | FailEvent
  | DetectEvent
  | RetryEvent
  | GiveupEvent
  | RtcEvent
  | PhaseEvent
  | AgentFaultEvent
  | CommandEvent
  | LabStallEvent
  | AgentLagEvent
  | DnsEvent;
export type AgentEvent = MeasureEvent | ReadyEvent | LogEvent | AliveEvent;

/**
 * The exit code of an agent whose browser (a workload's real client or server stack)
 * died during the run: the orchestrator reports it as a fault of that stack.
 */
export const BROWSER_DIED_EXIT = 70;

/** Commands the orchestrator writes to an agent's stdin, one JSON object per line. */
export type AgentCommand =
  { cmd: 'start'; /** t0: CLOCK_MONOTONIC ns as a decimal string. */ t0: string } | { cmd: 'stop' };

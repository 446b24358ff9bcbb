/**
 * The records a run leaves on disk (summary.json) and the numbers inside them. This is a
 * bottom module: metrics computes these shapes, run writes them, report reads them, and
 * none of those layers has to import another to know what a summary is.
 */
import type { CompiledExpectation } from '../scenario/compiled.js';
import type { AgentFaultEvent, Dir } from './events.js';
import type { FlowsSummary } from './flows.js';

/** A phase of the run: [start, end) in ns since t0. */
export interface Phase {
  name: string;
  start: number;
  end: number;
}

/** Latency percentiles in ns; null when nothing was measured. */
export interface LatencyStats {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface VoiceStats {
  /** Frames that never arrived / frames sent (counted ones). */
  loss: number;
  /** Frames that arrived after their playout instant / frames counted. */
  late_loss: number;
  /** RFC 3550 interarrival jitter at the end of the stream, ns; null: fewer than two frames arrived. */
  jitter_ns: number | null;
  /** Mouth-to-ear delay used for the E-model: base one-way + jitter buffer + one frame; null: nothing arrived. */
  mouth_to_ear_ns: number | null;
  r: number;
  mos: number;
  /** The codec's Ie/Bpl source. */
  codec_source: string;
}

/**
 * webrtc: one media kind of one direction as the two stacks' getStats() counted it
 * (receiver: inbound-rtp; sender: outbound-rtp and the RTT of its receiver reports).
 */
export interface RtcStats {
  packets_sent: number;
  packets_received: number;
  /** RFC 3550 cumulative loss as the receiver counted it. */
  packets_lost: number;
  /** Arrived too late for the jitter buffer and dropped. */
  packets_discarded: number;
  /** packets_lost / (packets_received + packets_lost); null when nothing was expected. */
  loss: number | null;
  /** Mean of the receiver's RFC 3550 jitter over the samples, ns. */
  jitter_ns: number | null;
  /** Mean round-trip time from RTCP, ns. */
  rtt_ns: number | null;
  /** Audio: samples played, of them concealed (NetEq expand), and concealment events. */
  total_samples: number;
  concealed_samples: number;
  concealment_events: number;
  /** concealed_samples / total_samples. */
  concealed_ratio: number | null;
  /** Mean time a sample spent in the jitter buffer, ns. */
  jitter_buffer_delay_ns: number | null;
  /** Mean of the sender's target bitrate (bandwidth estimation's verdict), bits/s. */
  target_bitrate_bps: number | null;
  /** Video only (null for audio): what the receiver showed. */
  video: VideoFrameStats | null;
}

export interface VideoFrameStats {
  frames_decoded: number;
  frames_dropped: number;
  /**
   * Frames decoded per second of sampled receiving time: a picture that stopped reads 0
   * even while Chromium's freeze counters wait for the next frame to count the freeze.
   */
  frames_per_second: number | null;
  /** Chromium's freezes, counted in the interval where each ended, and time in them. */
  freeze_count: number;
  freeze_ns: number;
}

export interface DirectionStats {
  /** `both` pools the two directions. */
  dir: Dir | 'both';
  /** Messages created by the sender. */
  sent: number;
  /** Sent messages that are judged: delivered, or whose deadline passed before the run ended. */
  counted: number;
  /** Arrived within the deadline. */
  delivered: number;
  /** Arrived after the deadline. */
  late: number;
  /** Never arrived (and the deadline passed). */
  lost: number;
  /** delivered / counted; null when nothing was counted. */
  delivery: number | null;
  /** One-way latency of every arrived message (late ones too). */
  latency: LatencyStats;
  /** Bytes delivered within the deadline. */
  bytes: number;
  /**
   * bits/s of bytes delivered within the deadline over the workload's active time in the
   * scope that was actually observed; for bulk, over the time the objects spent in
   * transfer.
   */
  goodput_bps: number | null;
  /** udp-voice and webrtc (its audio). */
  voice: VoiceStats | null;
  /**
   * Workloads with an outbox: the judged messages the app gave up on (resent too often or
   * too old): failed for the user, which it was told.
   */
  gave_up?: number;
  /** webrtc only: the stacks' statistics of the audio and, in a video call, the video. */
  rtc?: { audio: RtcStats | null; video: RtcStats | null };
}

/**
 * How a paced workload kept its plan in a scope (src/metrics/pacing.ts): message k of a
 * stream is due k intervals after the stream's start.
 */
export interface PacingStats {
  /** Messages the plan had in the scope, over the time observed. */
  planned: number;
  sent: number;
  /** Sent within 100 ms of the planned time. */
  on_time: number;
  /**
   * Sent less than 99 % of the plan on time: the agent could not keep up, so the
   * workload's goodput and latency there are its agent's, not the network's (not measured).
   */
  agent_limited: boolean;
  /** How much later than planned messages left, ns; null when none was sent. */
  late_p99_ns: number | null;
  late_max_ns: number | null;
}

export interface ScopeStats {
  /** The phase; null for the whole run. */
  phase: string | null;
  directions: DirectionStats[];
  /** TCP connect times (ns) of connections opened in the scope. */
  connect: { count: number; p50: number | null; p99: number | null };
  /** TLS handshake times (ns). */
  tls: { count: number; p50: number | null; p99: number | null };
  /**
   * Name lookups of those connections (ns; part of the connect time): absent when no
   * connection looked its name up (a webrtc call, a connection by address).
   */
  dns?: { count: number; p50: number | null; p99: number | null };
  failures: number;
  reconnects: number;
  /**
   * Connections by the protocol they used, where a workload can use more than one: http3
   * counts `h3 RFCv1` (QUIC and its version) and `h2` (fell back to TCP). Absent for
   * workloads whose connections have one protocol only.
   */
  protocols?: Record<string, number>;
  /**
   * Bulk downloads that stalled (failed part way): how many, and the bytes of the object
   * received before each stalled — the "first 16 KB" of a freeze.
   */
  stalled: { count: number; p50_bytes: number | null; max_bytes: number | null };
  /** Null for workloads qoslab does not pace (bulk, webrtc). */
  pacing: PacingStats | null;
  /** Connection-oriented workloads (a session: keepalive, reconnect, fallback): what the user lived with. */
  session?: SessionStats;
}

/**
 * What the user of a connection-oriented workload lived with in a scope (src/metrics/session.ts).
 * A dial is one wait for a connection (a call: one placing of it): the workload's start,
 * or the loss of the connection before.
 */
export interface SessionStats {
  /**
   * Dials begun in the scope that connected or that the app gave up (calls, after their
   * whole fallback chain); set-up times (ns) of the connected ones, from the start of the
   * dial to usable: failed attempts, waits, fallbacks and the login included.
   */
  setup: {
    dials: number;
    connected: number;
    success: number | null;
    p50: number | null;
    p95: number | null;
    max: number | null;
  };
  /**
   * Connections lost in the scope (given up by the app, or closed), and of those that
   * came back, the time from the last sign of life to usable again (ns).
   */
  recover: { outages: number; count: number; p50: number | null; max: number | null };
  /** The share of the workload's observed time in the scope without a usable connection ("connecting…"). */
  connecting: number | null;
  /** Connections the app gave up on its own (keepalive, send timeout, no media). */
  detects: number;
  /** Messages written again. */
  retries: number;
  /** Messages given up (both directions). */
  gave_up: number;
  /** Connections made in the scope by the transport of the chain they used. */
  transports: Record<string, number>;
  /**
   * The transport in use when the scope ended and when that connection was made (ns since
   * t0); null when the app was connecting then (or had never connected).
   */
  ended_on: string | null;
  ended_at: number | null;
}

export interface WorkloadStats {
  name: string;
  protocol: string;
  /** The app profile the workload started from, and which of its traffic it is (`text`, `media`, `call`). */
  app?: string;
  use?: string;
  scopes: ScopeStats[];
}

/** What the packet capture wrote: packet records, those it lost (never forwarding's). */
export interface CaptureSummary {
  packets: number;
  lost: number;
  bytes: number;
  files: number;
  error: string | null;
}

/** Stalls of one part of the instrument over a run (src/metrics/instrument.ts). */
export interface LagStats {
  count: number;
  total_ns: number;
  /** The longest stall. */
  max_ns: number;
  /** Which part stalled, and when (ns since t0); null: none did. */
  longest: { who: string; start: number; end: number } | null;
  /** Per second of the run that had a stall (`s` from t0): the longest one and the time stalled in it. */
  per_second: { s: number; max_ns: number; total_ns: number }[];
}

/**
 * The instrument's own stalls, not the network's (1 ms and longer for the core, 5 ms and
 * longer for event loops): `lab_stall` the lab itself (the core's forwarding thread, the
 * orchestrator's loop), `agent_lag` the agents' loops.
 */
export interface InstrumentStats {
  lab_stall: LagStats;
  agent_lag: LagStats;
}

/**
 * `not measured`: its window includes time when an agent was not alive, so nothing there
 * says anything about the network. `not reached`: the run ended before its phase began
 * (a shorter `--duration`, an interruption).
 */
export type ExpectationOutcome = 'ok' | 'fail' | 'not measured' | 'not reached';

export interface ExpectationResult {
  text: string;
  /** outcome === 'ok'. */
  ok: boolean;
  outcome: ExpectationOutcome;
  /** The measured value in the expectation's unit (ratio, ns, bit/s, score, count); null: nothing measured. */
  measured: number | null;
  expected: number;
  op: CompiledExpectation['op'];
  kind: CompiledExpectation['kind'];
  phase: string | null;
  /**
   * Why it is `not measured` or `not reached`, in words: "the lab stalled 2.25 s at 4.1 s",
   * "the run ended at 15 s, before phase 'throttled' (from 20 s)"; null when judged.
   */
  cause?: string | null;
}

/**
 * `running` is only on disk while a run is under way; a run killed before it could write
 * its real summary leaves it, and `report` then calls the run `failed`.
 */
export type RunStatus = 'completed' | 'interrupted' | 'failed' | 'running';

export interface RunSummary {
  format: 1;
  qoslab: string;
  scenario: string;
  status: RunStatus;
  /**
   * 0 ok, 1 an expectation failed, 4 the run failed (an agent died), 5 nothing was judged,
   * 6 a resource of the instrument failed (disk full, results folder gone), 130 interrupted.
   */
  exit_code: number;
  started_at: string;
  finished_at: string;
  seed: number;
  /** Planned length of the run. */
  duration_ns: number;
  /**
   * ns from t0 until the agents stopped observing: the end of the run, the interruption,
   * or the moment an agent was last seen alive. Nothing later is measured.
   */
  observed_ns: number;
  /** Agents that died or went silent during the run (empty when all went well). */
  faults: AgentFaultEvent[];
  lab_id: string;
  phases: Phase[];
  workloads: WorkloadStats[];
  /**
   * What the core metered of every flow that crossed the lab, per workload (by the
   * endpoints its flows go to), class and phase; absent for runs that metered none.
   */
  flows?: FlowsSummary;
  /** The packet capture (capture.pcapng), when the run wrote one. */
  capture?: CaptureSummary;
  expectations: ExpectationResult[];
  /** True when every expectation held. */
  ok: boolean;
  /**
   * The expectations were all not reached or not measured (exit 5, unless the run was
   * started with --allow-unjudged, which `allow_unjudged` records).
   */
  unjudged?: boolean;
  allow_unjudged?: boolean;
  /** The instrument's own stalls (absent in summaries of older qoslab versions). */
  instrument?: InstrumentStats;
  /**
   * How the run measured, where it cost expectations: "the lab stalled 2.25 s at 4.1 s: 3
   * expectations over that time are not measured", a workload that was agent-limited.
   */
  notes?: string[];
  /**
   * What the run itself could not do: a results file it could not write (no space left,
   * the folder removed). Such a run exits 6, and says what it kept.
   */
  resource_faults?: string[];
  /**
   * Results files that miss data on disk although the run wrote them again from memory at
   * its end: summary.json is then all there is of the run (`report` will not recompute).
   */
  results_incomplete?: string[];
  warnings: string[];
  error: string | null;
}

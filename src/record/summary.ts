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
  /** webrtc only: the stacks' statistics of the audio and, in a video call, the video. */
  rtc?: { audio: RtcStats | null; video: RtcStats | null };
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
}

export interface WorkloadStats {
  name: string;
  protocol: string;
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
  /** 0 ok, 1 an expectation failed, 4 the run failed (an agent died), 130 interrupted. */
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
  warnings: string[];
  error: string | null;
}

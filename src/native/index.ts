/**
 * Typed wrapper over the native core (native/node, loaded by ./binding.ts).
 *
 * The boundary carries only strings and numbers: the lab configuration goes in as
 * JSON and the counters come back as JSON, so the hand-written N-API glue stays small.
 * Native errors arrive as JS errors whose `code` is one of NativeErrorCode and are
 * rethrown here as NativeError.
 */

import { loadBinding } from './binding.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import type { MeasureEvent } from '../record/events.js';

export { NativeMissingError } from './binding.js';

/** What the native core needs to open the two TUN devices and forward between them. */
export interface NativeLabConfig {
  /** TUN device on the client side, created in the caller's network namespace. */
  clientTun: string;
  /** TUN device on the server side. */
  serverTun: string;
  /** Link MTU; buffers are sized from it (and from 64 KiB super-packets with offload). */
  mtu: number;
  /** Open with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM|TSO4|TSO6) and pass GSO super-packets through. */
  offload: boolean;
  /** Destination prefixes a packet may have; anything else is dropped as `not-lab`. */
  labPrefixes: string[];
  /**
   * The compiled scenario. Without it the lab only forwards (the unimpaired fast path);
   * with it every packet goes through the shaping pipeline (classes, policies, links).
   * No policy is active until `NativeLab.setActive`.
   */
  scenario?: CompiledConfig;
  /**
   * The traces the scenario names, read and checked by src/scenario/files.ts, by the path
   * the compiled scenario carries: `[ms, count, ...]`. The core opens no scenario path.
   */
  traces?: Record<string, number[]>;
  /**
   * Meter every flow (default true; needs `scenario`). Off only to weigh what metering
   * costs (the bench).
   */
  flowMetrics?: boolean;
  /** Write a pcapng capture (needs `scenario`). */
  capture?: NativeCaptureConfig;
}

/**
 * A packet capture (native/core/src/drive/capture.rs): pcapng files with five interfaces
 * (up-in, up-out, down-in, down-out, dropped), written off the forwarding thread.
 */
export interface NativeCaptureConfig {
  /** The first file; later ones are `<stem>.<n>.pcapng` beside it. */
  path: string;
  /** Bytes kept of each packet (64..262144). */
  snaplen: number;
  /** A file's size at most (>= 4096); then the next file begins. */
  fileBytes: number;
  /** Files kept (the newest), 1..10000. */
  files: number;
  /** Capture only flows of these classes, or to these endpoints (both empty: all flows). */
  classes: string[];
  endpoints: { address: string; proto: 'tcp' | 'udp'; ports: [number, number] }[];
}

/** What the capture did. */
export interface CaptureCounters {
  /** Packet records handed to the writer. */
  packets: number;
  /** Packet records lost because the writer fell behind (forwarding never waits). */
  lost: number;
  bytes: number;
  files: number;
  /** Why the writer stopped writing (a full disk), if it did. */
  error: string | null;
}

/** Drops counted per direction, by reason. */
export interface DropCounters {
  /** Destination outside labPrefixes. */
  'not-lab': number;
  /** Not a parseable IPv4/IPv6 packet (or bad virtio-net header). */
  malformed: number;
  /** The write into the other TUN failed. */
  'write-error': number;
}

/**
 * One direction of the forwarder. Without a scenario, every packet read is counted
 * exactly once: `packets = forwarded + not-lab + malformed + write-error`.
 *
 * With a scenario, `packets`, `bytes`, `not-lab` and `malformed` still count what was
 * read, but `forwarded` and `write-error` count IP packets written in this direction
 * of travel: a super-packet that leaves whole counts as its segments, and RSTs forged by
 * `reset` count where they go. Over both directions `forwarded + write-error` then equals
 * `shaping.packets.emitted`, and every packet that entered the pipeline is emitted,
 * dropped by a reason, or in flight (see ShapingPackets).
 */
export interface DirectionCounters {
  /** Packets read from the TUN (a GSO super-packet counts once). */
  packets: number;
  /** IP bytes read (virtio-net header excluded). */
  bytes: number;
  /** Packets written to the other TUN. */
  forwarded: number;
  drops: DropCounters;
}

/**
 * How late the forwarding thread itself was served (native/core/src/drive/stall.rs): a
 * stop of the process or a starved CPU, not the network. Totals are cumulative since the
 * lab opened; a stall counts from a lateness of 1 ms.
 */
export interface StallTotals {
  total_ns: number;
  /** The longest single stall. */
  max_ns: number;
  /** Stalls recorded (`dropped` more were only added to the totals). */
  count: number;
  dropped: number;
}

/** The stalls since the last `stalls()` call: `[start, end)` on CLOCK_MONOTONIC, ns. */
export interface LabStalls extends StallTotals {
  episodes: [number, number][];
}

/** Packets dropped by the shaping path, by reason. */
export interface ShapingDrops {
  loss: number;
  police: number;
  /** The rate queue was full (droptail). */
  queue: number;
  codel: number;
  blackhole: number;
  'drop-after': number;
  /** Packets of a flow that was reset. */
  reset: number;
  /** A flow blocked for a while by an action's penalty. */
  penalty: number;
  /** DNS queries an in-path injector answered itself (`dns-inject` with `drop-query`). */
  'dns-inject': number;
  /** The pipeline held its maximum number of packets. */
  overflow: number;
  /** Unparseable at the shaping stage (or a super-packet that does not segment). */
  malformed: number;
}

/** Counters of one stage: a policy, an action, or a link. */
export interface StageCounters {
  packets: number;
  /** IP bytes. */
  bytes: number;
  drops: ShapingDrops;
  /**
   * Time packets waited in the stage: bucket 0 is under 1 µs, bucket i is
   * [2^(i-1), 2^i) µs, the last (31) is open-ended.
   */
  queue_delay_us_log2: number[];
}

/**
 * Packet conservation of the pipeline, in IP packets (a super-packet counts as its
 * segments): `entered + duplicated + injected = emitted + dropped + in_flight`.
 */
export interface ShapingPackets {
  entered: number;
  /** Copies made by `duplicate`. */
  duplicated: number;
  /** RSTs forged by `reset`. */
  injected: number;
  /** Written out (including bypassed ones). */
  emitted: number;
  dropped: number;
  /** Held by a delay, queue or action right now. */
  in_flight: number;
  /** Passed without entering the stages (no active action on the flow, transparent link). */
  bypassed: number;
}

/** The shaping core's counters (native/core/src/shape/stats.rs). */
export interface ShapingCounters {
  packets: ShapingPackets;
  drops: ShapingDrops;
  flows: { active: number; created: number; expired: number; evicted: number };
  /** Per class name: flows classified into it, and their packets and bytes. */
  classes: Record<string, { flows: number; packets: number; bytes: number }>;
  /** Per policy name. */
  policies: Record<string, StageCounters>;
  /** Every action of every policy, in the compiled order. */
  actions: (StageCounters & { policy: string; index: number; type: string })[];
  links: { uplink: StageCounters; downlink: StageCounters };
}

export interface LabCounters {
  /** client → server */
  up: DirectionCounters;
  /** server → client */
  down: DirectionCounters;
  /**
   * Both TUNs took UDP segmentation offload (Linux 6.2+, offload on): UDP GSO senders
   * cross as super-packets. False means one read and one write per datagram.
   */
  udpOffload: boolean;
  /** How late the forwarding thread was served, cumulative. */
  stall: StallTotals;
  /**
   * CPU time the forwarding thread has used since the lab opened, in ns, as the thread
   * reads its own CLOCK_THREAD_CPUTIME_ID after its work, at most once a millisecond
   * (kernel time of its TUN reads and writes included). Against packets and bytes: the
   * packet path's cost.
   */
  threadCpuNs: number;
  /** Present when the lab was opened with a scenario. */
  shaping?: ShapingCounters;
  /** Present when the lab captures packets. */
  capture?: CaptureCounters;
}

// ---- per-flow metrics (native/core/src/shape/meter/) -----------------------------------

/**
 * One direction of a flow, cumulative since its first packet. `_in` counts what entered
 * the lab (what the sender sent), `_out` what left it toward the receiver.
 */
export interface FlowDirection {
  packets_in: number;
  /** IP bytes as read (a GSO super-packet's headers count once). */
  bytes_in: number;
  packets_out: number;
  bytes_out: number;
  /** Payload delivered: UDP every datagram's, TCP each byte once however often sent. */
  goodput_bytes: number;
  /** The lab's drops of this direction, by reason (only reasons that dropped). */
  drops: Partial<Record<keyof ShapingDrops, number>>;
  /** TCP: data segments that started before the highest sequence sent (and their old bytes). */
  retransmits?: number;
  retransmit_bytes?: number;
  /**
   * TCP: round trips of this direction's data as its sender lives them (data entering →
   * the acknowledgement leaving toward the sender), one timed segment at a time, Karn's
   * rule applied.
   */
  rtt?: { n: number; sum_ns: number; min_ns: number; max_ns: number };
  /** TCP: data outstanding with no acknowledgement for the stall threshold (1 s). */
  stalls?: number;
  stalled_ns?: number;
  stalled?: boolean;
  /** TCP: when this direction's sender sent its first FIN / RST (pipeline ns). */
  fin_ns?: number | null;
  rst_ns?: number | null;
  /** RTP streams (by SSRC) of this direction, RFC 3550 receiver counts. */
  rtp?: FlowRtpStream[];
  /** RTP packets of SSRCs beyond the four followed. */
  rtp_other?: number;
}

export interface FlowRtpStream {
  ssrc: number;
  /** Entered the lab / left it toward the receiver. */
  sent: number;
  received: number;
  /** RFC 3550: extended highest sequence − first + 1, and expected − received. */
  expected: number;
  lost: number;
  /** Estimated clock rate (0: not yet known). */
  clock_hz: number;
  /** RFC 3550 interarrival jitter; null until the clock rate is known. */
  jitter_ns: number | null;
}

/** A flow's record in a snapshot. Times are ns on the pipeline's clock (see FlowSnapshot). */
export interface FlowRecord {
  /** Unique for the lab's lifetime. */
  id: number;
  proto: 'tcp' | 'udp' | 'icmp' | number;
  client: string;
  client_port: number;
  server: string;
  server_port: number;
  opened_by: 'client' | 'server';
  first_ns: number;
  last_ns: number;
  /** False: the flow left the flow table (idle, evicted); this is its final record. */
  live: boolean;
  classes: string[];
  /** Policies that applied to its packets, and actions (indices into ShapingCounters.actions). */
  policies: string[];
  actions: number[];
  up: FlowDirection;
  down: FlowDirection;
  /**
   * TCP: who sent the SYN and when; the opener's handshake (its SYN entering → the
   * SYN/ACK leaving toward it) and the accepter's (its SYN/ACK entering → the ACK
   * leaving toward it); the first RST the lab forged (`reset`).
   */
  tcp?: {
    syn_by: 'client' | 'server' | null;
    syn_ns: number | null;
    handshake_ns: number | null;
    accept_handshake_ns: number | null;
    lab_rst_ns: number | null;
  };
  /** TLS over TCP: ClientHello in, ServerHello out toward the opener, first application data in. */
  tls?: { client_hello_ns: number; server_hello_ns: number | null; app_data_ns: number | null };
  /** QUIC: the opener's first Initial in, its first 1-RTT packet in. */
  quic?: { initial_ns: number; one_rtt_ns: number | null };
}

/**
 * What the core measured of the flows that changed since the previous snapshot (every
 * live flow when asked for all), and the final records of flows that ended. Pipeline
 * time `t` is ns since the lab opened; `clock_base_ns` is CLOCK_MONOTONIC then, so
 * `clock_base_ns + t` is on the clock the agents and `process.hrtime` read.
 */
export interface FlowSnapshot {
  t: number;
  clock_base_ns: number;
  /** Ended flows whose final record was not kept (more than 65536 between snapshots). */
  lost_records: number;
  flows: FlowRecord[];
}

// ---- simulate(): the twin (native/core/src/drive/twin/) ---------------------------------

/**
 * One workload of the twin, as src/simulate/plan.ts writes it from the protocols' traits.
 * Every key is required (null where the doc says so); byte counts include TLS's own.
 */
export interface PlanWorkload {
  name: string;
  /** messages: paced each way over one connection; transfers: objects back to back; frames: voice frames over UDP; rtp: a WebRTC call. */
  kind: 'messages' | 'transfers' | 'frames' | 'rtp';
  transport: 'tcp' | 'udp' | 'quic';
  /** The client's address (its ports are ephemeral) and the server's `address:port` (IPv6 as `[addr]:port`), of one family. */
  client: string;
  server: string;
  start_ns: number;
  stop_ns: number;
  /** Between messages (frames: the frame interval); > 0. */
  interval_ns: number;
  size_bytes: number;
  up: boolean;
  down: boolean;
  connections: number;
  deadline_ns: number;
  /** The client's ClientHello: SNI and ALPN; null without TLS. */
  tls: { sni: string; alpn: string[] } | null;
  /** Without TLS, what the client's first bytes look like. */
  plain: 'http' | 'mqtt-connect' | 'random' | null;
  /** Request/response bytes after TLS before messages flow. */
  opening: [number, number][];
  /** Bytes around each message [up, down] and the receiver's answer to each [to up, to down]. */
  framing: [number, number];
  reply: [number, number];
  /** QUIC: the ClientHello spans two Initials. */
  split_hello: boolean;
  /** What the lab's stacks add to a message's one-way time (the row's `wire.stackNs`). */
  stack_ns: number;
  /** rtp: the TURN relay the client's media goes through (`address:port`), over UDP, TCP or TLS (its name). */
  relay: { server: string; transport: 'udp' | 'tcp' | 'tls'; tls_sni: string | null } | null;
}

/** What the twin runs: the workloads, Linux's TCP of the lab, the lab's own path. */
export interface SimulationPlan {
  /** Stop at this time (the run's length and its drain); default the scenario's duration. */
  until_ns?: number;
  /** Packets the endpoints may send at most; default 2 000 000; past it, an error. */
  max_packets?: number;
  /** The traces the scenario names, as in NativeLabConfig. */
  traces?: Record<string, number[]>;
  /** The lab's congestion control (its namespaces take the host's default). */
  tcp: 'cubic' | 'bbr';
  /** The lab's own path, each way: a fixed delay, and the rate it forwards at (null: unlimited). */
  lab_delay_ns: number;
  lab_rate_bps: number | null;
  workloads: PlanWorkload[];
}

export interface SimulationResult {
  /** The events the lab's agents would have written (src/record/events.ts), in time order. */
  events: MeasureEvent[];
  counters: ShapingCounters;
  /** Packets the endpoints sent. */
  packets: number;
}

export type NativeErrorCode =
  | 'QL_BAD_CONFIG'
  | 'QL_TUN_OPEN'
  | 'QL_TUN_CONFIG'
  | 'QL_THREAD'
  | 'QL_UNKNOWN_LAB'
  /** `setActive` named a policy the lab's scenario does not have (or it has none). */
  | 'QL_UNKNOWN_POLICY'
  | 'QL_PANIC'
  /** An argument of the wrong type reached the addon (a bug in this wrapper). */
  | 'QL_BAD_ARG'
  /** An N-API call itself failed (out of memory, a closing environment). */
  | 'QL_NAPI';

const NATIVE_ERROR_CODES: ReadonlySet<string> = new Set<NativeErrorCode>([
  'QL_BAD_CONFIG',
  'QL_TUN_OPEN',
  'QL_TUN_CONFIG',
  'QL_THREAD',
  'QL_UNKNOWN_LAB',
  'QL_UNKNOWN_POLICY',
  'QL_PANIC',
  'QL_BAD_ARG',
  'QL_NAPI',
]);

/** An error raised by the native core; `code` is stable, the message is for people. */
export class NativeError extends Error {
  readonly code: NativeErrorCode;

  constructor(code: NativeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeError';
    this.code = code;
  }
}

/** Re-raise an error thrown by the addon as a NativeError; anything else unchanged. */
function rethrow(error: unknown): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && NATIVE_ERROR_CODES.has(code)) {
    throw new NativeError(code as NativeErrorCode, error.message, { cause: error });
  }
  throw error;
}

/** Version of the native core (qoslab-core); throws NativeMissingError if it is not built. */
export function nativeVersion(): string {
  return loadBinding().version();
}

/**
 * Run a compiled scenario's workloads through the twin in virtual time: deterministic
 * for the scenario's seed, needs no privileges. Throws NativeError QL_BAD_CONFIG for a bad
 * scenario or plan.
 */
export function simulate(compiled: CompiledConfig, plan: SimulationPlan): SimulationResult {
  let json: string;
  try {
    json = loadBinding().simulate(JSON.stringify(compiled), JSON.stringify(plan));
  } catch (error) {
    rethrow(error);
  }
  return JSON.parse(json) as SimulationResult;
}

/**
 * Two TUN devices and the native thread forwarding between them. The devices exist from
 * `open` until `close` (or process exit): they are not persistent, so moving them into
 * other namespaces is fine and nothing is left behind.
 */
export class NativeLab {
  readonly id: number;
  #closed = false;

  private constructor(id: number) {
    this.id = id;
  }

  /** Create both TUNs in the caller's namespace and start forwarding. */
  static open(config: NativeLabConfig): NativeLab {
    return NativeLab.openJson(JSON.stringify(config));
  }

  /**
   * Like `open`, for a config that is already JSON (e.g. compiled from a scenario). The
   * core validates it, so a bad document is a NativeError QL_BAD_CONFIG, not a crash.
   */
  static openJson(configJson: string): NativeLab {
    const binding = loadBinding();
    try {
      return new NativeLab(binding.labOpen(configJson));
    } catch (error) {
      rethrow(error);
    }
  }

  /**
   * The forwarding thread's stalls since the last call (each is returned once), with
   * its totals; throws NativeError QL_UNKNOWN_LAB once closed.
   */
  stalls(): LabStalls {
    let json: string;
    try {
      json = loadBinding().labStalls(this.id);
    } catch (error) {
      rethrow(error);
    }
    return JSON.parse(json) as LabStalls;
  }

  /** A snapshot of the forwarding counters; throws NativeError QL_UNKNOWN_LAB once closed. */
  counters(): LabCounters {
    let json: string;
    try {
      json = loadBinding().labCounters(this.id);
    } catch (error) {
      rethrow(error);
    }
    return JSON.parse(json) as LabCounters;
  }

  /**
   * Per-flow metric snapshots taken since the last call, oldest first (none without a
   * scenario or with metering off). `all`: the new one lists every live flow.
   */
  flows(all = false): FlowSnapshot[] {
    let json: string;
    try {
      json = loadBinding().labFlows(this.id, all ? 1 : 0);
    } catch (error) {
      rethrow(error);
    }
    return JSON.parse(json) as FlowSnapshot[];
  }

  /**
   * Replace the set of active policies (names from the scenario); the forwarding thread
   * swaps it between two packets. Throws NativeError QL_UNKNOWN_POLICY for a name the
   * scenario does not have; a lab without a scenario accepts only the empty set.
   */
  setActive(names: string[]): void {
    try {
      loadBinding().labSetActive(this.id, JSON.stringify(names));
    } catch (error) {
      rethrow(error);
    }
  }

  /**
   * Stop forwarding and destroy both TUNs. Returns the flow snapshots the forwarding
   * thread left at its end (its final word on every live flow) and the capture's final
   * counters; nothing when already closed.
   */
  close(): { flows: FlowSnapshot[]; capture: CaptureCounters | null } {
    if (this.#closed) return { flows: [], capture: null };
    let json: string;
    try {
      json = loadBinding().labClose(this.id);
    } catch (error) {
      rethrow(error);
    }
    this.#closed = true;
    return JSON.parse(json) as { flows: FlowSnapshot[]; capture: CaptureCounters | null };
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/**
 * The compiled configuration: what the Rust core (and the orchestrator) receive for a
 * scenario. Plain JSON, every unit resolved, every name resolved, every default filled
 * in: a reader needs no knowledge of the scenario format.
 *
 * Conventions, for the Rust parser (`native/core`, a hand-written JSON reader):
 * - Keys are snake_case. Numbers are JSON numbers; all are integers except the
 *   probabilities (`f64` in 0..=1) and `CompiledExpectation.value`. Integers fit in 2^53.
 * - Units are in the key name: `_bps` bits per second, `_bytes` bytes, `_ns` nanoseconds.
 * - `null` means "not set" where the doc says so; no key is ever omitted.
 * - Tagged unions carry `"type"`, a kebab-case name (the core's action registry key).
 * - Lists keep the scenario's order unless the doc says otherwise; the output is
 *   deterministic (same scenario, same bytes).
 * - Directions: `up` is client→server, `down` is server→client.
 */
import type { CompiledAction } from './actions/index.js';
import type { Direction } from './fields.js';
import type { ProtocolKeys, ProtocolName } from './protocols/index.js';

export const COMPILED_FORMAT = 1;

export type { Direction };
/** An inclusive port range `[low, high]`, 1..=65535. Lists are sorted and merged. */
export type PortRange = [number, number];

export interface CompiledConfig {
  /** Format version of this object; bumped on any incompatible change. Always 1. */
  format: 1;
  /** Scenario name (the file's `name`, else its file name without extension). */
  name: string;
  /** Seed of every random stage (loss, jitter, probabilities); default 1. */
  seed: number;
  /** Length of the run in ns; default 60 s. */
  duration_ns: number;
  network: CompiledNetwork;
  /** Server-side hosts; the built-in `server` first, then the scenario's in its order. */
  hosts: CompiledHost[];
  /** Flow classes in the scenario's order. A flow is tested against every class (it may belong to several); the result is final after `inspect_packets`. */
  classes: CompiledClass[];
  /** Policies in the scenario's order; the core applies every active matching policy in this order. */
  policies: CompiledPolicy[];
  /** Instants at which the set of active policies changes; sorted by `at_ns`. */
  timeline: CompiledTimelineEntry[];
  /** For the orchestrator's workload agents; the core may ignore it. */
  workloads: CompiledWorkload[];
  /** For the orchestrator's checks after the run; the core may ignore it. */
  expect: CompiledExpectation[];
  /**
   * The scenario's packet capture, null without one (`run --pcap` captures with the
   * defaults). The core gets it in its lab configuration, not from here.
   */
  capture: CompiledCapture | null;
  /** The lab's resolver, for the orchestrator; the core may ignore it. */
  dns: CompiledDns;
}

export interface CompiledCapture {
  /** Bytes kept of each packet; default 2048 (headers and a ClientHello). */
  snaplen_bytes: number;
  /** A capture file's size at most; default 100 MB. */
  file_bytes: number;
  /** Files kept, the newest; default 5. */
  files: number;
  /** Only flows of these classes or to these workloads' endpoints; both empty: every flow. */
  classes: string[];
  workloads: string[];
}

/**
 * The lab's resolver (a process in the server namespace; both namespaces' resolv.conf
 * name it): where it listens, the names it answers, and the censor's rules.
 */
export interface CompiledDns {
  /** True: names resolve from a hosts file in each namespace, and no lookup goes on the wire. */
  hosts_file: boolean;
  resolver: {
    /** The built-in host `resolver` (198.19.0.53, fd71:6c61:6200:2::53; null without IPv6). */
    address: string;
    address6: string | null;
    /** Its DNS names: the SNI of DoT and DoH, its certificate's names. */
    names: string[];
    /** What it serves: `udp` and `tcp` on 53 (the default), `tls` (DoT) on 853, `https` (DoH, /dns-query) on 443. */
    transports: ('udp' | 'tcp' | 'tls' | 'https')[];
    /** Time it takes to answer any query (its recursion); 0 by default. */
    delay_ns: number;
    /** TTL of its answers, s. */
    ttl_s: number;
  };
  /** Every name it answers, sorted: the lab's (server.lab, client.lab), the hosts', `dns.records`. Others are NXDOMAIN. */
  zone: CompiledDnsRecord[];
  /** Rules in the scenario's order; the first in force whose `names` match a query answers it. */
  rules: CompiledDnsRule[];
}

export interface CompiledDnsRecord {
  /** Lowercased. */
  name: string;
  a: string[];
  aaaa: string[];
  /** An HTTPS record (RFC 9460, SvcPriority 1, target `.`); null: none. */
  https: { alpn: string[]; ech_public_name: string | null } | null;
}

export interface CompiledDnsRule {
  name: string;
  /** Lowercased globs over the queried name. */
  names: string[];
  /** Record types it applies to; null: every type. */
  types: ('A' | 'AAAA' | 'HTTPS')[] | null;
  /** Transports whose queries it applies to; null: all. */
  transports: ('udp' | 'tcp' | 'tls' | 'https')[] | null;
  /** `address`: the addresses below (an A query with none gets an empty answer). */
  answer: 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'empty' | 'address';
  a: string[];
  aaaa: string[];
  /** Added before the answer. */
  delay_ns: number;
}

export interface CompiledNetwork {
  /** Link MTU in bytes; default 1500. */
  mtu: number;
  /** Whether the lab has IPv6 too; default true. When false every `address6` is null. */
  ipv6: boolean;
  /** TCP congestion control set in both namespaces; null: the host's default (`host`). */
  tcp_congestion: 'reno' | 'cubic' | 'bbr' | null;
  /** Client→server link. */
  uplink: CompiledLink;
  /** Server→client link. */
  downlink: CompiledLink;
}

export interface CompiledLink {
  /** Bottleneck rate; null: unlimited (no rate queue), or the trace decides. */
  rate_bps: number | null;
  /** mahimahi delivery-opportunity trace (path as written, or resolved against the scenario's folder); null: none. Replaces rate. */
  trace_file: string | null;
  /** One-way base delay; 0 by default. */
  delay_ns: number;
  /** Delay jitter (uniform ±); 0 by default. */
  jitter_ns: number;
  /** Random loss probability 0..=1; 0 by default. */
  loss: number;
  /** Rate-queue limit in bytes; null if unlimited or limited in packets. */
  queue_bytes: number | null;
  /** Rate-queue limit in packets; null if unlimited or limited in bytes. */
  queue_packets: number | null;
  /** Queue discipline; default droptail. */
  aqm: 'droptail' | 'codel';
}

export interface CompiledHost {
  /** Host name from the scenario (`server` is the built-in lab server). */
  name: string;
  /** DNS names resolving to the host inside the lab, lowercased, as written order. */
  names: string[];
  /** IPv4 address: as given, else allocated from 198.19.1.1 upwards in host order (skipping taken ones). */
  address: string;
  /** IPv6 address: as given, else allocated from fd71:6c61:6200:2::101 upwards; null when ipv6 is false. */
  address6: string | null;
}

export interface CompiledClass {
  name: string;
  /** The class holds for a flow if ANY matcher holds. */
  any_of: CompiledMatcher[];
}

/**
 * A matcher holds if ALL its non-null conditions hold. Inside a condition the list
 * entries are alternatives (any one suffices).
 */
export interface CompiledMatcher {
  /** Globs over the TLS ClientHello (or QUIC Initial) SNI, lowercased; `*` matches any run of characters (also empty, also dots). Null: SNI not examined. */
  sni: string[] | null;
  /** Server address prefixes derived from `hosts` (each host's /32 and /128). Null: not examined. */
  hosts: string[] | null;
  /** Server address prefixes as written (`a.b.c.d/n`, IPv6 `/n`). Null: not examined. */
  cidr: string[] | null;
  /** The flow is TCP and its server port is in one of these ranges. Null: not examined. */
  tcp_ports: PortRange[] | null;
  /** The flow is UDP and its server port is in one of these ranges. Null: not examined. */
  udp_ports: PortRange[] | null;
  /** The flow's protocol is one of these. Null: any. */
  proto: ('tcp' | 'udp' | 'icmp')[] | null;
  /** The flow's first client datagram is a QUIC long-header Initial. Null: not examined. */
  quic: CompiledQuic | null;
  /** True: a packet of the flow is a STUN message (magic cookie 0x2112A442 at offset 4). False: not examined. */
  stun: boolean;
  /** Globs over the ClientHello's ALPN values (TCP or QUIC); one value matching one glob suffices. Null: not examined. */
  alpn: string[] | null;
  /** True: the ClientHello carries encrypted_client_hello (0xfe0d); false: it does not. Null: not examined. */
  ech: boolean | null;
  /** Globs over the ClientHello's JA4 fingerprint (FoxIO; `q` prefix for QUIC, `t` for TCP), lowercased. Null: not examined. */
  ja4: string[] | null;
  /** Byte rules and a size range over the transport payload of each examined packet. Null: not examined. */
  payload: CompiledPayload | null;
  /**
   * Payload packets per direction examined before a non-match is final; default 1. A match
   * is decided as soon as the conditions hold, and the policy's actions see packets from
   * that one on (the packet that completed the match included).
   */
  inspect_packets: number;
  /** `none`: a ClientHello split across TCP segments or QUIC Initials is not read (2021 TSPU throttler, the GFW's QUIC filter); `segments`: put together (a ClientHello over several Initials counts as one packet of the window). Default `none`, `segments` for matchers with `quic`. */
  reassembly: 'none' | 'segments';
  /** `client` (default): only flows opened by the client side are classified; `any`: both. */
  initiator: 'client' | 'any';
}

export interface CompiledPayload {
  /** All must hold: `(payload[offset..] & mask) == (hex & mask)`; mask null: all bits. Hex lowercased. */
  rules: { offset: number; hex: string; mask: string | null }[];
  /** Inclusive transport payload size bounds in bytes; null: open. */
  size_min_bytes: number | null;
  size_max_bytes: number | null;
}

export interface CompiledQuic {
  /** Required QUIC version (bytes 1..5 of the long header, big-endian), e.g. 1; null: any version. */
  version: number | null;
  /** Minimum UDP payload size in bytes; null: any size. */
  min_size_bytes: number | null;
}

export interface CompiledPolicy {
  name: string;
  /** Class names; the policy applies to flows of any of them. Empty: every flow. */
  classes: string[];
  /** Class names whose flows are exempt even if they match `classes` (allowlists). Empty: none. */
  except_classes: string[];
  /** While an exemption is undecided, payload packets are held up to this long for the verdict; null: they pass. */
  undecided_hold_ns: number | null;
  /** Only flows of this protocol; null: any. */
  proto: 'tcp' | 'udp' | 'icmp' | null;
  /** Packet direction the policy sees; default both. */
  direction: Direction;
  /** How long an idle classified flow keeps its state (and its policy); null: the core's flow idle timeout. */
  idle_timeout_ns: number | null;
  /** Applied in order to each packet that passes the previous ones. */
  actions: CompiledAction[];
}

/**
 * One action, as its file under ./actions/ compiles it (`type` and `direction` first, then
 * that action's keys); each file documents its keys.
 */
export type { CompiledAction };

export interface CompiledTimelineEntry {
  at_ns: number;
  phase: string;
  /** Policies switched on at this instant, as written. */
  enable: string[];
  /** Policies switched off at this instant, as written. */
  disable: string[];
  /** All policies in force from this instant on, in policy order: the core can just load this set. */
  active: string[];
  /** The resolver rules (`dns.rules`) in force from this instant on, in their order; the core ignores it. */
  dns_active: string[];
}

/**
 * One workload, for the agents. Defaults that differ per protocol are in that protocol's
 * file under ./protocols/ (and its keys, like udp-voice's `codec` and `frame_ns`, follow
 * the common ones, null on the workloads of other protocols).
 */
export type CompiledWorkload = CompiledWorkloadCommon & ProtocolKeys;

export interface CompiledWorkloadCommon {
  name: string;
  /** The host's name, with its addresses repeated so agents need no lookup. */
  host: string;
  /** First DNS name of the host (what TLS SNI and Host carry); the host name itself when it has none. */
  server_name: string;
  address: string;
  address6: string | null;
  protocol: ProtocolName;
  /** Server port; default per protocol. */
  port: number;
  /** Default per protocol. */
  tls: boolean;
  /** Interval between messages; null when `rate_bps` is set. Default 1 s, or the protocol's. */
  interval_ns: number | null;
  /** Offered load instead of an interval; null when `interval_ns` is set. */
  rate_bps: number | null;
  /** Message size (bulk: object size). Default 200 B, or the protocol's. */
  size_bytes: number;
  /** A message later than this counts as not delivered; default 5 s, or the protocol's. */
  deadline_ns: number;
  /** Default both, or the protocol's. */
  direction: Direction;
  /** Default 1. */
  connections: number;
  /** Default 0. */
  start_ns: number;
  /** Default the run's duration. */
  stop_ns: number;
  /** The app profile the workload started from (src/scenario/apps/), or null. */
  app: string | null;
  /** What of the app it is: `text`, `media` or `call`; null without `app`. */
  use: 'text' | 'media' | 'call' | null;
  /** Application keepalive; null: none (or a protocol without a connection to keep). */
  keepalive: CompiledKeepalive | null;
  /** Waits between connection attempts; null for protocols without a session. */
  reconnect: CompiledReconnect | null;
  /** A login after each connect; null: none. */
  login: CompiledLogin | null;
  /** Messages kept until acknowledged and resent; null: sent once. */
  outbox: CompiledOutbox | null;
  /** The workload's own transport, then those it falls back to; empty without a session. */
  transports: CompiledTransport[];
}

/** Pings that detect a frozen connection (src/scenario/session.ts). */
export interface CompiledKeepalive {
  /** A ping every interval. */
  interval_ns: number;
  /** A ping unanswered this long has failed. */
  timeout_ns: number;
  /** At a failed ping, the connection is given up when nothing arrived for this long (0: at once). */
  fail_after_ns: number;
}

/**
 * The waits between attempts after a connection is lost: `first` before the first
 * attempt, then after the n-th failed one (n = 1, 2, ...) min(cap, initial × factor^(n-1)
 * + step × (n-1)); `jitter` of each is random.
 */
export interface CompiledReconnect {
  first_ns: number;
  initial_ns: number;
  factor: number;
  step_ns: number;
  cap_ns: number;
  /** 0..=1: the share of each wait taken off at random (seeded). */
  jitter: number;
}

/** After each connect, before messages flow. */
export interface CompiledLogin {
  round_trips: number;
  /** Bytes each way over all round trips. */
  bytes: number;
}

export interface CompiledOutbox {
  /** A message unacknowledged this long: the connection is dead (reconnect, resend); null: never. */
  timeout_ns: number | null;
  /** Resends of one message before it is given up; null: no limit. */
  retries: number | null;
  /** Given up when unacknowledged this long after it was first written; null: never. */
  give_up_ns: number | null;
}

/** One transport of a workload's fallback chain. */
export interface CompiledTransport {
  /** How events and tables name it: `tcp-framed:5222`, `http3:443`, `direct`, `turn-tcp:443`. */
  label: string;
  protocol: ProtocolName;
  port: number;
  tls: boolean;
  /** The transport before is given up after this long without connecting (calls: media); null for the first. */
  after_ns: number | null;
  /** Calls: the TURN host relaying this attempt (null: direct), and how it is reached. */
  turn: string | null;
  turn_transport: 'udp' | 'tcp' | 'tls' | null;
  turn_port: number | null;
  turn_address: string | null;
  turn_server_name: string | null;
}

export interface CompiledExpectation {
  /** The line as written. */
  text: string;
  workload: string;
  /** One of delivery, latency.p50|p90|p95|p99|max, goodput, connect.p50, tls.p50, loss, jitter, mos, reconnects, stall.bytes. */
  metric: string;
  op: '<' | '<=' | '>' | '>=' | '==';
  /** In the metric's unit: `kind` says which. */
  value: number;
  /** ratio 0..=1, duration ns, rate bits/s, score (MOS), count. */
  kind: 'ratio' | 'duration' | 'rate' | 'score' | 'count' | 'size' | 'fps';
  /** Null: over the whole run. */
  phase: string | null;
}

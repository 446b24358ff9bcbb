/**
 * What one workload protocol is, in one place: its default port and TLS, the keys only it
 * takes (udp-voice's `codec` and `frame`), the defaults it changes, the compiled keys it
 * adds, and its traits: the transport and shape of its traffic, what its workloads measure,
 * who sends its down-direction messages, the ports it claims. Each protocol lives in its
 * own file next to this one and is listed once in ./index.ts; the scenario schema, the
 * compiler and `CompiledWorkload` are derived from that list, and metrics, simulate,
 * report, expectations and references ask the traits, never the name. The agent that runs
 * a protocol is `src/workloads/<name>.ts`.
 */
import { z } from 'zod';
import type { Direction } from '../fields.js';
import type { ProgramName } from './programs.js';

/** The workload values every protocol has a default for; a protocol may change them. */
export interface WorkloadDefaults {
  /** Interval between messages when the workload gives neither `every` nor `rate`. */
  interval_ns: number;
  size_bytes: number;
  deadline_ns: number;
  direction: Direction;
}

export const COMMON_DEFAULTS: WorkloadDefaults = {
  interval_ns: 1e9,
  size_bytes: 200,
  deadline_ns: 5e9,
  direction: 'both',
};

/**
 * How a protocol uses its server port, so that workloads share one as real servers do
 * (../ports.ts): `http` is paths over h2 or http/1.1 chosen by ALPN, `alpn` is
 * connections of its own ALPN name (`alpn`) on a shared TLS port, `quic` is HTTP/3
 * datagrams and `edge` is HTTP, both served by the Caddy edge (which proxies HTTP, nothing
 * else), `own` means the protocol owns the port.
 */
export interface PortUse {
  transport: 'tcp' | 'udp';
  service: 'http' | 'alpn' | 'quic' | 'edge' | 'own';
  /** The ALPN name of an `alpn` service. */
  alpn?: string;
  /** TLS whatever the workload says (node's h2 and QUIC have no plain form). */
  tls?: true;
}

/**
 * Where a workload's flows go: an address, a transport and a port (null: any port of that
 * address, claimed only by flows no workload names the port of). The core meters every
 * flow; these attribute each to the workload it belongs to.
 */
export interface FlowEndpoint {
  address: string;
  transport: 'tcp' | 'udp';
  /** A port, an inclusive range, or null: any port. */
  port: number | [number, number] | null;
}

/** A compiled workload as `flowEndpoints` sees it: its host's addresses and every key. */
export type CompiledWorkloadView = { address: string; address6: string | null } & Readonly<
  Record<string, unknown>
>;

/** Who runs a protocol's workloads (see `ProtocolDefinition.agent`). */
export type Runner = boolean | 'orchestrator';

/**
 * How a protocol's client lives through a bad network (../session.ts): `messages`, a
 * connection that carries messages, with keepalive, reconnect, login, an outbox and a
 * chain of transports to fall back to; `call`, a call that is redialled and falls back
 * along its chain of relays. Protocols without one (datagrams, bulk) take none of those keys.
 */
export type SessionKind = 'messages' | 'call';
/** What one workload asks of one port of its host. */
export interface PortClaim {
  transport: 'tcp' | 'udp';
  port: number;
  tls: boolean;
  /** `http`, `quic`, `edge`, `alpn <name>` (see PortUse), or the name of a protocol that owns the port. */
  service: string;
}

/** The transport a protocol's measured traffic travels on, as the network sees it. */
export type Transport = 'tcp' | 'udp' | 'quic';

/**
 * The shape of a protocol's traffic: `messages` are stamped messages paced each way;
 * `frames` are voice frames at a fixed interval each way, sized by the codec; `window` is
 * objects sent back to back as fast as TCP's window lets; `rtp` is a real media stack's
 * RTP (a WebRTC call), paced by the stack itself.
 */
export type Traffic = 'messages' | 'frames' | 'window' | 'rtp';

/**
 * What a protocol's workloads measure, from which events: `messages`: delivery, latency
 * and goodput over the active time, from send/recv events; `voice-frames`: the same plus
 * RTP-like loss, RFC 3550 jitter and the E-model MOS per direction; `transfers`: goodput
 * as the transfer rate (bits over the time objects spent in transfer) and stalled
 * transfers; `webrtc-stats`: a WebRTC stack's getStats (rtc events): loss, jitter, MOS,
 * and video frames when the call sends video.
 */
export type Measures = 'messages' | 'voice-frames' | 'transfers' | 'webrtc-stats';

/**
 * Who sends a protocol's down-direction messages at the server: the message hub
 * (src/workloads/hub.ts, one paced outbox per connection whatever the transport), or the
 * protocol's own agent (voice frames, bulk objects, a media stack).
 */
export type DownSender = 'hub' | 'agent';

/**
 * Whether a protocol's workloads open connections and record them (`connect` events: the
 * connect, TLS and DNS times, reconnects). False for a protocol whose every message is an
 * exchange of its own (a DNS lookup) or that sends on an unconnected socket (voice
 * frames over UDP): their workloads measure no connect.p50, tls.p50, dns.p50 or
 * reconnects.
 */
export type Connects = boolean;

/**
 * What a workload needs of the client's headless Chromium: `quic` to speak HTTP/3 to its
 * origin, `media` fake camera and microphone devices; null: it does not use Chromium.
 */
export type ChromiumUse = 'quic' | 'media' | null;

/** What a protocol's own keys refer to in other sections, for ../refs.ts. */
export interface ReferenceView {
  /** Every host name (the built-in one included). */
  hostNames: string[];
  /** The DNS names a host gives (raw, as written). */
  dnsNames(host: string): unknown[];
  /** The message for a name that is no host (with a suggestion). */
  unknownHost(name: string): string;
}

/** A protocol's own references: problems at its keys, and ports it claims on other hosts. */
export interface References {
  problems: ProtocolProblem[];
  claims: { host: string; claims: PortClaim[] }[];
}

/**
 * What a protocol's connections carry besides its messages, for the twin (`qoslab
 * simulate`, src/simulate/): what its stacks put around each message and send to open a
 * connection, byte counts of what the lab's stacks send, from their formats, without TLS (the twin adds
 * TLS's own bytes when the workload has TLS).
 */
export interface WireShape {
  /** ALPN values its client's ClientHello offers. */
  alpn: readonly string[];
  /** Without TLS, what its client's first bytes look like: an HTTP request, MQTT's CONNECT, random-looking bytes (an obfuscated preamble). */
  plain: 'http' | 'mqtt-connect' | 'random' | null;
  /** Request/response exchanges after TLS before the connection carries messages, bytes each way (a WebSocket upgrade, MQTT's CONNECT and SUBSCRIBE). */
  opening: readonly (readonly [up: number, down: number])[];
  /** Bytes around each message: its client's (up), its server's (down). Transfers: the request's and the response's headers. */
  framing: readonly [up: number, down: number];
  /** Bytes the receiver answers each message with (an HTTP response to a POST, MQTT's PUBACK): to up messages, to down messages. */
  reply: readonly [up: number, down: number];
  /** QUIC: its client's ClientHello spans two Initials (Chromium's post-quantum key share). */
  splitHello?: boolean;
  /** A relay (TURN) the client sends its media through, and how it reaches it. */
  relay?: {
    address: string;
    port: number;
    transport: 'udp' | 'tcp' | 'tls';
    tls_sni: string | null;
  } | null;
  /**
   * What its stacks (Node's event loop and TLS, a browser's page hop) add to a message's
   * one-way time on a quiet lab path: the median the lab measured for it, less the path
   * (test/simulate/agreement/lab.json, unshaped scenarios; a 2-core machine).
   */
  stackNs: number;
  /** What the twin does not model of this protocol's stacks, in a few words (printed beside its rows). */
  unmodelled: string;
  /**
   * Its messages are lookups the lab's resolver answers, not its host's server. The twin
   * has no resolver: it leaves such a workload out (nothing sent, its expectations not measured).
   */
  toResolver?: true;
  /**
   * Its traffic is its programs' own (a `command` workload): the twin cannot know it, so it
   * leaves the workload out (nothing sent, its expectations not measured).
   */
  ownPrograms?: true;
}

/** The wire of a protocol whose payloads are the twin's own model (datagrams, RTP): nothing around them, no opening. */
export const BARE_WIRE = {
  alpn: [],
  plain: null,
  opening: [],
  framing: [0, 0],
  reply: [0, 0],
} as const satisfies Partial<WireShape>;

/** A compiled value a protocol adds to its workloads (JSON). */
export type CompiledValue = string | number | boolean | null | object;

export interface ProtocolDefinition<
  Options extends z.ZodRawShape,
  Key extends string,
  Compiled extends Record<Key, CompiledValue>,
  Agent extends Runner = Runner,
> {
  /** Server port when the workload gives none. */
  port: number;
  /** TLS when the workload gives none; `never`: the protocol has no TLS (`tls: true` is an error). */
  tls: boolean | 'never';
  /** What it needs of its server port (one entry per transport it uses). */
  ports: readonly PortUse[];
  /**
   * Who runs it in `qoslab run`: true, a workload agent (`src/workloads/index.ts` must then
   * list one); `orchestrator`, the run itself (programs of `command` workloads); false,
   * nobody yet (`run` refuses it).
   */
  agent: Agent;
  /**
   * Keys a workload of it must give besides name, host, protocol and port, as a scenario
   * writes them (the golden scenario of every protocol is made with these).
   */
  example?: Record<string, unknown>;
  /** How its client recovers (keepalive, reconnect, outbox, fallback); absent: it does not. */
  session?: SessionKind | ((options: z.output<z.ZodObject<Options>>) => SessionKind | undefined);
  transport: Transport;
  traffic: Traffic;
  measures: Measures;
  down: DownSender;
  connects: Connects;
  /**
   * A workload as a scenario writes it (without name, host, protocol and port) that must
   * deliver across a clear lab; test/e2e/protocols.test.ts runs every protocol's case.
   */
  loopback: Record<string, unknown>;
  /** Keys only this protocol takes, validated with it and `optional()` each. */
  options: Options;
  /** Keys this protocol adds to its compiled workloads, in order; other protocols' workloads carry them as null. */
  compiledKeys: readonly Key[];
  /** Defaults that differ from COMMON_DEFAULTS, from the options as written. */
  defaults(options: z.output<z.ZodObject<Options>>): Partial<WorkloadDefaults>;
  /** The options as the agents read them, every default filled in. */
  compile(options: z.output<z.ZodObject<Options>>): Compiled;
  /**
   * Where its flows go besides its `port` on its host's addresses over each transport of
   * `ports` (the default for every protocol): webrtc's media on ports the stacks choose
   * and its TURN server, a command's extra ports.
   */
  flowEndpoints?(workload: CompiledWorkloadView): FlowEndpoint[];
  /** The system programs its agents start for a workload (checked before a run makes a lab). */
  programs?(compiled: Compiled): readonly ProgramName[];
  /** Its connections on the wire, for the twin, from its compiled keys. */
  wire(compiled: NoInfer<Compiled>): WireShape;
  /** Rules across its own keys and the common ones: one located message per problem. */
  check?(workload: z.output<z.ZodObject<Options>> & { direction?: Direction }): ProtocolProblem[];
  /** What the client's Chromium must offer a workload, from its compiled keys; absent: never used. */
  chromium?(compiled: Compiled): ChromiumUse;
  /**
   * Hosts its own keys name and the ports it claims on them (a webrtc call's TURN server),
   * from the workload as written, read defensively: the schema reports wrong types.
   */
  references?(workload: Record<string, unknown>, view: ReferenceView): References;
}

/** A workload key that breaks a protocol's rule, and what is wrong with it. */
export interface ProtocolProblem {
  key: string;
  message: string;
}

/** Declares a protocol; the identity, there so TypeScript infers and checks it as a whole. */
export function defineProtocol<
  Options extends z.ZodRawShape,
  Key extends string,
  Compiled extends Record<Key, CompiledValue>,
  Agent extends Runner,
>(
  definition: ProtocolDefinition<Options, Key, Compiled, Agent>,
): ProtocolDefinition<Options, Key, Compiled, Agent> {
  return definition;
}

/** A protocol that takes no keys of its own and keeps every common default. */
export function plainProtocol<Agent extends Runner>(settings: {
  port: number;
  tls: boolean | 'never';
  ports: readonly PortUse[];
  agent: Agent;
  session?: SessionKind;
  transport: Transport;
  traffic: Traffic;
  measures: Measures;
  down: DownSender;
  connects: Connects;
  loopback: Record<string, unknown>;
  wire: WireShape;
}) {
  const { wire, ...rest } = settings;
  return defineProtocol({
    ...rest,
    options: {},
    compiledKeys: [],
    defaults: () => ({}),
    compile: () => ({}),
    wire: () => wire,
  });
}

/**
 * A message protocol over one TCP connection (websocket, http2, longpoll, mqtt,
 * tcp-framed): its client keeps a session of messages (keepalive, reconnect, outbox,
 * fallback), the hub sends its down messages, it connects (connect events), and on
 * loopback it is tried at 10 messages a second. Only its port, TLS, port use and wire
 * shape differ.
 */
export function messageProtocol(settings: {
  port: number;
  tls: boolean;
  ports: readonly PortUse[];
  wire: WireShape;
}) {
  return plainProtocol({
    ...settings,
    agent: true,
    session: 'messages',
    transport: 'tcp',
    traffic: 'messages',
    measures: 'messages',
    down: 'hub',
    connects: true,
    loopback: { every: '100ms' },
  });
}

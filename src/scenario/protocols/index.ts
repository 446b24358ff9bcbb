/**
 * The workload protocols a scenario may name, one file each, registered in this one
 * table: the schema's `protocol` values and protocol-only keys, the compiler's defaults
 * and `CompiledWorkload`'s protocol keys all derive from it, and everything else asks a
 * row's traits (transport, traffic, measures, down, ports: ./protocol.ts) through the
 * helpers below instead of naming a protocol (test/unit/protocol-names.test.ts holds
 * that). The row order is the order of the JSON Schema's `protocol` enum. A protocol with
 * `agent: true` also needs its agent in `src/workloads/` (TypeScript refuses the build
 * until `src/workloads/index.ts` lists it).
 */
import type { ProgramName } from './programs.js';
import type { z } from 'zod';
import { bulk } from './bulk.js';
import { dnsLookup } from './dns-lookup.js';
import { command } from './command.js';
import { http2 } from './http2.js';
import { http3 } from './http3.js';
import { longpoll } from './longpoll.js';
import { mqtt } from './mqtt.js';
import {
  COMMON_DEFAULTS,
  type ChromiumUse,
  type CompiledValue,
  type Connects,
  type SessionKind,
  type DownSender,
  type FlowEndpoint,
  type Measures,
  type PortUse,
  type ProtocolProblem,
  type ReferenceView,
  type References,
  type Runner,
  type Traffic,
  type Transport,
  type WireShape,
  type WorkloadDefaults,
} from './protocol.js';
import { tcpFramed } from './tcp-framed.js';
import { udpVoice } from './udp-voice.js';
import { webrtc } from './webrtc.js';
import { websocket } from './websocket.js';

export const PROTOCOLS = {
  websocket,
  http2,
  http3,
  longpoll,
  mqtt,
  'tcp-framed': tcpFramed,
  'udp-voice': udpVoice,
  bulk,
  webrtc,
  'dns-lookup': dnsLookup,
  command,
};

type Protocols = typeof PROTOCOLS;
export type ProtocolName = keyof Protocols;
export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as [ProtocolName, ...ProtocolName[]];
/** The protocols `qoslab run` has an agent for. */
export type AgentProtocolName = {
  [K in ProtocolName]: Protocols[K]['agent'] extends true ? K : never;
}[ProtocolName];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;
type OwnOptions = UnionToIntersection<Protocols[ProtocolName]['options']>;
type OwnCompiled = {
  [P in ProtocolName]: ReturnType<Protocols[P]['compile']>;
};
type CompiledKey = { [P in ProtocolName]: keyof OwnCompiled[P] }[ProtocolName];
/** The keys protocols add to compiled workloads; null on the workloads of other protocols. */
export type ProtocolKeys = {
  [K in CompiledKey]:
    | {
        [P in ProtocolName]: K extends keyof OwnCompiled[P] ? OwnCompiled[P][K] : never;
      }[ProtocolName]
    | null;
};

const rows = Object.entries(PROTOCOLS) as [ProtocolName, Protocols[ProtocolName]][];

/** Every protocol's own keys, for the workload schema (which protocol may use them is checked there). */
export const PROTOCOL_OPTIONS = Object.assign({}, ...rows.map(([, p]) => p.options)) as OwnOptions;

/** For each protocol-only key, the protocols that take it. */
export const OPTION_OWNERS: ReadonlyMap<string, ProtocolName[]> = new Map(
  Object.keys(PROTOCOL_OPTIONS).map((key) => [
    key,
    rows.filter(([, p]) => key in p.options).map(([name]) => name),
  ]),
);

const COMPILED_KEYS = [
  ...new Set(rows.flatMap(([, p]) => p.compiledKeys as readonly string[])),
] as CompiledKey[];

/** What a protocol decides for one workload, from the workload as written. */
export interface ProtocolSettings {
  port: number;
  tls: boolean;
  defaults: WorkloadDefaults;
  keys: ProtocolKeys;
}

export function protocolSettings(
  name: ProtocolName,
  written: z.output<z.ZodObject<OwnOptions>>,
): ProtocolSettings {
  // Each row reads only its own option keys from the workload; TypeScript cannot
  // correlate the name with its row's option type through the union, hence the widening.
  const p = PROTOCOLS[name] as {
    port: number;
    tls: boolean | 'never';
    defaults(o: unknown): Partial<WorkloadDefaults>;
    compile(o: unknown): Record<string, CompiledValue>;
  };
  const own = p.compile(written);
  return {
    port: p.port,
    tls: p.tls === true,
    defaults: { ...COMMON_DEFAULTS, ...p.defaults(written) },
    keys: Object.fromEntries(COMPILED_KEYS.map((k) => [k, own[k] ?? null])) as ProtocolKeys,
  };
}

export type { FlowEndpoint };

/** What `flowEndpoints` reads of a compiled workload. */
export type WorkloadEndpoints = {
  protocol: ProtocolName;
  address: string;
  address6: string | null;
  port: number;
} & ProtocolKeys;

/**
 * Where a compiled workload's flows go: its port on its host's addresses over each
 * transport its protocol uses that port for, and whatever else its protocol row says.
 */
export function flowEndpoints(w: WorkloadEndpoints): FlowEndpoint[] {
  const p = PROTOCOLS[w.protocol] as {
    ports: readonly { transport: 'tcp' | 'udp' }[];
    flowEndpoints?(w: WorkloadEndpoints): FlowEndpoint[];
  };
  const addresses = [w.address, ...(w.address6 === null ? [] : [w.address6])];
  const own = [...new Set(p.ports.map((u) => u.transport))].flatMap((transport) =>
    addresses.map((address) => ({ address, transport, port: w.port })),
  );
  return [...own, ...(p.flowEndpoints?.(w) ?? [])];
}

/** What `fallback: h2` (a QUIC workload's shorthand, as browsers do) falls back to. */
export const H2_FALLBACK: ProtocolName = 'http2';

/**
 * How a workload of this protocol recovers (../session.ts), from its keys as written
 * (http3 with client ngtcp2 has no connection to keep); undefined: it does not.
 */
export function sessionKind(name: ProtocolName, written: object): SessionKind | undefined {
  const session = (
    PROTOCOLS[name] as {
      session?: SessionKind | ((o: unknown) => SessionKind | undefined);
    }
  ).session;
  return typeof session === 'function' ? session(written) : session;
}

/** A protocol's traits, the same shape for every row. */
export interface ProtocolTraits {
  port: number;
  tls: boolean | 'never';
  ports: readonly PortUse[];
  agent: Runner;
  transport: Transport;
  traffic: Traffic;
  measures: Measures;
  down: DownSender;
  connects: Connects;
  loopback: Record<string, unknown>;
  check?(workload: Record<string, unknown>): ProtocolProblem[];
  chromium?(compiled: Record<string, unknown>): ChromiumUse;
  programs?(compiled: Record<string, unknown>): readonly ProgramName[];
  references?(workload: Record<string, unknown>, view: ReferenceView): References;
  wire(compiled: Record<string, unknown>): WireShape;
}

/**
 * The traits of a protocol named anywhere (a compiled workload, a results folder read
 * back, a scenario before the schema checked it); undefined for a name no row has.
 */
export function traitsOf(name: string): ProtocolTraits | undefined {
  // Each row's functions read only keys of its own; the widening forgets their types.
  return Object.hasOwn(PROTOCOLS, name)
    ? (PROTOCOLS[name as ProtocolName] as unknown as ProtocolTraits)
    : undefined;
}

/** The protocols whose workloads measure voice quality (expectations' loss, jitter, mos). */
export function measuresVoice(name: string): boolean {
  const m = traitsOf(name)?.measures;
  return m === 'voice-frames' || m === 'webrtc-stats';
}

/** Whether a protocol's stack can report video (with `video: true`: expectations' video.fps). */
export function canMeasureVideo(name: string): boolean {
  return traitsOf(name)?.measures === 'webrtc-stats';
}

/** Whether a workload measures video: a stack that reports it, sending a video track. */
export function measuresVideo(name: string, w: { video?: unknown }): boolean {
  return canMeasureVideo(name) && w.video === true;
}

/** The registered protocols with a trait, in registry order (for messages that list them). */
export function protocolsWhere(test: (name: ProtocolName) => boolean): ProtocolName[] {
  return PROTOCOL_NAMES.filter(test);
}

/**
 * Whether the Caddy edge serves a protocol's side of a port on this transport (its
 * `edge` TCP side and `quic` UDP side): the edge then holds the port, not the protocol.
 */
export function servedByEdge(name: string, transport: 'tcp' | 'udp'): boolean {
  return (traitsOf(name)?.ports ?? []).some(
    (u) => u.transport === transport && (u.service === 'edge' || u.service === 'quic'),
  );
}

/** What a compiled workload needs of the client's Chromium (null: nothing). */
export function chromiumUse(w: { protocol: string }): ChromiumUse {
  return traitsOf(w.protocol)?.chromium?.(w as Record<string, unknown>) ?? null;
}

/** What a compiled workload's connections carry on the wire, for the twin. */
export function wireOf(w: { protocol: string }): WireShape {
  const traits = traitsOf(w.protocol);
  if (traits === undefined) throw new Error(`no protocol row for '${w.protocol}'`);
  return traits.wire(w as Record<string, unknown>);
}

/** Whether the twin leaves a workload out: lookups the resolver answers, a program's own traffic. */
export function leftOutOfTwin(w: { protocol: string }): boolean {
  const wire = wireOf(w);
  return wire.toResolver === true || wire.ownPrograms === true;
}

/** The system programs a compiled workload's agents start (its protocol row's `programs`). */
export function programsOf(w: { protocol: string }): readonly ProgramName[] {
  return traitsOf(w.protocol)?.programs?.(w as Record<string, unknown>) ?? [];
}

/**
 * The workload protocols a scenario may name, one file each, registered in this one
 * table: the schema's `protocol` values and protocol-only keys, the compiler's defaults
 * and `CompiledWorkload`'s protocol keys all derive from it. The row order is the order of
 * the JSON Schema's `protocol` enum. A protocol with `agent: true` also needs its agent
 * in `src/workloads/` (TypeScript refuses the build until `src/workloads/index.ts` lists it).
 */
import type { z } from 'zod';
import { bulk } from './bulk.js';
import { command } from './command.js';
import { http2 } from './http2.js';
import { http3 } from './http3.js';
import { longpoll } from './longpoll.js';
import { mqtt } from './mqtt.js';
import {
  COMMON_DEFAULTS,
  type CompiledValue,
  type FlowEndpoint,
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

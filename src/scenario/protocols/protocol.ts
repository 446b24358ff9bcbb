/**
 * What one workload protocol is to a scenario, in one place: its default port and TLS,
 * the keys only it takes (udp-voice's `codec` and `frame`), the defaults it changes and
 * the compiled keys it adds. Each protocol lives in its own file next to this one and is
 * listed once in ./index.ts; the scenario schema, the compiler and `CompiledWorkload` are
 * derived from that list. The agent that runs a protocol is `src/workloads/<name>.ts`.
 */
import { z } from 'zod';
import type { Direction } from '../fields.js';

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
 * (../ports.ts): `http` is paths over h2 or http/1.1 chosen by ALPN, `mqtt` is ALPN
 * "mqtt", `quic` is QUIC datagrams, `edge` is HTTP through the Caddy edge that serves
 * HTTP/3 (it proxies HTTP, not MQTT), `own` means the protocol owns the port.
 */
export interface PortUse {
  transport: 'tcp' | 'udp';
  service: 'http' | 'mqtt' | 'quic' | 'edge' | 'own';
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
  /** Rules across its own keys and the common ones: one located message per problem. */
  check?(workload: z.output<z.ZodObject<Options>> & { direction?: Direction }): ProtocolProblem[];
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
}) {
  return defineProtocol({
    ...settings,
    options: {},
    compiledKeys: [],
    defaults: () => ({}),
    compile: () => ({}),
  });
}

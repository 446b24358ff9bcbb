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
 * How a protocol's client lives through a bad network (../session.ts): `messages`, a
 * connection that carries messages, with keepalive, reconnect, login, an outbox and a
 * chain of transports to fall back to; `call`, a call that is redialled and falls back
 * along its chain of relays. Protocols without one (datagrams, bulk) take none of those keys.
 */
export type SessionKind = 'messages' | 'call';

/** A compiled value a protocol adds to its workloads (JSON). */
export type CompiledValue = string | number | boolean | null;

export interface ProtocolDefinition<
  Options extends z.ZodRawShape,
  Key extends string,
  Compiled extends Record<Key, CompiledValue>,
  Agent extends boolean = boolean,
> {
  /** Server port when the workload gives none. */
  port: number;
  /** TLS when the workload gives none; `never`: the protocol has no TLS (`tls: true` is an error). */
  tls: boolean | 'never';
  /** What it needs of its server port (one entry per transport it uses). */
  ports: readonly PortUse[];
  /** Whether `qoslab run` has an agent for it (`src/workloads/index.ts` must then list one). */
  agent: Agent;
  /** How its client recovers (keepalive, reconnect, outbox, fallback); absent: it does not. */
  session?: SessionKind | ((options: z.output<z.ZodObject<Options>>) => SessionKind | undefined);
  /** Keys only this protocol takes, validated with it and `optional()` each. */
  options: Options;
  /** Keys this protocol adds to its compiled workloads, in order; other protocols' workloads carry them as null. */
  compiledKeys: readonly Key[];
  /** Defaults that differ from COMMON_DEFAULTS, from the options as written. */
  defaults(options: z.output<z.ZodObject<Options>>): Partial<WorkloadDefaults>;
  /** The options as the agents read them, every default filled in. */
  compile(options: z.output<z.ZodObject<Options>>): Compiled;
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
  Agent extends boolean,
>(
  definition: ProtocolDefinition<Options, Key, Compiled, Agent>,
): ProtocolDefinition<Options, Key, Compiled, Agent> {
  return definition;
}

/** A protocol that takes no keys of its own and keeps every common default. */
export function plainProtocol<Agent extends boolean>(settings: {
  port: number;
  tls: boolean | 'never';
  ports: readonly PortUse[];
  agent: Agent;
  session?: SessionKind;
}) {
  return defineProtocol({
    ...settings,
    options: {},
    compiledKeys: [],
    defaults: () => ({}),
    compile: () => ({}),
  });
}

import type { AgentEvent } from '../record/events.js';
import type { CompiledWorkload } from '../scenario/compiled.js';
import type { Header } from './message.js';

/** What every workload sees, on either side. */
export interface AgentContext {
  workloads: CompiledWorkload[];
  seed: number;
  /** The run's start instant (CLOCK_MONOTONIC ns); set when the orchestrator says start. */
  t0: bigint;
  emit(event: AgentEvent): void;
  /** Aborted when the orchestrator says stop (or the agent is signalled). */
  signal: AbortSignal;
  caPem: string;
}

export interface ServerContext extends AgentContext {
  /** Certificates (PEM) by DNS name. */
  certs: Record<string, { cert: string; key: string }>;
  /** Routes messages of every workload served by this agent (./hub.ts). */
  hub: MessageHub;
}

/** What a protocol's server side needs of the hub: where messages come in and go out. */
export interface MessageHub {
  /** A client connection identified itself: deliver its down messages through `send`; returns detach. */
  attach(w: number, c: number, send: (b: Buffer) => void): () => void;
  /** Bytes from a client: record data, and return the header (hellos included). */
  receive(b: Buffer): Header | undefined;
}

/**
 * Workloads that share an address, port and protocol share one listener, which tells
 * them apart by the workload index each message and path carries.
 */
export interface ServerGroup {
  protocol: CompiledWorkload['protocol'];
  /** One address to bind (IPv4 or IPv6); a host with both gets two groups. */
  address: string;
  port: number;
  tls: boolean;
  serverName: string;
  /** Indices into `AgentContext.workloads`. */
  indices: number[];
}

export interface Listening {
  close(): Promise<void>;
}

/** One workload protocol: a server side and a client side. Registered in ./index.ts. */
export interface Protocol {
  /** Bind and serve a group; resolves once it accepts connections. */
  serve(group: ServerGroup, ctx: ServerContext): Promise<Listening>;
  /** Run connection `c` of workload `index` until `ctx.signal` aborts. */
  client(index: number, c: number, ctx: AgentContext): Promise<void>;
}

/** ns since t0. */
export function rel(ctx: AgentContext, abs: bigint): number {
  return Number(abs - ctx.t0);
}

import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AgentEvent } from '../record/events.js';
import type { CompiledTransport, CompiledWorkload } from '../scenario/compiled.js';
import type { Timing } from './dial.js';
import type { Header } from './message.js';

/** An established client connection of a message workload, whatever the protocol. */
export interface Conn {
  send(b: Buffer): void;
  close(): void;
  /** Resolves (with the reason) when the connection ends by itself. */
  closed: Promise<string>;
}

/** Opens one connection; `onMessage` gets each whole message the server sends. */
export type Dialer = (
  onMessage: (b: Buffer, at?: bigint) => void,
  timing: Timing,
  signal: AbortSignal,
) => Promise<Conn>;

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
  /** Pins of the server certificates (clients that cannot trust a CA: Chromium's QUIC). */
  spki: string[];
  /** When each timeline phase begins, ns after t0 (none: a single phase). */
  phaseStartsNs?: number[];
  /** The lab's resolver, for clients with their own DNS client (`dns-lookup` workloads). */
  resolver?: { address: string; names: string[] };
  /** Names the lab's resolver publishes an ECH configuration for (HTTPS records). */
  echNames?: string[];
}

export interface ServerContext extends AgentContext {
  /** Certificates (PEM) by DNS name. */
  certs: Record<string, { cert: string; key: string }>;
  /** Routes messages of every workload served by this agent (./hub.ts). */
  hub: MessageHub;
}

/** What a protocol's server side needs of the hub: where messages come in and go out. */
export interface MessageHub {
  /** Deliver the down messages of workload connection (w, c) through `send`; returns detach. */
  attach(w: number, c: number, send: (b: Buffer) => void): () => void;
  /**
   * Bytes from a client: record data, answer control frames, and return the header. A
   * transport whose connection carries the down messages too (WebSocket, framed TCP, MQTT)
   * passes `send`: its hello attaches it (detach when the connection closes). A request
   * (HTTP POST) passes `reply`: acknowledgements and login answers go back in its
   * response rather than with the down messages (a long poll would wait a round trip).
   * Pongs always go the way down messages go, so that the keepalive checks that way too.
   */
  receive(b: Buffer, send?: (b: Buffer) => void, reply?: (b: Buffer) => void): Header | undefined;
  /** Stop delivering through `send` (its connection closed). */
  detach(w: number, c: number, send: (b: Buffer) => void): void;
}

/**
 * Workloads on one address, port and transport share one listener, which tells them
 * apart by ALPN, path, and the workload index each message and path carries.
 */
export interface ServerGroup {
  transport: 'tcp' | 'udp';
  /** The protocols served here (see scenario/ports.ts for which may share). */
  protocols: CompiledWorkload['protocol'][];
  /** One address to bind (IPv4 or IPv6); a host with both gets two groups. */
  address: string;
  port: number;
  tls: boolean;
  serverName: string;
  /** Indices into `AgentContext.workloads`. */
  indices: number[];
}

/**
 * A request and response of either HTTP version: node's HTTP/2 compatibility API mirrors
 * HTTP/1.1's for everything the routes use (method, url, body events, writeHead, write, end).
 */
export type Request = http.IncomingMessage;
export type Response = http.ServerResponse;

/**
 * The part of a shared TCP port one protocol serves (./front.ts): HTTP paths (over h2 or
 * http/1.1, whichever ALPN chose), HTTP/1.1 upgrades, or connections of its own ALPN.
 */
export interface SharedService {
  /** Answer the request if its path is this protocol's; false lets the next one look. */
  request?(req: Request, res: Response): boolean;
  /** Take an HTTP/1.1 Upgrade (WebSocket) if its path is this protocol's. */
  upgrade?(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Connections that negotiated this ALPN name (or any, on a port it has alone). */
  alpn?: { name: string; accept(socket: net.Socket): void };
  close?(): Promise<void>;
}

export interface Listening {
  close(): Promise<void>;
}

/** One workload protocol: a server side and a client side. Registered in ./index.ts. */
export interface Protocol {
  /** Its part of a shared TCP port (HTTP paths, upgrades, an ALPN), if it can share one. */
  share?(ctx: ServerContext): Promise<SharedService>;
  /** Bind and serve a group of its own (UDP, raw TCP); resolves once it accepts. */
  serve?(group: ServerGroup, ctx: ServerContext): Promise<Listening>;
  /** Client side: start what its connections share (a browser) before the run; closed at the end. */
  prepare?(ctx: AgentContext): Promise<Listening>;
  /**
   * A message protocol: how connection `c` of workload `index` connects over `via` (one
   * transport of the workload's chain); ./supervisor.ts keeps the connection.
   */
  dialer?(index: number, c: number, ctx: AgentContext, via: CompiledTransport): Dialer;
  /** Any other protocol: run connection `c` of workload `index` until `ctx.signal` aborts. */
  client?(index: number, c: number, ctx: AgentContext): Promise<void>;
}

/** ns since t0. */
export function rel(ctx: AgentContext, abs: bigint): number {
  return Number(abs - ctx.t0);
}

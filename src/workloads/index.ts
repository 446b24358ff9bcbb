/**
 * The workload agents, one file per protocol, registered in this one table. What a
 * scenario writes for a protocol (defaults, its own keys) is its file in
 * src/scenario/protocols/; every protocol declared there with `agent: true` must have a
 * row here, or the build fails. See CONTRIBUTING.md.
 */
import type { CompiledWorkload } from '../scenario/compiled.js';
import type { AgentProtocolName, ProtocolName } from '../scenario/protocols/index.js';
import { bulk } from './bulk.js';
import { dnsLookup } from './dns-lookup.js';
import { http2Workload } from './http2.js';
import { http3 } from './http3.js';
import { longpoll } from './longpoll.js';
import { mqttWorkload } from './mqtt.js';
import { tcpFramed } from './tcp-framed.js';
import type { Dialer } from './session.js';
import { runSession } from './supervisor.js';
import type { AgentContext, Protocol } from './types.js';
import { udpVoice } from './udp-voice.js';
import { webrtc } from './webrtc.js';
import { websocket } from './websocket.js';

const AGENTS = {
  websocket,
  http2: http2Workload,
  http3,
  longpoll,
  mqtt: mqttWorkload,
  'tcp-framed': tcpFramed,
  'udp-voice': udpVoice,
  bulk,
  webrtc,
  'dns-lookup': dnsLookup,
} satisfies Record<AgentProtocolName, Protocol>;

/** The agent of each protocol. */
export const PROTOCOLS: Readonly<Partial<Record<ProtocolName, Protocol>>> = AGENTS;

export function protocolOf(w: CompiledWorkload): Protocol | undefined {
  return PROTOCOLS[w.protocol];
}

export type { Protocol, ServerGroup, AgentContext, ServerContext } from './types.js';

/**
 * Runs connection `c` of workload `index` until the agent stops: a message workload over
 * a connection through ./supervisor.ts, dialling each transport of its chain with that
 * transport's protocol; any other through its protocol's own client.
 */
export function runClient(index: number, c: number, ctx: AgentContext): Promise<void> {
  const w = ctx.workloads[index]!;
  const protocol = PROTOCOLS[w.protocol];
  const dialers = w.transports.map((t) => PROTOCOLS[t.protocol]?.dialer?.(index, c, ctx, t));
  if (w.transports.length > 0 && dialers.every((d) => d !== undefined)) {
    return runSession(index, c, ctx, dialers as Dialer[]);
  }
  if (protocol?.client === undefined) {
    return Promise.reject(new Error(`no client for protocol ${w.protocol}`));
  }
  return protocol.client(index, c, ctx);
}

/** The protocols a client agent needs ready: the workloads' and those of their fallbacks. */
export function protocolsUsed(workloads: CompiledWorkload[]): Protocol[] {
  const names = new Set(
    workloads.flatMap((w) => [w.protocol, ...w.transports.map((t) => t.protocol)]),
  );
  return [...names].flatMap((n) => (PROTOCOLS[n] === undefined ? [] : [PROTOCOLS[n]!]));
}

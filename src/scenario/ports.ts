/**
 * How workloads share a server's ports, as real servers do: one TLS port carries HTTP/2
 * and HTTP/1.1 (chosen by ALPN; WebSocket upgrades, long polling and downloads are just
 * paths) and MQTT (ALPN "mqtt", as brokers answering on 443 do). What cannot share is a
 * stream that owns its connection with no ALPN to tell it apart (tcp-framed), plain TCP
 * carrying two different protocols, TLS and plain TCP on one port, and two different
 * datagram protocols on one UDP port. The same rule serves `validate` (located errors)
 * and the server agent (which listener serves which workloads).
 */
import { PROTOCOL_DEFAULTS } from './defaults.js';

/** What one workload asks of one port. */
export interface PortClaim {
  transport: 'tcp' | 'udp';
  port: number;
  tls: boolean;
  /** `http`: paths over h2 or http/1.1; `mqtt`: ALPN mqtt; otherwise the protocol owns the port. */
  service: string;
}

/** The port claims of a workload (protocol, port and TLS already defaulted). */
export function portClaims(protocol: string, port: number, tls: boolean): PortClaim[] {
  switch (protocol) {
    case 'websocket':
    case 'longpoll':
    case 'bulk':
      return [{ transport: 'tcp', port, tls, service: 'http' }];
    case 'http2':
      // node's HTTP/2 server and undici's client speak h2 over TLS only.
      return [{ transport: 'tcp', port, tls: true, service: 'http' }];
    case 'mqtt':
      return [{ transport: 'tcp', port, tls, service: 'mqtt' }];
    case 'http3':
      // QUIC on UDP, and the same paths over TCP for the `fallback: h2` a browser makes.
      return [
        { transport: 'udp', port, tls: true, service: 'quic' },
        { transport: 'tcp', port, tls: true, service: 'http' },
      ];
    default:
      return [
        { transport: protocol === 'udp-voice' ? 'udp' : 'tcp', port, tls, service: protocol },
      ];
  }
}

/** Why two claims on one port cannot be served together, or undefined if they can. */
export function portConflict(a: PortClaim, b: PortClaim): string | undefined {
  if (a.transport === 'udp') {
    return a.service === b.service
      ? undefined
      : `${a.service} and ${b.service} datagrams cannot share a UDP port`;
  }
  if (a.tls !== b.tls) return 'one TCP port cannot be both TLS and plain TCP';
  if (a.service === b.service) return undefined;
  const shareable = (s: string) => s === 'http' || s === 'mqtt';
  if (!shareable(a.service) || !shareable(b.service)) {
    const raw = shareable(a.service) ? b.service : a.service;
    return `${raw} owns its connection (no ALPN tells it apart), so it cannot share a port`;
  }
  if (!a.tls) return 'without TLS there is no ALPN to tell HTTP from MQTT on one port';
  return undefined;
}

/** A workload as the scenario gives it, read defensively (the schema reports bad values). */
export interface RawWorkload {
  index: number;
  name: string;
  host: string;
  protocol: string;
  port?: unknown;
  tls?: unknown;
}

export interface PortProblem {
  /** The later workload, where the error is located. */
  index: number;
  message: string;
}

/** Every pair of workloads whose claims on one host's port cannot be served together. */
export function portProblems(workloads: RawWorkload[]): PortProblem[] {
  const problems: PortProblem[] = [];
  const owners = new Map<string, { name: string; claim: PortClaim }>();
  for (const w of workloads) {
    const defaults = PROTOCOL_DEFAULTS[w.protocol];
    if (defaults === undefined) continue;
    const port = typeof w.port === 'number' ? w.port : defaults.port;
    const tls = typeof w.tls === 'boolean' ? w.tls : defaults.tls;
    const reported = new Set<string>();
    for (const claim of portClaims(w.protocol, port, tls)) {
      const key = `${w.host} ${claim.transport} ${claim.port}`;
      const first = owners.get(key);
      if (first === undefined) {
        owners.set(key, { name: w.name, claim });
        continue;
      }
      const why = portConflict(first.claim, claim);
      if (why === undefined || reported.has(key)) continue;
      reported.add(key);
      problems.push({
        index: w.index,
        message: `'${w.name}' (${w.protocol}) needs ${claim.transport} port ${claim.port} of host '${w.host}', which '${first.name}' already serves: ${why}; give one of them another port`,
      });
    }
  }
  return problems;
}

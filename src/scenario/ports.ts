/**
 * How workloads share a server's ports, as real servers do: one TLS port carries HTTP/2
 * and HTTP/1.1 (chosen by ALPN; WebSocket upgrades, long polling and downloads are just
 * paths) and MQTT (ALPN "mqtt", as brokers answering on 443 do). What cannot share is a
 * stream that owns its connection with no ALPN to tell it apart (tcp-framed), plain TCP
 * carrying two different protocols, TLS and plain TCP on one port, and two different
 * datagram protocols on one UDP port. The same rule serves `validate` (located errors)
 * and the server agent (which listener serves which workloads).
 */
import { PROTOCOLS, type ProtocolName } from './protocols/index.js';
import type { PortClaim, PortUse } from './protocols/protocol.js';

export type { PortClaim } from './protocols/protocol.js';

const ALPN = 'alpn ';

function serviceOf(use: PortUse, protocol: ProtocolName): string {
  if (use.service === 'own') return protocol;
  return use.service === 'alpn' ? `${ALPN}${use.alpn ?? protocol}` : use.service;
}

/** The port claims of a workload (port and TLS already defaulted). */
export function portClaims(protocol: ProtocolName, port: number, tls: boolean): PortClaim[] {
  return PROTOCOLS[protocol].ports.map((use) => ({
    transport: use.transport,
    port,
    tls: use.tls ?? tls,
    service: serviceOf(use, protocol),
  }));
}

/** What a shareable TCP service speaks, as messages name it: HTTP, or its ALPN name. */
function spoken(service: string): string {
  return service.startsWith(ALPN) ? service.slice(ALPN.length).toUpperCase() : 'HTTP';
}

/** Why two claims on one port cannot be served together, or undefined if they can. */
export function portConflict(a: PortClaim, b: PortClaim): string | undefined {
  if (a.transport === 'udp') {
    return a.service === b.service
      ? undefined
      : `${a.service} and ${b.service} cannot share a UDP port`;
  }
  if (a.tls !== b.tls) return 'one TCP port cannot be both TLS and plain TCP';
  if (a.service === b.service) return undefined;
  const shareable = (s: string) => s === 'http' || s === 'edge' || s.startsWith(ALPN);
  if (!shareable(a.service) || !shareable(b.service)) {
    const raw = shareable(a.service) ? b.service : a.service;
    return `${raw} owns its connection (no ALPN tells it apart), so it cannot share a port`;
  }
  const [first, second] = [spoken(a.service), spoken(b.service)].sort((x, y) =>
    x === 'HTTP' ? -1 : y === 'HTTP' ? 1 : x.localeCompare(y),
  );
  if (!a.tls) return `without TLS there is no ALPN to tell ${first} from ${second} on one port`;
  const edge = [a, b].find((c) => c.service === 'edge');
  const other = edge === a ? b : a;
  if (edge !== undefined && other.service.startsWith(ALPN)) {
    return `Caddy holds a port that serves http3, and it proxies HTTP, not ${spoken(other.service)}`;
  }
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
  /** Claims other than the protocol's own (a webrtc call's TURN server port). */
  claims?: PortClaim[];
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
    if (!Object.hasOwn(PROTOCOLS, w.protocol)) continue; // the schema reports it
    const protocol = w.protocol as ProtocolName;
    const port = typeof w.port === 'number' ? w.port : PROTOCOLS[protocol].port;
    const tls = typeof w.tls === 'boolean' ? w.tls : PROTOCOLS[protocol].tls === true;
    const reported = new Set<string>();
    for (const claim of w.claims ?? portClaims(protocol, port, tls)) {
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

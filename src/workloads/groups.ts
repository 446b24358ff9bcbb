import type { CompiledWorkload } from '../scenario/compiled.js';
import { portClaims } from '../scenario/ports.js';
import { servedByEdge } from '../scenario/protocols/index.js';
import { startCaddy } from './caddy.js';
import { serveFront } from './front.js';
import { PROTOCOLS } from './index.js';
import { certFor } from './listen.js';
import type { Listening, ServerContext, ServerGroup } from './types.js';

/**
 * Listeners the server agent opens: one per address, port and transport, shared by every
 * workload that claims it (scenario/ports.ts; `validate` has refused claims that cannot
 * share). A host with an IPv6 address gets both families.
 */
export function serverGroups(workloads: CompiledWorkload[], ipv6: boolean): ServerGroup[] {
  const byKey = new Map<string, ServerGroup>();
  workloads.forEach((w, index) => {
    const addresses = [w.address, ...(ipv6 && w.address6 !== null ? [w.address6] : [])];
    // Every transport of a fallback chain is served too (a call's chain changes only its
    // relays: each step repeats the workload's own signalling port, served once).
    const served = w.transports.length > 0 ? w.transports : [w];
    for (const via of served) {
      for (const claim of portClaims(via.protocol, via.port, via.tls)) {
        for (const address of addresses) {
          const key = `${claim.transport} ${address} ${claim.port}`;
          const group = byKey.get(key);
          if (group === undefined) {
            byKey.set(key, {
              transport: claim.transport,
              protocols: [via.protocol],
              address,
              port: claim.port,
              tls: claim.tls,
              serverName: w.server_name,
              indices: [index],
            });
            continue;
          }
          if (!group.indices.includes(index)) group.indices.push(index);
          if (!group.protocols.includes(via.protocol)) group.protocols.push(via.protocol);
        }
      }
    }
  });
  return [...byKey.values()];
}

/**
 * Serve one group: protocols that can share a TCP port go behind one front (./front.ts);
 * a protocol that owns its port (UDP, raw TCP) serves it itself.
 */
export async function serveGroup(group: ServerGroup, ctx: ServerContext): Promise<Listening[]> {
  const protocols = group.protocols.flatMap((name) => {
    const p = PROTOCOLS[name];
    return p === undefined ? [] : [p];
  });
  if (group.transport === 'tcp' && protocols.some((p) => p.share !== undefined)) {
    const sharing = protocols.flatMap((p) => (p.share === undefined ? [] : [p.share.bind(p)]));
    const services = await Promise.all(sharing.map((share) => share(ctx)));
    if (!group.protocols.some((p) => servedByEdge(p, 'tcp'))) {
      return [await serveFront(group, services, group.tls ? certFor(group, ctx) : undefined)];
    }
    // A protocol served by the edge here (HTTP/3): Caddy holds the port (TCP and UDP) and
    // proxies to the front on loopback.
    const inner = await serveFront(
      { ...group, address: '127.0.0.1', port: 0, tls: false },
      services,
      undefined,
    );
    try {
      const edge = await startCaddy({
        address: group.address,
        port: group.port,
        upstreamPort: inner.port,
        serverName: group.serverName,
        cert: certFor(group, ctx),
        log: (msg) => ctx.emit({ ev: 'log', role: 'server', t: 0, msg }),
      });
      return [edge, inner];
    } catch (e) {
      await inner.close();
      throw e;
    }
  }
  // Caddy, started with the TCP group above, serves the UDP side of edge protocols (QUIC).
  if (group.transport === 'udp' && group.protocols.every((p) => servedByEdge(p, 'udp'))) return [];
  return Promise.all(protocols.map((p) => p.serve!(group, ctx)));
}

import type { CompiledWorkload } from '../scenario/compiled.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';
import type { ServerGroup } from './types.js';

/** A clash of two protocols on one address and port: the run refuses the scenario. */
export interface PortClash {
  address: string;
  port: number;
  transport: 'tcp' | 'udp';
  workloads: [string, string];
}

/**
 * Listeners the server agent opens: one per (address, port) and transport, shared by the
 * workloads of the same protocol there. A host with an IPv6 address gets both families.
 */
export function serverGroups(
  workloads: CompiledWorkload[],
  ipv6: boolean,
): { groups: ServerGroup[]; clashes: PortClash[] } {
  const byKey = new Map<string, ServerGroup>();
  const owner = new Map<string, CompiledWorkload>();
  const clashes: PortClash[] = [];
  workloads.forEach((w, index) => {
    const transport = PROTOCOLS[w.protocol].transport;
    const addresses = [w.address, ...(ipv6 && w.address6 !== null ? [w.address6] : [])];
    for (const address of addresses) {
      const key = `${transport} ${address} ${w.port}`;
      const first = owner.get(key);
      if (first !== undefined && (first.protocol !== w.protocol || first.tls !== w.tls)) {
        if (address === w.address) {
          clashes.push({ address, port: w.port, transport, workloads: [first.name, w.name] });
        }
        continue;
      }
      owner.set(key, w);
      const group = byKey.get(key);
      if (group !== undefined) group.indices.push(index);
      else {
        byKey.set(key, {
          protocol: w.protocol,
          address,
          port: w.port,
          tls: w.tls,
          serverName: w.server_name,
          indices: [index],
        });
      }
    }
  });
  return { groups: [...byKey.values()], clashes };
}

import { CLIENT, CLIENT_NAMES, SERVER, SERVER_NAMES } from './addresses.js';

/** One host name entry of a lab: names resolving to an IPv4 and an IPv6 address. */
export interface HostEntry {
  names: string[];
  v4: string;
  v6?: string;
}

/** The hosts every lab has; scenarios add their own server hosts after these. */
export function defaultHostEntries(): HostEntry[] {
  return [
    { names: SERVER_NAMES, v4: SERVER.v4, v6: SERVER.v6 },
    { names: CLIENT_NAMES, v4: CLIENT.v4, v6: CLIENT.v6 },
  ];
}

/** /etc/hosts for a lab namespace. IPv6 lines are left out when the lab has no IPv6. */
export function hostsFile(entries: HostEntry[], ipv6: boolean): string {
  const lines = [
    '# written by qoslab for this lab namespace; removed with the lab',
    '127.0.0.1\tlocalhost',
  ];
  if (ipv6) lines.push('::1\tlocalhost ip6-localhost ip6-loopback');
  for (const entry of entries) {
    lines.push(`${entry.v4}\t${entry.names.join(' ')}`);
    if (ipv6 && entry.v6 !== undefined) lines.push(`${entry.v6}\t${entry.names.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * resolv.conf that keeps DNS inside the namespace: loopback has no resolver, so a name
 * missing from hosts fails at once instead of leaking a query out of the lab.
 */
export function resolvConf(): string {
  return [
    '# written by qoslab: names resolve from /etc/hosts only; no DNS leaves the lab',
    'nameserver 127.0.0.1',
    'options timeout:1 attempts:1',
    '',
  ].join('\n');
}

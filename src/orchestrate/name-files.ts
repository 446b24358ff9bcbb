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
 * resolv.conf naming the lab's resolver (in the server namespace), so every program in
 * the lab — workloads, browsers, a user's own — looks names up over the lab's link, where
 * the censor sees the queries. One nameserver (a second would be asked after each
 * timeout, doubling a silent resolver's cost) and glibc's own defaults written out: 5 s
 * per try, 2 tries. `search lab` keeps the short names `server` and `client` working.
 */
export function resolvConf(resolver: string): string {
  return [
    "# written by qoslab: the lab's resolver; no DNS leaves the lab",
    `nameserver ${resolver}`,
    'search lab',
    'options timeout:5 attempts:2',
    '',
  ].join('\n');
}

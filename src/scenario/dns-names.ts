/**
 * The lab resolver's fixed names and numbers, and the DNS vocabulary scenarios use: kept
 * apart from ./dns.ts (the section's schema and compiler) so the workload protocols can
 * use them without importing the compiled types.
 */
/** The resolver's built-in host: its addresses in the server namespace and default name. */
export const RESOLVER_HOST = 'resolver';
export const RESOLVER_ADDRESS = '198.19.0.53';
export const RESOLVER_ADDRESS6 = 'fd71:6c61:6200:2::53';
export const RESOLVER_NAMES = ['resolver.lab'];

export const DNS_TRANSPORTS = ['udp', 'tcp', 'tls', 'https'] as const;
export type DnsTransport = (typeof DNS_TRANSPORTS)[number];
/** The port each transport is served on: DNS (RFC 1035), DoT (RFC 7858), DoH (RFC 8484). */
export const DNS_PORTS: Record<DnsTransport, number> = { udp: 53, tcp: 53, tls: 853, https: 443 };

export const RECORD_TYPES = ['A', 'AAAA', 'HTTPS'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** What a resolver rule answers instead of the zone's record. */
export const RULE_ANSWERS = ['nxdomain', 'servfail', 'refused', 'timeout', 'empty'] as const;

/**
 * The `dns` section: the lab's resolver (where it listens, over which transports), the
 * names it answers beyond the hosts' own (extra addresses, HTTPS records with ECH
 * configurations) and the censor's resolver rules (NXDOMAIN, SERVFAIL, no answer, a block
 * page's address), which the timeline switches on and off like policies. What an on-path
 * injector does to DNS is a policy action (`dns-inject`), not a resolver rule.
 */
import { z } from 'zod';
import type { CompiledDns, CompiledDnsRecord, CompiledHost } from './compiled.js';
import { DnsName, Duration, IPv4, IPv6, missingOr, Name, oneOrMany, SniGlob } from './fields.js';

import {
  DNS_TRANSPORTS,
  RECORD_TYPES,
  RESOLVER_ADDRESS,
  RESOLVER_ADDRESS6,
  RESOLVER_HOST,
  RESOLVER_NAMES,
  RULE_ANSWERS,
} from './dns-names.js';

const DEFAULT_TRANSPORTS = ['udp', 'tcp'] as const;

/** Answers seen by clients as TTLs; nothing in the lab caches, so only what it reads. */
const TTL_S = 300;

/** Addresses a name resolves to: literal (any address, also outside the lab) or a host's. */
const addressKeys = {
  a: oneOrMany(IPv4, 'an IPv4 address').optional(),
  aaaa: oneOrMany(IPv6, 'an IPv6 address').optional(),
  host: Name.optional().meta({ description: "a host of hosts: its addresses (a block page's)" }),
};
const oneSource = (r: { a?: unknown; aaaa?: unknown; host?: unknown }, ctx: z.RefinementCtx) => {
  if (r.host !== undefined && (r.a !== undefined || r.aaaa !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['host'], message: 'give host or a/aaaa, not both' });
  }
};
const Addresses = z.strictObject(addressKeys).superRefine(oneSource);

const HttpsRecord = z.strictObject({
  alpn: oneOrMany(
    z.string().regex(/^[\x21-\x7e]+$/, { error: 'expected an ALPN id like h2 or h3' }),
    'an ALPN id like h2',
  ).optional(),
  ech: z
    .strictObject({
      'public-name': DnsName.meta({
        description: 'the outer ClientHello SNI of clients using this ECH configuration',
      }),
    })
    .optional()
    .meta({ description: 'publish an ECHConfigList (X25519, made for the run)' }),
});

const DnsRecord = z
  .strictObject({ ...addressKeys, https: HttpsRecord.optional() })
  .superRefine(oneSource);

const DnsRule = z
  .strictObject({
    names: oneOrMany(SniGlob, "a name glob like '*.whatsapp.net'").meta({
      description: 'globs over the queried name (`*` any run of characters)',
    }),
    types: oneOrMany(z.enum(RECORD_TYPES), 'A, AAAA or HTTPS').optional(),
    transports: oneOrMany(z.enum(DNS_TRANSPORTS), 'udp, tcp, tls or https').optional().meta({
      description:
        'only queries that came over these (an ISP resolver lying on port 53 while DoH is left alone)',
    }),
    answer: z.union([z.enum(RULE_ANSWERS), Addresses], {
      error: (iss) =>
        missingOr(`one of ${RULE_ANSWERS.join(', ')} or addresses like { a: 10.10.34.35 }`)(
          iss.input,
        ),
    }),
    delay: Duration.optional().meta({ description: 'extra time before the answer' }),
  })
  .meta({ description: 'what the resolver answers for these names while the rule is in force' });

export const Dns = z.strictObject({
  resolver: z
    .strictObject({
      names: z.array(DnsName).min(1).optional().meta({
        description: 'its DNS names: the SNI of DoT and DoH, and its certificate (resolver.lab)',
      }),
      transports: oneOrMany(z.enum(DNS_TRANSPORTS), 'udp, tcp, tls or https').optional(),
      delay: Duration.optional().meta({ description: 'time to answer (its recursion)' }),
      'hosts-file': z.boolean().optional().meta({
        description: 'true: names resolve from a hosts file in each namespace, no DNS on the wire',
      }),
    })
    .optional(),
  records: z.record(DnsName, DnsRecord).optional(),
  rules: z.record(Name, DnsRule).optional(),
});

export type ScenarioDns = z.output<typeof Dns>;
type ScenarioAddresses = { a?: string | string[]; aaaa?: string | string[]; host?: string };

const many = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** The resolver as a host of the compiled scenario (its names come from `dns.resolver`). */
export function resolverHost(dns: ScenarioDns | undefined, ipv6: boolean): CompiledHost {
  return {
    name: RESOLVER_HOST,
    names: (dns?.resolver?.names ?? RESOLVER_NAMES).map((n) => n.toLowerCase()),
    address: RESOLVER_ADDRESS,
    address6: ipv6 ? RESOLVER_ADDRESS6 : null,
  };
}

function addressesOf(
  r: ScenarioAddresses,
  hosts: Map<string, CompiledHost>,
  ipv6: boolean,
): { a: string[]; aaaa: string[] } {
  if (r.host !== undefined) {
    const h = hosts.get(r.host)!;
    return { a: [h.address], aaaa: h.address6 === null ? [] : [h.address6] };
  }
  return { a: many(r.a), aaaa: ipv6 ? many(r.aaaa) : [] };
}

/**
 * The resolver's whole configuration: the zone (every host's names, the lab's, the
 * records'), the rules in the scenario's order. `client` is the client namespace's host.
 */
export function compileDns(
  dns: ScenarioDns | undefined,
  hosts: CompiledHost[],
  client: CompiledHost,
  ipv6: boolean,
): CompiledDns {
  const byHost = new Map(hosts.map((h) => [h.name, h]));
  const zone = new Map<string, CompiledDnsRecord>();
  for (const h of [...hosts, client]) {
    for (const name of h.names) {
      zone.set(name, {
        name,
        a: [h.address],
        aaaa: h.address6 === null ? [] : [h.address6],
        https: null,
      });
    }
  }
  for (const [written, r] of Object.entries(dns?.records ?? {})) {
    const name = written.toLowerCase();
    const own = zone.get(name);
    const given = r.host !== undefined || r.a !== undefined || r.aaaa !== undefined;
    const addresses = given
      ? addressesOf(r, byHost, ipv6)
      : { a: own?.a ?? [], aaaa: own?.aaaa ?? [] };
    zone.set(name, {
      name,
      ...addresses,
      https:
        r.https === undefined
          ? null
          : {
              alpn: many(r.https.alpn),
              ech_public_name: r.https.ech?.['public-name'].toLowerCase() ?? null,
            },
    });
  }
  const resolver = resolverHost(dns, ipv6);
  return {
    hosts_file: dns?.resolver?.['hosts-file'] ?? false,
    resolver: {
      address: resolver.address,
      address6: resolver.address6,
      names: resolver.names,
      // DoT and DoH only when asked: a user's server bound to :443 or :853 of every
      // address in the server namespace would collide with them.
      transports:
        dns?.resolver?.transports === undefined
          ? [...DEFAULT_TRANSPORTS]
          : many(dns.resolver.transports),
      delay_ns: dns?.resolver?.delay ?? 0,
      ttl_s: TTL_S,
    },
    zone: [...zone.values()].sort((x, y) => x.name.localeCompare(y.name)),
    rules: Object.entries(dns?.rules ?? {}).map(([name, rule]) => {
      const answer = typeof rule.answer === 'string' ? rule.answer : 'address';
      const addresses =
        typeof rule.answer === 'string'
          ? { a: [], aaaa: [] }
          : addressesOf(rule.answer, byHost, ipv6);
      return {
        name,
        names: many(rule.names).map((g) => g.toLowerCase()),
        types: rule.types === undefined ? null : many(rule.types),
        transports: rule.transports === undefined ? null : many(rule.transports),
        answer,
        ...addresses,
        delay_ns: rule.delay ?? 0,
      };
    }),
  };
}

/** Names of the rules a scenario defines (the timeline enables them like policies). */
export function dnsRuleNames(dns: ScenarioDns | undefined): string[] {
  return Object.keys(dns?.rules ?? {});
}

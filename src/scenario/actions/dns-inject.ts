/**
 * dns-inject: an on-path DNS injector. For each DNS query over UDP whose name matches
 * `names` (all names when left out), forge a response from the queried server — same id
 * and question, `answer`'s addresses of the asked type — towards the client at once; the
 * query goes on (the real answer comes later and is ignored) unless `drop-query`.
 */
import { z } from 'zod';
import { Duration, IPv4, IPv6, oneOrMany, SniGlob } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface DnsInjectAction extends CompiledActionBase {
  type: 'dns-inject';
  /** Lowercased globs over the queried name; null: every query. */
  names: string[] | null;
  /** Addresses the forged answer carries (A queries get the IPv4 ones, AAAA the IPv6 ones). */
  answer: string[];
  /** TTL of the forged records, s. */
  ttl_s: number;
  /** True: the query is dropped (an in-path box answers instead of the resolver). */
  drop_query: boolean;
}

/** The GFW's forged answers carried TTLs of minutes; this is only what the stub reads. */
const DEFAULT_TTL_NS = 60e9;

export const dnsInject = defineAction({
  params: z.strictObject({
    names: oneOrMany(SniGlob, "a name glob like '*.google.com'").optional(),
    answer: oneOrMany(z.union([IPv4, IPv6]), 'an IP address like 10.10.34.35'),
    ttl: Duration.optional(),
    'drop-query': z.boolean().optional(),
    ...direction,
  }),
  examples: [
    { answer: '10.10.34.35' },
    {
      names: ['*.whatsapp.net'],
      answer: ['203.0.113.7', '2001:db8::7'],
      ttl: '5m',
      'drop-query': true,
    },
  ],
  compile: (p, ctx): DnsInjectAction => ({
    type: 'dns-inject',
    direction: ctx.direction,
    names:
      p.names === undefined
        ? null
        : (Array.isArray(p.names) ? p.names : [p.names]).map((n) => n.toLowerCase()),
    answer: Array.isArray(p.answer) ? p.answer : [p.answer],
    ttl_s: Math.round((p.ttl ?? DEFAULT_TTL_NS) / 1e9),
    drop_query: p['drop-query'] ?? false,
  }),
});

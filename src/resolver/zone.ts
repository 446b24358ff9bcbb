/**
 * What the lab's resolver answers to one question: the zone's records, unless a rule in
 * force names the query (then NXDOMAIN, SERVFAIL, REFUSED, an empty answer, other
 * addresses, or nothing at all). Pure: the listeners (./serve.ts) do the wire and the
 * waiting.
 */
import type { CompiledDns, CompiledDnsRecord, CompiledDnsRule } from '../scenario/compiled.js';
import { globMatch } from './glob.js';

/** Record types the zone holds (others get an empty answer for a known name). */
export type QueryType = 'A' | 'AAAA' | 'HTTPS' | string;

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'FORMERR';

export interface ZoneAnswer {
  /** `none`: the resolver stays silent (a rule's `timeout`). */
  rcode: Rcode | 'none';
  /** Addresses for A/AAAA; the record for HTTPS. */
  addresses: string[];
  https: CompiledDnsRecord['https'];
  /** The rule that decided, if any. */
  rule: string | null;
  /** How long to wait before answering (the resolver's own delay plus the rule's). */
  delayNs: number;
}

export class Zone {
  private readonly records: Map<string, CompiledDnsRecord>;
  private active: CompiledDnsRule[] = [];

  constructor(private readonly dns: CompiledDns) {
    this.records = new Map(dns.zone.map((r) => [r.name, r]));
  }

  /** The rules in force from now on (a timeline step), by name. */
  setActive(names: string[]): void {
    const on = new Set(names);
    this.active = this.dns.rules.filter((r) => on.has(r.name));
  }

  get activeRules(): string[] {
    return this.active.map((r) => r.name);
  }

  answer(name: string, type: QueryType, transport?: string): ZoneAnswer {
    const q = name.toLowerCase().replace(/\.$/, '');
    const base = this.dns.resolver.delay_ns;
    const rule = this.active.find(
      (r) =>
        (r.types === null || r.types.includes(type as 'A')) &&
        (r.transports === null || r.transports.includes(transport as 'udp')) &&
        r.names.some((g) => globMatch(g, q)),
    );
    if (rule !== undefined) {
      const delayNs = base + rule.delay_ns;
      const none = { addresses: [], https: null, rule: rule.name, delayNs };
      switch (rule.answer) {
        case 'nxdomain':
          return { ...none, rcode: 'NXDOMAIN' };
        case 'servfail':
          return { ...none, rcode: 'SERVFAIL' };
        case 'refused':
          return { ...none, rcode: 'REFUSED' };
        case 'timeout':
          return { ...none, rcode: 'none' };
        case 'empty':
          return { ...none, rcode: 'NOERROR' };
        case 'address':
          return {
            ...none,
            rcode: 'NOERROR',
            addresses: type === 'A' ? rule.a : type === 'AAAA' ? rule.aaaa : [],
          };
      }
    }
    const record = this.records.get(q);
    if (record === undefined) {
      return { rcode: 'NXDOMAIN', addresses: [], https: null, rule: null, delayNs: base };
    }
    return {
      rcode: 'NOERROR',
      addresses: type === 'A' ? record.a : type === 'AAAA' ? record.aaaa : [],
      https: type === 'HTTPS' ? record.https : null,
      rule: null,
      delayNs: base,
    };
  }
}

/** What the orchestrator and the resolver process say to each other, one JSON object a line. */
import type { DnsEvent } from '../record/events.js';
import type { CompiledDns } from '../scenario/compiled.js';
import type { DnsTransport } from '../scenario/dns-names.js';

export type ResolverCommand =
  | {
      cmd: 'config';
      dns: CompiledDns;
      ipv6: boolean;
      /** For DoT and DoH; without it only UDP and TCP are served. */
      cert?: { cert: string; key: string };
      /** The rules in force from the start. */
      active: string[];
    }
  | { cmd: 'rules'; active: string[] }
  | { cmd: 'stop' };

/** One exchange as the resolver saw it: a run records it as a `dns` event at `at - t0`. */
export type QueryLine = Omit<DnsEvent, 'ev' | 't' | 'transport'> & {
  ev: 'query';
  /** CLOCK_MONOTONIC ns, as a decimal string. */
  at: string;
  transport: DnsTransport;
};

export type ResolverLine = { ev: 'ready' } | QueryLine;

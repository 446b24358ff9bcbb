/**
 * dns-lookup: an app's name lookups, on their own. Every `every` the client asks the lab's
 * resolver for the host's first name and counts the lookup delivered when an answer
 * holding the host's own address comes back within the deadline (an NXDOMAIN, a SERVFAIL,
 * silence, an injected or block-page address are not). Latency is the lookup time. Over
 * `transport` system (getaddrinfo, as most apps), udp, tcp, tls (DoT) or https (DoH), the
 * last four the app's own resolver client, as browsers and messengers ship. Its server is
 * the lab's resolver, not the server agent, so it claims no port of its host.
 * Agent: src/workloads/dns-lookup.ts.
 */
import { z } from 'zod';
import { DNS_PORTS, RECORD_TYPES } from '../dns-names.js';
import { BARE_WIRE, defineProtocol } from './protocol.js';

export const DNS_CLIENT_TRANSPORTS = ['system', 'udp', 'tcp', 'tls', 'https'] as const;
type Transport = (typeof DNS_CLIENT_TRANSPORTS)[number];
type Record = (typeof RECORD_TYPES)[number];

export const dnsLookup = defineProtocol({
  port: DNS_PORTS.udp,
  tls: 'never',
  agent: true,
  // A lookup is a message: one query up, its answer judged where it arrives.
  transport: 'udp',
  traffic: 'messages',
  measures: 'messages',
  down: 'agent',
  connects: false,
  loopback: { every: '200ms', deadline: '2s' },
  ports: [],
  options: {
    transport: z.enum(DNS_CLIENT_TRANSPORTS).optional().meta({
      description: 'system: getaddrinfo through resolv.conf; udp, tcp, tls, https: its own client',
    }),
    record: z.enum(RECORD_TYPES).optional().meta({ description: 'the type asked for (A)' }),
  },
  compiledKeys: ['transport', 'record'],
  defaults: () => ({ size_bytes: 0, direction: 'up' }),
  compile: (o): { transport: Transport; record: Record } => ({
    transport: o.transport ?? 'system',
    record: o.record ?? 'A',
  }),
  check: (w) =>
    w.transport === undefined || w.transport === 'system'
      ? w.record === 'HTTPS'
        ? [
            {
              key: 'record',
              message:
                'getaddrinfo (transport: system) asks for addresses only; use another transport for HTTPS records',
            },
          ]
        : []
      : [],
  // Its server is the lab's resolver, which the twin does not run (see `toResolver`).
  wire: () => ({
    ...BARE_WIRE,
    stackNs: 0,
    toResolver: true,
    unmodelled: "the lab's resolver: no lookup is simulated",
  }),
});

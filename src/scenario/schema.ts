/**
 * The scenario schema: the one source of the TypeScript types, the published JSON Schema
 * and (through its transforms) the unit-resolved values the compiler reads. The contract
 * is SCENARIO-FORMAT.md; keys are kebab-case and unknown keys are errors everywhere.
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { Action } from './actions/index.js';
import { Dns } from './dns.js';
import { parseExpect } from './expect.js';
import { paceProblems } from './pace-limit.js';
import { OPTION_OWNERS, PROTOCOL_NAMES, PROTOCOL_OPTIONS, PROTOCOLS } from './protocols/index.js';
import type { ProtocolProblem } from './protocols/protocol.js';
import { APP_NAMES, APP_USES } from './apps/index.js';
import { SESSION_KEYS, sessionProblems } from './session.js';
import {
  Aqm,
  Direction,
  DnsName,
  Duration,
  int,
  IPv4,
  IPv6,
  isPlainIPv6,
  missingOr,
  Name,
  oneOrMany,
  PortRange,
  PositiveDuration,
  Probability,
  Queue,
  Rate,
  Size,
  scopeHint,
  SizeRange,
  SniGlob,
} from './fields.js';
import { describeFound } from './units.js';

function isCidr(s: string): boolean {
  const [address, bits, extra] = s.split('/');
  if (extra !== undefined || address === undefined || bits === undefined || !/^\d+$/.test(bits))
    return false;
  const max = isIPv4(address) ? 32 : isPlainIPv6(address) ? 128 : -1;
  return Number(bits) <= max;
}
const Cidr = z
  .string({ error: (iss) => missingOr('an address prefix like 149.154.160.0/20')(iss.input) })
  .refine(isCidr, {
    error: (iss) =>
      `expected an address prefix like 149.154.160.0/20 or 2001:67c:4e8::/48, found ${describeFound(iss.input)}${scopeHint(iss.input)}`,
  });

const Proto = z.enum(['tcp', 'udp', 'icmp']);

/** `network.tcp-congestion`: `host` keeps what new namespaces inherit from the host. */
export const TCP_CONGESTION = ['host', 'reno', 'cubic', 'bbr'] as const;

// ---- network -----------------------------------------------------------------------

const Link = z
  .strictObject({
    rate: Rate.optional(),
    delay: Duration.optional(),
    jitter: Duration.optional(),
    loss: Probability.optional(),
    queue: Queue.optional(),
    aqm: Aqm.optional(),
    trace: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'mahimahi delivery-opportunity trace; replaces rate' }),
  })
  .superRefine((link, ctx) => {
    if (link.rate !== undefined && link.trace !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['trace'],
        message: 'a trace replaces rate: give one of rate and trace',
      });
    }
  });

const Network = z
  .strictObject({
    uplink: Link.optional().meta({ description: 'client→server' }),
    downlink: Link.optional().meta({ description: 'server→client' }),
    mtu: int(576, 65535).optional(),
    ipv6: z.boolean().optional(),
    'tcp-congestion': z.enum(TCP_CONGESTION).optional().meta({
      description:
        "TCP congestion control in the lab's namespaces; default host: the host's own (new namespaces inherit it)",
    }),
  })
  .superRefine((n, ctx) => {
    if (n.mtu !== undefined && n.mtu < 1280 && n.ipv6 !== false) {
      ctx.addIssue({
        code: 'custom',
        path: ['mtu'],
        message: `IPv6 needs an MTU of at least 1280, found ${n.mtu}; lower it only with ipv6: false`,
      });
    }
  });

// ---- hosts and classes -------------------------------------------------------------

const Host = z.strictObject({
  names: z.array(DnsName).min(1),
  address: IPv4.optional(),
  address6: IPv6.optional(),
});

const Quic = z.union(
  [
    z.literal(true),
    z.strictObject({ version: int(0, 0xffffffff).optional(), 'min-size': Size.optional() }),
  ],
  { error: (iss) => missingOr('true or a map like { version: 1, min-size: 1001 }')(iss.input) },
);

const AlpnGlob = z
  .string({ error: (iss) => missingOr("an ALPN glob like 'h3*'")(iss.input) })
  .regex(/^[\x21-\x7e]+$/, {
    error: (iss) =>
      `expected an ALPN glob of printable characters, found ${describeFound(iss.input)}`,
  });

const Ja4Glob = z
  .string({ error: (iss) => missingOr("a JA4 fingerprint or glob like 'q13d*'")(iss.input) })
  .regex(/^[A-Za-z0-9_*]+$/, {
    error: (iss) =>
      `expected a JA4 fingerprint like t13d1516h2_8daaf6152771_e5627efa2ab1 (or a glob of it), found ${describeFound(iss.input)}`,
  });

const Hex = z.string().regex(/^([0-9A-Fa-f]{2})+$/, {
  error: (iss) => `expected hex bytes like '00000001', found ${describeFound(iss.input)}`,
});

/** `{ offset, hex, mask? }`: `(payload[offset..] & mask) == (hex & mask)`. */
const ByteRule = z
  .strictObject({ offset: int(0, 65535), hex: Hex, mask: Hex.optional() })
  .superRefine((r, ctx) => {
    if (r.mask !== undefined && r.mask.length !== r.hex.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['mask'],
        message: `the mask must be as long as hex (${r.hex.length / 2} bytes), found ${r.mask.length / 2}`,
      });
    }
  });

const Payload = z
  .strictObject({
    offset: int(0, 65535).optional(),
    hex: Hex.optional(),
    mask: Hex.optional(),
    bytes: z.array(ByteRule).min(1).optional(),
    size: SizeRange.optional(),
  })
  .superRefine((p, ctx) => {
    const one = p.offset !== undefined || p.hex !== undefined || p.mask !== undefined;
    if (one && p.bytes !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'give one byte rule (offset, hex, mask) or a list of them (bytes), not both',
      });
    } else if (one && (p.offset === undefined || p.hex === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [p.offset === undefined ? 'offset' : 'hex'],
        message: 'a byte rule needs both offset and hex',
      });
    } else if (p.mask !== undefined && p.hex !== undefined && p.mask.length !== p.hex.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['mask'],
        message: `the mask must be as long as hex (${p.hex.length / 2} bytes), found ${p.mask.length / 2}`,
      });
    } else if (!one && p.bytes === undefined && p.size === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: "payload needs a byte rule (offset and hex), bytes, or a size like '>1000'",
      });
    }
  });

const Matcher = z
  .strictObject({
    sni: oneOrMany(SniGlob, "an SNI glob like '*.whatsapp.net'").optional(),
    hosts: oneOrMany(Name, 'a host name').optional(),
    cidr: oneOrMany(Cidr, 'an address prefix').optional(),
    'tcp-ports': oneOrMany(PortRange, 'a port').optional(),
    'udp-ports': oneOrMany(PortRange, 'a port').optional(),
    proto: oneOrMany(Proto, 'tcp, udp or icmp').optional(),
    quic: Quic.optional(),
    stun: z.literal(true).optional(),
    alpn: oneOrMany(AlpnGlob, "an ALPN glob like 'h3*'").optional(),
    ech: z.boolean().optional(),
    ja4: oneOrMany(Ja4Glob, "a JA4 fingerprint or glob like 'q13d*'").optional(),
    payload: Payload.optional(),
    inspect: z
      .strictObject({
        packets: int(1, 1000).optional(),
        reassembly: z.enum(['none', 'segments']).optional(),
      })
      .optional(),
    initiator: z.enum(['client', 'any']).optional(),
  })
  .superRefine((m, ctx) => {
    const conditions = Object.keys(m).filter((k) => k !== 'inspect' && k !== 'initiator');
    if (conditions.length === 0) {
      ctx.addIssue({
        code: 'custom',
        params: { fallback: true },
        message:
          'a matcher needs at least one of sni, alpn, ech, ja4, hosts, cidr, tcp-ports, udp-ports, proto, quic, stun, payload',
      });
    }
  });

const Class = z.union([Matcher, z.array(Matcher).min(1)], {
  error: (iss) =>
    missingOr('a matcher map (all keys must hold) or a list of them (any may hold)')(iss.input),
});

// ---- actions: one file each under ./actions/, the map derived from their registry ----

const Policy = z.strictObject({
  match: z
    .strictObject({
      class: oneOrMany(Name, 'a class name').optional(),
      // Added to the v1 contract: allowlists ("everything but these") need an exception.
      except: oneOrMany(Name, 'a class name')
        .optional()
        .meta({ description: 'flows of these classes are exempt (allowlists)' }),
      undecided: z
        .union([
          z.literal('pass', {
            error: (iss) => missingOr("'pass' or { hold: duration }")(iss.input),
          }),
          z.strictObject({ hold: PositiveDuration }),
        ])
        .optional()
        .meta({
          description:
            'while an exemption is undecided, payload packets pass (default) or are held up to this long for the verdict',
        }),
      proto: z.enum(['tcp', 'udp', 'icmp']).optional(),
      direction: Direction.optional(),
    })
    .superRefine((m, ctx) => {
      if (m.undecided !== undefined && m.except === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['undecided'],
          message: 'undecided needs except: only an exemption can be undecided',
        });
      }
    })
    .optional(),
  state: z.strictObject({ 'idle-timeout': PositiveDuration }).optional(),
  actions: z.array(Action).min(1),
});

// ---- timeline, workloads, expectations ---------------------------------------------

const TimelineEntry = z.strictObject({
  at: Duration,
  phase: Name,
  enable: oneOrMany(Name, 'a policy name', 0).optional(),
  disable: oneOrMany(Name, 'a policy name', 0).optional(),
});

const Workload = z
  .strictObject({
    name: Name,
    host: Name,
    protocol: z.enum(PROTOCOL_NAMES),
    port: z
      .int({ error: (iss) => missingOr('a port from 1 to 65535')(iss.input) })
      .min(1, {
        error: (iss) => `expected a port from 1 to 65535, found ${describeFound(iss.input)}`,
      })
      .max(65535, {
        error: (iss) => `expected a port from 1 to 65535, found ${describeFound(iss.input)}`,
      })
      .optional(),
    tls: z.boolean().optional(),
    every: PositiveDuration.optional(),
    rate: Rate.optional().meta({ description: 'offered load in bits/s, instead of every' }),
    size: Size.optional(),
    deadline: PositiveDuration.optional(),
    direction: Direction.optional(),
    connections: int(1, 10000).optional(),
    start: Duration.optional(),
    stop: Duration.optional(),
    app: z.enum(APP_NAMES).optional().meta({
      description:
        'start from this app profile (its host, protocol, port, keepalive, reconnect, fallback and sizes); keys written here override it',
    }),
    use: z.enum(APP_USES).optional().meta({
      description: "with app: which of the app's traffic: text (default), media or call",
    }),
    // Keepalive, reconnect, login, outbox and fallback chains (./session.ts).
    ...SESSION_KEYS,
    // Keys only some protocols take (udp-voice: codec, frame), from their files.
    ...PROTOCOL_OPTIONS,
  })
  .superRefine((w, ctx) => {
    if (w.every !== undefined && w.rate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'give every or rate, not both' });
    }
    for (const [key, owners] of OPTION_OWNERS) {
      if ((w as Record<string, unknown>)[key] !== undefined && !owners.includes(w.protocol)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `'${key}' applies only to protocol ${owners.join(' or ')}, not ${w.protocol}`,
        });
      }
    }
    const check = (PROTOCOLS[w.protocol] as { check?: (w: unknown) => ProtocolProblem[] }).check;
    for (const p of [...(check?.(w) ?? []), ...sessionProblems(w)]) {
      const path = p.key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
      ctx.addIssue({ code: 'custom', path, message: p.message });
    }
    if (w.use !== undefined && w.app === undefined) {
      ctx.addIssue({ code: 'custom', path: ['use'], message: 'use needs app: <profile>' });
    }

    if (PROTOCOLS[w.protocol].tls === 'never' && w.tls === true) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: `${w.protocol} has no TLS` });
    }
    if (w.start !== undefined && w.stop !== undefined && w.stop <= w.start) {
      ctx.addIssue({ code: 'custom', path: ['stop'], message: 'stop must come after start' });
    }
    for (const p of paceProblems(w)) {
      ctx.addIssue({ code: 'custom', path: [p.key], message: p.message });
    }
  });

/** A packet capture of the run (also `run --pcap`). */
const Capture = z
  .strictObject({
    snaplen: Size.refine((v) => v >= 64 && v <= 262144, {
      error: 'expected from 64B to 256KiB',
    })
      .optional()
      .meta({
        description:
          'bytes kept of each packet (default 2048: headers and a ClientHello; at most 256KiB)',
      }),
    'file-size': Size.refine((v) => v >= 4096, { error: 'expected at least 4KiB' })
      .optional()
      .meta({
        description: 'a capture file at most this size; then the next begins (default 100MB)',
      }),
    files: int(1, 10000)
      .optional()
      .meta({ description: 'capture files kept, the newest (default 5)' }),
    classes: oneOrMany(Name, 'a class name').optional().meta({
      description: 'only flows of these classes (or of `workloads`)',
    }),
    workloads: oneOrMany(Name, 'a workload name').optional().meta({
      description: "only flows to these workloads' endpoints (or of `classes`)",
    }),
  })
  .meta({ description: 'write a pcapng capture of the run (capture.pcapng in the results)' });

const Expect = z
  .string({
    error: (iss) =>
      missingOr("a string '<workload>.<metric> <op> <value> [during <phase>]'")(iss.input),
  })
  .transform((text, ctx) => {
    const parsed = parseExpect(text);
    if (!parsed.ok) {
      ctx.issues.push({ code: 'custom', message: parsed.message, input: text });
      return z.NEVER;
    }
    return parsed.value;
  });

const Source = z.union(
  [
    z.string().min(1),
    z.strictObject({
      cite: z
        .string()
        .min(1)
        .meta({ description: 'the publication: authors, title, venue or URL' }),
      url: z.string().optional(),
      parameters: z
        .union([z.string(), z.record(z.string().min(1), z.string().min(1))])
        .optional()
        .meta({
          description:
            'which parameters come from it: free text, or a map from a path in this file (policies.p.actions.0.police.rate, expect.1) to the quote that gives the number',
        }),
    }),
  ],
  {
    error: (iss) => missingOr('a citation string or a map { cite, url?, parameters? }')(iss.input),
  },
);

export const ScenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1, { error: (iss) => missingOr('version: 1')(iss.input) }),
    name: Name.optional(),
    description: z.string().optional(),
    sources: z.array(Source).optional(),
    seed: int(0).optional(),
    duration: PositiveDuration.optional(),
    network: Network.optional(),
    hosts: z.record(Name, Host).optional(),
    classes: z.record(Name, Class).optional(),
    policies: z.record(Name, Policy).optional(),
    timeline: z.array(TimelineEntry).optional(),
    workloads: z.array(Workload).optional(),
    expect: z.array(Expect).optional(),
    capture: Capture.optional(),
    dns: Dns.optional().meta({
      description: "the lab's resolver: its transports, extra records, and the censor's rules",
    }),
    assumed: z.record(z.string().min(1), z.string().min(1)).optional().meta({
      description:
        'numbers no source gives: a map from a path in this file (as in sources[].parameters) to why the value was chosen',
    }),
  })
  .meta({
    title: 'qoslab scenario, version 1',
    description:
      'A qoslab scenario: link, classes, throttling policies, timeline, workloads, expectations.',
  });

/** A scenario as written (unit strings). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
/** A scenario after parsing: units resolved to numbers, `expect` lines parsed. */
export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioMatcher = z.output<typeof Matcher>;
export type { ScenarioAction } from './actions/index.js';
export type ScenarioLink = z.output<typeof Link>;
export type ScenarioWorkload = z.output<typeof Workload>;

/** The JSON Schema published for editors (`qoslab schema`, schema/scenario.schema.json). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScenarioSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

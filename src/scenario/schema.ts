/**
 * The scenario schema: the one source of the TypeScript types, the published JSON Schema
 * and (through its transforms) the unit-resolved values the compiler reads. The contract
 * is SCENARIO-FORMAT.md; keys are kebab-case and unknown keys are errors everywhere.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseExpect } from './expect.js';
import {
  describeFound,
  DURATION_PATTERN,
  EXPECTED,
  parseDuration,
  parsePortRange,
  parseProbability,
  parseQueue,
  parseRate,
  parseSize,
  PORT_RANGE_PATTERN,
  PROBABILITY_PATTERN,
  RATE_PATTERN,
  SIZE_PATTERN,
  type Parsed,
} from './units.js';

const missingOr = (what: string) => (input: unknown) =>
  input === undefined
    ? `missing; expected ${what}`
    : `expected ${what}, found ${describeFound(input)}`;

/** A unit string run through its parser; the parser's message is the user's message. */
function unit<T>(
  parse: (input: unknown) => Parsed<T>,
  what: string,
  pattern: string,
  acceptsNumber: boolean,
  check?: (value: T) => string | undefined,
) {
  const message = missingOr(what);
  const base = acceptsNumber
    ? z.union([z.string(), z.number()], { error: (iss) => message(iss.input) })
    : z.string({ error: (iss) => message(iss.input) });
  return base
    .transform((input, ctx): T => {
      const parsed = parse(input);
      const problem = parsed.ok ? check?.(parsed.value) : parsed.message;
      if (problem !== undefined || !parsed.ok) {
        ctx.issues.push({ code: 'custom', message: problem ?? 'invalid', input });
        return z.NEVER;
      }
      return parsed.value;
    })
    .meta({ description: what, pattern });
}

export const Rate = unit(parseRate, EXPECTED.rate, RATE_PATTERN, false);
export const Size = unit(parseSize, EXPECTED.size, SIZE_PATTERN, true);
const PositiveSize = unit(parseSize, EXPECTED.size, SIZE_PATTERN, true, (v) =>
  v > 0 ? undefined : 'must be larger than 0 bytes',
);
export const Duration = unit(parseDuration, EXPECTED.duration, DURATION_PATTERN, false);
const PositiveDuration = unit(parseDuration, EXPECTED.duration, DURATION_PATTERN, false, (v) =>
  v > 0 ? undefined : 'must be longer than 0',
);
export const Probability = unit(parseProbability, EXPECTED.probability, PROBABILITY_PATTERN, true);
export const Queue = unit(
  parseQueue,
  EXPECTED.queue,
  String.raw`^(\d+ ?packets?|` + SIZE_PATTERN.slice(1, -1) + ')$',
  true,
);
const PortRange = unit(parsePortRange, EXPECTED.port, PORT_RANGE_PATTERN, true);

/** One value or a list of alternatives ("inside a key, list values are alternatives"). */
function oneOrMany<T extends z.ZodType>(item: T, what: string, minItems = 1) {
  return z.union([item, z.array(item).min(minItems)], {
    error: (iss) => missingOr(`${what} or a list of them`)(iss.input),
  });
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const Name = z.string({ error: (iss) => missingOr('a name')(iss.input) }).regex(NAME_RE, {
  error: (iss) =>
    `expected a name of letters, digits, '-' and '_', found ${describeFound(iss.input)}`,
});

const DnsName = z
  .string({ error: (iss) => missingOr('a DNS name like web.telegram.org')(iss.input) })
  .regex(
    /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/,
    {
      error: (iss) =>
        `expected a DNS name like web.telegram.org, found ${describeFound(iss.input)}`,
    },
  );

const SniGlob = z
  .string({ error: (iss) => missingOr("an SNI glob like '*.whatsapp.net'")(iss.input) })
  .regex(/^[A-Za-z0-9.*_-]+$/, {
    error: (iss) =>
      `expected an SNI glob of letters, digits, '.', '-', '_' and '*', found ${describeFound(iss.input)}`,
  });

const IPv4 = z
  .string({ error: (iss) => missingOr('an IPv4 address like 198.19.1.10')(iss.input) })
  .refine((s) => isIPv4(s), {
    error: (iss) => `expected an IPv4 address like 198.19.1.10, found ${describeFound(iss.input)}`,
  });
const IPv6 = z
  .string({ error: (iss) => missingOr('an IPv6 address like fd71:6c61:6200:2::10')(iss.input) })
  .refine((s) => isIPv6(s), {
    error: (iss) =>
      `expected an IPv6 address like fd71:6c61:6200:2::10, found ${describeFound(iss.input)}`,
  });

function isCidr(s: string): boolean {
  const [address, bits, extra] = s.split('/');
  if (extra !== undefined || address === undefined || bits === undefined || !/^\d+$/.test(bits))
    return false;
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  return Number(bits) <= max;
}
const Cidr = z
  .string({ error: (iss) => missingOr('an address prefix like 149.154.160.0/20')(iss.input) })
  .refine(isCidr, {
    error: (iss) =>
      `expected an address prefix like 149.154.160.0/20 or 2001:67c:4e8::/48, found ${describeFound(iss.input)}`,
  });

const Direction = z
  .enum(['up', 'down', 'both'])
  .meta({ description: 'up: client→server; down: server→client' });
const Proto = z.enum(['tcp', 'udp', 'icmp']);
const Aqm = z.enum(['droptail', 'codel']);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().min(min).max(max);

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
    payload: z
      .strictObject({
        offset: int(0, 65535),
        hex: z.string().regex(/^([0-9A-Fa-f]{2})+$/, {
          error: (iss) => `expected hex bytes like '00000001', found ${describeFound(iss.input)}`,
        }),
      })
      .optional(),
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
          'a matcher needs at least one of sni, hosts, cidr, tcp-ports, udp-ports, proto, quic, stun, payload',
      });
    }
  });

const Class = z.union([Matcher, z.array(Matcher).min(1)], {
  error: (iss) =>
    missingOr('a matcher map (all keys must hold) or a list of them (any may hold)')(iss.input),
});

// ---- actions -----------------------------------------------------------------------

const dir = { direction: Direction.optional() };
const nullableParams = <T extends z.ZodType>(o: T) => o.nullable();

const Loss = z
  .strictObject({
    rate: Probability.optional(),
    model: z.enum(['random', 'gilbert-elliott']).optional(),
    p: Probability.optional().meta({ description: 'Gilbert–Elliott: P(good → bad)' }),
    r: Probability.optional().meta({ description: 'Gilbert–Elliott: P(bad → good)' }),
    h: Probability.optional().meta({
      description: 'Gilbert–Elliott: P(delivered | bad), default 0',
    }),
    k: Probability.optional().meta({
      description: 'Gilbert–Elliott: P(delivered | good), default 1',
    }),
    ...dir,
  })
  .superRefine((l, ctx) => {
    const ge = l.model === 'gilbert-elliott';
    if (ge) {
      for (const key of ['p', 'r'] as const) {
        if (l[key] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `missing; gilbert-elliott needs p and r`,
          });
      }
      if (l.rate !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rate'],
          message: 'gilbert-elliott takes p, r, h, k, not rate',
        });
    } else {
      if (l.rate === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rate'],
          message: `missing; expected ${EXPECTED.probability}`,
        });
      for (const key of ['p', 'r', 'h', 'k'] as const) {
        if (l[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `'${key}' needs model: gilbert-elliott`,
          });
        }
      }
    }
  });

const DropAfter = z
  .strictObject({
    bytes: Size.optional(),
    packets: int(0).optional(),
    time: Duration.optional(),
    ...dir,
  })
  .superRefine((d, ctx) => {
    if (d.bytes === undefined && d.packets === undefined && d.time === undefined) {
      ctx.addIssue({
        code: 'custom',
        params: { fallback: true },
        message: 'missing; expected bytes, packets or time',
      });
    }
    if (d.bytes !== undefined && d.packets !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['packets'],
        message: 'give bytes or packets, not both',
      });
    }
  });

const ActionParams = {
  delay: z.strictObject({
    time: Duration,
    jitter: Duration.optional(),
    distribution: z.enum(['uniform', 'normal', 'pareto', 'paretonormal']).optional(),
    correlation: Probability.optional(),
    reorder: z.boolean().optional(),
    ...dir,
  }),
  loss: Loss,
  rate: z.strictObject({ rate: Rate, queue: Queue.optional(), aqm: Aqm.optional(), ...dir }),
  police: z.strictObject({ rate: Rate, burst: PositiveSize, ...dir }),
  duplicate: z.strictObject({ rate: Probability, ...dir }),
  corrupt: z.strictObject({ rate: Probability, ...dir }),
  reorder: z.strictObject({ rate: Probability, gap: int(1).optional(), ...dir }),
  blackhole: nullableParams(z.strictObject({ ...dir })),
  'drop-after': DropAfter,
  reset: nullableParams(
    z.strictObject({
      'after-bytes': Size.optional(),
      to: z.enum(['client', 'server', 'both']).optional(),
      ...dir,
    }),
  ),
  penalty: z.strictObject({
    scope: z.array(z.enum(['client-ip', 'server-ip', 'server-port'])).min(1),
    duration: PositiveDuration,
    probability: Probability.optional(),
    ...dir,
  }),
  trigger: z.strictObject({
    delay: Duration.optional(),
    probability: Probability.optional(),
    ...dir,
  }),
  trace: z.strictObject({ file: z.string().min(1), ...dir }),
};
export const ACTION_NAMES = Object.keys(ActionParams) as (keyof typeof ActionParams)[];

const Action = z
  .strictObject(
    Object.fromEntries(ACTION_NAMES.map((k) => [k, ActionParams[k].optional()])) as {
      [K in keyof typeof ActionParams]: z.ZodOptional<(typeof ActionParams)[K]>;
    },
  )
  .superRefine((a, ctx) => {
    const given = Object.keys(a);
    if (given.length === 0) {
      ctx.addIssue({
        code: 'custom',
        params: { fallback: true },
        message: `expected one action (${ACTION_NAMES.join(', ')}), found an empty map`,
      });
    } else if (given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `an action item holds one action, found ${given.length} (${given.join(', ')}); give each its own '-' item`,
      });
    }
  })
  .meta({ minProperties: 1, maxProperties: 1 });

const Policy = z.strictObject({
  match: z
    .strictObject({
      class: oneOrMany(Name, 'a class name').optional(),
      // Added to the v1 contract: allowlists ("everything but these") need an exception.
      except: oneOrMany(Name, 'a class name')
        .optional()
        .meta({ description: 'flows of these classes are exempt (allowlists)' }),
      proto: z.enum(['tcp', 'udp', 'icmp']).optional(),
      direction: Direction.optional(),
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

// `http3` is an addition to the v1 list: QUIC-blocking scenarios need a QUIC client.
export const PROTOCOLS = [
  'websocket',
  'http2',
  'http3',
  'longpoll',
  'mqtt',
  'tcp-framed',
  'udp-voice',
  'bulk',
] as const;

const Workload = z
  .strictObject({
    name: Name,
    host: Name,
    protocol: z.enum(PROTOCOLS),
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
    codec: z.enum(['opus', 'g711']).optional(),
    frame: PositiveDuration.optional(),
  })
  .superRefine((w, ctx) => {
    if (w.every !== undefined && w.rate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'give every or rate, not both' });
    }
    for (const key of ['codec', 'frame'] as const) {
      if (w[key] !== undefined && w.protocol !== 'udp-voice') {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `'${key}' applies only to protocol udp-voice, not ${w.protocol}`,
        });
      }
    }
    if (w.protocol === 'udp-voice' && w.tls === true) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'udp-voice has no TLS' });
    }
    if (w.start !== undefined && w.stop !== undefined && w.stop <= w.start) {
      ctx.addIssue({ code: 'custom', path: ['stop'], message: 'stop must come after start' });
    }
  });

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
        .string()
        .optional()
        .meta({ description: 'which parameters of the scenario come from it' }),
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
export type ScenarioAction = z.output<typeof Action>;
export type ScenarioLink = z.output<typeof Link>;

/** The JSON Schema published for editors (`qoslab schema`, schema/scenario.schema.json). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScenarioSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

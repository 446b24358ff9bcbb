/**
 * The zod building blocks every part of the scenario schema shares: unit strings run
 * through their parsers (./units.ts), names, directions, one-or-many lists. They sit
 * below the schema, the actions and the workload protocols so each of those can import
 * them without importing one another.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
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
  parseSizeRange,
  PORT_RANGE_PATTERN,
  PROBABILITY_PATTERN,
  RATE_PATTERN,
  SIZE_PATTERN,
  SIZE_RANGE_PATTERN,
  type Parsed,
} from './units.js';

/** The message of a wrong or missing value: "missing; expected X" or "expected X, found Y". */
export const missingOr = (what: string) => (input: unknown) =>
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
export const PositiveSize = unit(parseSize, EXPECTED.size, SIZE_PATTERN, true, (v) =>
  v > 0 ? undefined : 'must be larger than 0 bytes',
);
export const SizeRange = unit(parseSizeRange, EXPECTED.sizeRange, SIZE_RANGE_PATTERN, true);
export const Duration = unit(parseDuration, EXPECTED.duration, DURATION_PATTERN, false);
export const PositiveDuration = unit(
  parseDuration,
  EXPECTED.duration,
  DURATION_PATTERN,
  false,
  (v) => (v > 0 ? undefined : 'must be longer than 0'),
);
export const Probability = unit(parseProbability, EXPECTED.probability, PROBABILITY_PATTERN, true);
export const Queue = unit(
  parseQueue,
  EXPECTED.queue,
  String.raw`^(\d+ ?packets?|` + SIZE_PATTERN.slice(1, -1) + ')$',
  true,
);
export const PortRange = unit(parsePortRange, EXPECTED.port, PORT_RANGE_PATTERN, true);

/** One value or a list of alternatives ("inside a key, list values are alternatives"). */
export function oneOrMany<T extends z.ZodType>(item: T, what: string, minItems = 1) {
  return z.union([item, z.array(item).min(minItems)], {
    error: (iss) => missingOr(`${what} or a list of them`)(iss.input),
  });
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const Name = z.string({ error: (iss) => missingOr('a name')(iss.input) }).regex(NAME_RE, {
  error: (iss) =>
    `expected a name of letters, digits, '-' and '_', found ${describeFound(iss.input)}`,
});

export const Direction = z
  .enum(['up', 'down', 'both'])
  .meta({ description: 'up: client→server; down: server→client' });
/** `up` is client→server, `down` server→client. */
export type Direction = z.output<typeof Direction>;

export const Aqm = z.enum(['droptail', 'codel']);

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().min(min).max(max);

export const DnsName = z
  .string({ error: (iss) => missingOr('a DNS name like web.telegram.org')(iss.input) })
  .regex(
    /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/,
    {
      error: (iss) =>
        `expected a DNS name like web.telegram.org, found ${describeFound(iss.input)}`,
    },
  );

export const SniGlob = z
  .string({ error: (iss) => missingOr("an SNI glob like '*.whatsapp.net'")(iss.input) })
  .regex(/^[A-Za-z0-9.*_-]+$/, {
    error: (iss) =>
      `expected an SNI glob of letters, digits, '.', '-', '_' and '*', found ${describeFound(iss.input)}`,
  });

export const IPv4 = z
  .string({ error: (iss) => missingOr('an IPv4 address like 198.19.1.10')(iss.input) })
  .refine((s) => isIPv4(s), {
    error: (iss) => `expected an IPv4 address like 198.19.1.10, found ${describeFound(iss.input)}`,
  });
/**
 * An IPv6 address without a scope id. Node's isIPv6 accepts `fe80::1%lo`, but a zone names
 * an interface of this machine, and the lab's addresses belong to none of them: `run`
 * failed on one with "internal error: Invalid URL", the core with an unlocated error.
 */
export const isPlainIPv6 = (s: string) => isIPv6(s) && !s.includes('%');
export const SCOPE_ID =
  ': a scope id (%…) names an interface of this machine; lab addresses have none';
export const scopeHint = (input: unknown) =>
  typeof input === 'string' && input.includes('%') && isIPv6(input.split('/')[0]!) ? SCOPE_ID : '';

export const IPv6 = z
  .string({ error: (iss) => missingOr('an IPv6 address like fd71:6c61:6200:2::10')(iss.input) })
  .refine(isPlainIPv6, {
    error: (iss) =>
      `expected an IPv6 address like fd71:6c61:6200:2::10, found ${describeFound(iss.input)}${scopeHint(iss.input)}`,
  });

/**
 * The unit strings of SCENARIO-FORMAT.md "Units", parsed to the numbers the core uses:
 * bits/s, bytes, nanoseconds, probabilities in [0, 1] and inclusive port ranges.
 * Each parser returns a value or the message a user sees, so the schema and the
 * `expect` parser report the same words for the same mistake.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** How a found value is shown in messages: strings quoted, the rest by kind. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value;
}

// Decimal digits only: "1e3" and "0x10" are not units a person writes in a scenario.
const NUMBER = String.raw`(\d+(?:\.\d+)?)`;

const RATE_UNITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  Bps: 8,
  KBps: 8e3,
  MBps: 8e6,
  GBps: 8e9,
};
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};
const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Upper limits (docs/scenario-format.md "Limits"). The core does its arithmetic in 64-bit
 * integers (bits × 1e9 ns, bytes × 8 × 1e9); these keep every product inside u64 and
 * every value a safe JavaScript integer, so a typo is an error here rather than an
 * overflow in the core.
 */
export const MAX_RATE_BPS = 1e12; // 1000gbit
export const MAX_SIZE_BYTES = 1024 ** 3; // 1GiB
export const MAX_DURATION_NS = 7 * 24 * 3600e9; // 168h

const alternatives = (units: Record<string, number>) => Object.keys(units).join('|');

/** JSON Schema patterns, so editors flag a bad unit while typing. */
export const RATE_PATTERN = `^${NUMBER}(${alternatives(RATE_UNITS)})$`;
export const SIZE_PATTERN = `^${NUMBER}(${alternatives(SIZE_UNITS)})?$`;
export const DURATION_PATTERN = `^${NUMBER}(${alternatives(DURATION_UNITS)})$`;
export const PROBABILITY_PATTERN = `^${NUMBER}%$`;
export const PORT_RANGE_PATTERN = String.raw`^\d+(-\d+)?$`;

const RATE_RE = new RegExp(RATE_PATTERN);
const SIZE_RE = new RegExp(SIZE_PATTERN);
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PROBABILITY_RE = new RegExp(PROBABILITY_PATTERN);
const PACKETS_RE = /^(\d+) ?packets?$/;

export const EXPECTED = {
  rate: 'a rate like 128kbit or 2.5mbit',
  size: 'a size like 200B, 16KB or 1MiB',
  duration: 'a duration like 250us, 20ms or 1.5s',
  probability: 'a probability like 0.5% or 0.005',
  port: 'a port from 1 to 65535 or a range like "590-1400"',
  queue: 'a queue size like 64KB or "100 packets"',
  sizeRange: "a size range like '>1000', '<=1200' or '1001-1500'",
} as const;

const expected = (what: string, found: unknown) =>
  `expected ${what}, found ${describeFound(found)}`;

/** Rate → bits per second (an integer; > 0). */
export function parseRate(input: unknown): Parsed<number> {
  const m = typeof input === 'string' ? RATE_RE.exec(input.trim()) : null;
  if (!m) return fail(expected(EXPECTED.rate, input));
  const value = Math.round(Number(m[1]) * RATE_UNITS[m[2]!]!);
  if (value <= 0) return fail(`a rate must be greater than 0, found ${describeFound(input)}`);
  if (!(value <= MAX_RATE_BPS)) {
    return fail(`a rate must be at most 1000gbit, found ${describeFound(input)}`);
  }
  return ok(value);
}

/** Size → bytes (an integer; >= 0). A bare integer is bytes. */
export function parseSize(input: unknown): Parsed<number> {
  const tooBig = () => fail<number>(`a size must be at most 1GiB, found ${describeFound(input)}`);
  if (typeof input === 'number') {
    if (!(Number.isSafeInteger(input) && input >= 0)) return fail(expected(EXPECTED.size, input));
    return input <= MAX_SIZE_BYTES ? ok(input) : tooBig();
  }
  const m = typeof input === 'string' ? SIZE_RE.exec(input.trim()) : null;
  if (!m) return fail(expected(EXPECTED.size, input));
  if (m[2] === undefined && m[1]!.includes('.')) return fail(expected(EXPECTED.size, input));
  const value = Math.round(Number(m[1]) * SIZE_UNITS[m[2] ?? 'B']!);
  return value <= MAX_SIZE_BYTES ? ok(value) : tooBig();
}

/**
 * A payload size range: `>1000`, `>=1001`, `<500`, `<=1200`, `1001-1500`, or one size;
 * sizes take units like `1KB`. Inclusive bounds in bytes; null: open.
 */
export interface SizeBounds {
  min: number | null;
  max: number | null;
}
export function parseSizeRange(input: unknown): Parsed<SizeBounds> {
  const s =
    typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim() : null;
  const bad = fail<SizeBounds>(expected(EXPECTED.sizeRange, input));
  if (s === null) return bad;
  const size = (t: string) => {
    const p = parseSize(t.trim());
    return p.ok ? p.value : null;
  };
  const op = /^(>=|<=|>|<)\s*(.+)$/.exec(s);
  if (op) {
    const v = size(op[2]!);
    if (v === null) return bad;
    if (op[1] === '>') return ok({ min: v + 1, max: null });
    if (op[1] === '>=') return ok({ min: v, max: null });
    if (op[1] === '<') return v === 0 ? bad : ok({ min: null, max: v - 1 });
    return ok({ min: null, max: v });
  }
  const range = /^([^-]+)-([^-]+)$/.exec(s);
  if (range) {
    const lo = size(range[1]!);
    const hi = size(range[2]!);
    return lo === null || hi === null || lo > hi ? bad : ok({ min: lo, max: hi });
  }
  const v = size(s);
  return v === null ? bad : ok({ min: v, max: v });
}

export const SIZE_RANGE_PATTERN = String.raw`^((>=|<=|>|<) ?)?[0-9].*$`;

/** Duration → nanoseconds (an integer; >= 0). */
export function parseDuration(input: unknown): Parsed<number> {
  const m = typeof input === 'string' ? DURATION_RE.exec(input.trim()) : null;
  if (!m) return fail(expected(EXPECTED.duration, input));
  const value = Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
  if (!(value <= MAX_DURATION_NS)) {
    return fail(`a duration must be at most 168h (7 days), found ${describeFound(input)}`);
  }
  return ok(value);
}

/** Nanoseconds as a scenario would write them: `168h`, `1.5s`, `20ms`, `1ns`. */
export function durationText(ns: number): string {
  for (const [unit, size] of [
    ['h', 3600e9],
    ['m', 60e9],
    ['s', 1e9],
    ['ms', 1e6],
    ['us', 1e3],
  ] as const) {
    if (ns >= size) return `${+(ns / size).toFixed(3)}${unit}`;
  }
  return `${ns}ns`;
}

/** Probability → a number in [0, 1]: "0.5%" or a plain number. */
export function parseProbability(input: unknown): Parsed<number> {
  let value: number;
  if (typeof input === 'number') {
    value = input;
  } else {
    const m = typeof input === 'string' ? PROBABILITY_RE.exec(input.trim()) : null;
    if (!m) return fail(expected(EXPECTED.probability, input));
    // Divide rather than multiply by 0.01 so "7%" is exactly 0.07.
    value = Number(m[1]) / 100;
  }
  if (!(value >= 0 && value <= 1)) {
    return fail(`a probability must be within 0..1 (0%..100%), found ${describeFound(input)}`);
  }
  return ok(value);
}

/** A queue limit: a size in bytes or a number of packets. */
export type QueueLimit = { bytes: number } | { packets: number };

/** A queue limit as the core reads it: the key of its kind set, the other null. */
export function compiledQueue(q: QueueLimit | undefined): {
  queue_bytes: number | null;
  queue_packets: number | null;
} {
  return {
    queue_bytes: q !== undefined && 'bytes' in q ? q.bytes : null,
    queue_packets: q !== undefined && 'packets' in q ? q.packets : null,
  };
}

export function parseQueue(input: unknown): Parsed<QueueLimit> {
  if (typeof input === 'string') {
    const m = PACKETS_RE.exec(input.trim());
    if (m) {
      const packets = Number(m[1]);
      return packets > 0
        ? ok({ packets })
        : fail(`a queue must hold at least 1 packet, found '${input}'`);
    }
  }
  const size = parseSize(input);
  if (!size.ok) return fail(expected(EXPECTED.queue, input));
  if (size.value <= 0)
    return fail(`a queue must be larger than 0 bytes, found ${describeFound(input)}`);
  return ok({ bytes: size.value });
}

/** One port or an inclusive range → [low, high]. */
export function parsePortRange(input: unknown): Parsed<[number, number]> {
  let low: number;
  let high: number;
  if (typeof input === 'number' && Number.isInteger(input)) {
    low = high = input;
  } else if (typeof input === 'string' && new RegExp(PORT_RANGE_PATTERN).test(input.trim())) {
    const [a, b] = input.trim().split('-');
    low = Number(a);
    high = b === undefined ? low : Number(b);
  } else {
    return fail(expected(EXPECTED.port, input));
  }
  if (low < 1 || high > 65535 || low > 65535 || high < 1) {
    return fail(`ports must be from 1 to 65535, found ${describeFound(input)}`);
  }
  if (low > high)
    return fail(`a port range must go from low to high, found ${describeFound(input)}`);
  return ok([low, high]);
}

/** A port list → sorted, merged inclusive ranges (so equal lists compile equal). */
export function mergePortRanges(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [low, high] of sorted) {
    const last = merged[merged.length - 1];
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

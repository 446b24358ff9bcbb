import { describe, expect, it } from 'vitest';
import {
  mergePortRanges,
  parseDuration,
  parsePortRange,
  parseProbability,
  parseQueue,
  parseRate,
  parseSize,
} from '../../src/scenario/units.js';
import { closest, editDistance } from '../../src/scenario/suggest.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }) =>
  r.ok ? r.value : r.message;

describe('rate', () => {
  it.each([
    ['1bit', 1],
    ['128kbit', 128_000],
    ['2.5mbit', 2_500_000],
    ['1gbit', 1e9],
    ['64KBps', 512_000],
    ['1Bps', 8],
    ['2MBps', 16e6],
  ])('%s = %d bit/s', (text, bps) => expect(value(parseRate(text))).toBe(bps));

  it.each([
    ['128kbps', "expected a rate like 128kbit or 2.5mbit, found '128kbps'"],
    ['128 kbit', "expected a rate like 128kbit or 2.5mbit, found '128 kbit'"],
    ['1e3kbit', "expected a rate like 128kbit or 2.5mbit, found '1e3kbit'"],
    [128000, 'expected a rate like 128kbit or 2.5mbit, found 128000'],
    ['0kbit', "a rate must be greater than 0, found '0kbit'"],
  ])('%s is refused', (text, message) => expect(value(parseRate(text))).toBe(message));
});

describe('size', () => {
  it.each([
    ['200B', 200],
    ['16KB', 16_000],
    ['1MB', 1e6],
    ['1GB', 1e9],
    ['1KiB', 1024],
    ['1MiB', 1_048_576],
    ['1GiB', 1_073_741_824],
    ['1500', 1500],
    [1500, 1500],
    ['0B', 0],
  ])('%s = %d bytes', (text, bytes) => expect(value(parseSize(text))).toBe(bytes));

  it.each([
    ['16kb', "expected a size like 200B, 16KB or 1MiB, found '16kb'"],
    ['1.5', "expected a size like 200B, 16KB or 1MiB, found '1.5'"],
    [-1, 'expected a size like 200B, 16KB or 1MiB, found -1'],
    [true, 'expected a size like 200B, 16KB or 1MiB, found true'],
  ])('%s is refused', (text, message) => expect(value(parseSize(text))).toBe(message));
});

describe('duration', () => {
  it.each([
    ['250us', 250_000],
    ['20ms', 20_000_000],
    ['1.5s', 1_500_000_000],
    ['2m', 120e9],
    ['10m', 600e9],
    ['1h', 3600e9],
    ['82.5ms', 82_500_000],
    ['7ns', 7],
  ])('%s = %d ns', (text, ns) => expect(value(parseDuration(text))).toBe(ns));

  it.each([
    ['20', "expected a duration like 250us, 20ms or 1.5s, found '20'"],
    [20, 'expected a duration like 250us, 20ms or 1.5s, found 20'],
    ['20sec', "expected a duration like 250us, 20ms or 1.5s, found '20sec'"],
    ['-1s', "expected a duration like 250us, 20ms or 1.5s, found '-1s'"],
  ])('%s is refused', (text, message) => expect(value(parseDuration(text))).toBe(message));
});

describe('probability', () => {
  it.each([
    ['0.5%', 0.005],
    ['7%', 0.07],
    ['100%', 1],
    ['0%', 0],
    [0.25, 0.25],
    [0, 0],
    [1, 1],
  ])('%s = %d', (text, p) => expect(value(parseProbability(text))).toBe(p));

  it.each([
    ['150%', "a probability must be within 0..1 (0%..100%), found '150%'"],
    [1.5, 'a probability must be within 0..1 (0%..100%), found 1.5'],
    [-0.1, 'a probability must be within 0..1 (0%..100%), found -0.1'],
    ['0.5', "expected a probability like 0.5% or 0.005, found '0.5'"],
    ['half', "expected a probability like 0.5% or 0.005, found 'half'"],
  ])('%s is refused', (text, message) => expect(value(parseProbability(text))).toBe(message));
});

describe('queue', () => {
  it('takes a size or a packet count', () => {
    expect(value(parseQueue('64KB'))).toEqual({ bytes: 64_000 });
    expect(value(parseQueue(1500))).toEqual({ bytes: 1500 });
    expect(value(parseQueue('100 packets'))).toEqual({ packets: 100 });
    expect(value(parseQueue('1packet'))).toEqual({ packets: 1 });
    expect(value(parseQueue('0 packets'))).toBe(
      "a queue must hold at least 1 packet, found '0 packets'",
    );
    expect(value(parseQueue('0B'))).toBe("a queue must be larger than 0 bytes, found '0B'");
    expect(value(parseQueue('lots'))).toBe(
      'expected a queue size like 64KB or "100 packets", found \'lots\'',
    );
  });
});

describe('ports', () => {
  it.each([
    [443, [443, 443]],
    ['443', [443, 443]],
    ['590-1400', [590, 1400]],
    [1, [1, 1]],
    ['65535', [65535, 65535]],
  ])('%s = %j', (text, range) => expect(value(parsePortRange(text))).toEqual(range));

  it.each([
    [0, 'ports must be from 1 to 65535, found 0'],
    [70000, 'ports must be from 1 to 65535, found 70000'],
    ['1-70000', "ports must be from 1 to 65535, found '1-70000'"],
    ['1400-590', "a port range must go from low to high, found '1400-590'"],
    ['https', 'expected a port from 1 to 65535 or a range like "590-1400", found \'https\''],
    [44.3, 'expected a port from 1 to 65535 or a range like "590-1400", found 44.3'],
  ])('%s is refused', (text, message) => expect(value(parsePortRange(text))).toBe(message));

  it('merges lists into sorted disjoint ranges', () => {
    expect(
      mergePortRanges([
        [3478, 3478],
        [590, 1400],
        [1000, 2000],
        [2001, 2001],
        [443, 443],
      ]),
    ).toEqual([
      [443, 443],
      [590, 2001],
      [3478, 3478],
    ]);
  });
});

describe('did you mean', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('plociy', 'policy')).toBe(2);
    expect(editDistance('poilce', 'police')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests only close names', () => {
    expect(closest('polic', ['police', 'rate', 'reset'])).toBe('police');
    expect(closest('netwrk', ['network', 'name'])).toBe('network');
    expect(closest('zzz', ['police', 'rate'])).toBeUndefined();
    expect(closest('RATE', ['rate'])).toBe('rate');
  });
});

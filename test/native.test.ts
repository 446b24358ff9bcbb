import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NativeError,
  NativeLab,
  nativeVersion,
  simulate,
  type DirectionCounters,
  type NativeLabConfig,
  type ShapingDrops,
} from '../src/native/index.js';
import { compileScenario, parseScenarioText } from '../src/scenario/index.js';
import type { CompiledConfig } from '../src/scenario/compiled.js';

const isRoot = process.getuid?.() === 0;

function config(overrides: Partial<NativeLabConfig> = {}): NativeLabConfig {
  return {
    clientTun: 'qlunuseda',
    serverTun: 'qlunusedb',
    mtu: 1500,
    offload: true,
    labPrefixes: ['198.18.0.0/15', 'fd71:6c61:6200::/48'],
    ...overrides,
  };
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function expectNativeError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(NativeError);
    expect((error as NativeError).code).toBe(code);
    expect((error as NativeError).message).toMatch(message);
    return;
  }
  expect.fail(`expected NativeError ${code}`);
}

function expectDirectionShape(d: DirectionCounters): void {
  expect(Object.keys(d).sort()).toEqual(['bytes', 'drops', 'forwarded', 'packets']);
  expect(Object.keys(d.drops).sort()).toEqual(['malformed', 'not-lab', 'write-error']);
  for (const n of [d.packets, d.bytes, d.forwarded, ...Object.values(d.drops)]) {
    expect(Number.isInteger(n) && n >= 0).toBe(true);
  }
}

/**
 * One policy for every flow: 800 kbit/s (100 bytes per ms) with a 10 000-byte bucket.
 * No timeline, so the compiled one enables it at 0.
 */
function policed(): CompiledConfig {
  const yaml = [
    'version: 1',
    'name: police-test',
    'duration: 2s',
    'policies:',
    '  police:',
    '    actions:',
    '      - police: { rate: 800kbit, burst: 10000B }',
  ].join('\n');
  return compileScenario(parseScenarioText(yaml, 'police-test.yaml'));
}

describe('native core', () => {
  it('reports its version', () => {
    expect(nativeVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects a config that is not JSON with QL_BAD_CONFIG', () => {
    expectNativeError(() => NativeLab.openJson('{not json'), 'QL_BAD_CONFIG', /not valid JSON/);
    expectNativeError(() => NativeLab.openJson('[]'), 'QL_BAD_CONFIG', /must be an object/);
  });

  it('rejects a bad prefix with QL_BAD_CONFIG naming the field', () => {
    expectNativeError(
      () => NativeLab.open(config({ labPrefixes: ['198.18.0.0/15', '198.18.0.0/99'] })),
      'QL_BAD_CONFIG',
      /labPrefixes\[1\].*198\.18\.0\.0\/99/,
    );
  });

  it('rejects bad names and MTUs before touching any device', () => {
    expectNativeError(
      () => NativeLab.open(config({ clientTun: 'a-name-far-too-long' })),
      'QL_BAD_CONFIG',
      /clientTun/,
    );
    expectNativeError(() => NativeLab.open(config({ mtu: 1.5 })), 'QL_BAD_CONFIG', /mtu/);
  });

  it.skipIf(!isRoot)('opens a lab, counts, and removes its TUNs on close', () => {
    const tag = randomBytes(4).toString('hex');
    const clientTun = `qlt${tag}a`;
    const serverTun = `qlt${tag}b`;
    const lab = NativeLab.open(config({ clientTun, serverTun }));
    try {
      expect(lab.id).toBeGreaterThan(0);
      expect(linkExists(clientTun)).toBe(true);
      expect(linkExists(serverTun)).toBe(true);
      const counters = lab.counters();
      expect(Object.keys(counters).sort()).toEqual(['down', 'udpOffload', 'up']);
      expect(typeof counters.udpOffload).toBe('boolean');
      expectDirectionShape(counters.up);
      expectDirectionShape(counters.down);
      // Same names again while open: the kernel refuses the second attach.
      expectNativeError(
        () => NativeLab.open(config({ clientTun, serverTun: `qlt${tag}c` })),
        'QL_TUN_OPEN',
        new RegExp(clientTun),
      );
    } finally {
      lab.close();
    }
    lab.close();
    expect(linkExists(clientTun)).toBe(false);
    expect(linkExists(serverTun)).toBe(false);
    expectNativeError(() => lab.counters(), 'QL_UNKNOWN_LAB', /no open lab/);
  });

  it.skipIf(!isRoot)('switches policies of a scenario lab and reports shaping counters', () => {
    const tag = randomBytes(4).toString('hex');
    const lab = NativeLab.open(
      config({ clientTun: `qlt${tag}a`, serverTun: `qlt${tag}b`, scenario: policed() }),
    );
    try {
      lab.setActive(['police']);
      lab.setActive([]);
      expectNativeError(() => lab.setActive(['police', 'nope']), 'QL_UNKNOWN_POLICY', /"nope"/);
      const counters = lab.counters();
      expect(Object.keys(counters).sort()).toEqual(['down', 'shaping', 'udpOffload', 'up']);
      expect(counters.shaping!.packets.entered).toBe(0);
      expect(Object.keys(counters.shaping!.policies)).toEqual(['police']);
      expect(counters.shaping!.actions[0]).toMatchObject({ policy: 'police', type: 'police' });
    } finally {
      lab.close();
    }
  });

  it.skipIf(!isRoot)('accepts only the empty policy set without a scenario', () => {
    const tag = randomBytes(4).toString('hex');
    const lab = NativeLab.open(config({ clientTun: `qlt${tag}a`, serverTun: `qlt${tag}b` }));
    try {
      lab.setActive([]);
      expectNativeError(() => lab.setActive(['police']), 'QL_UNKNOWN_POLICY', /without a scenario/);
      expect(lab.counters().shaping).toBeUndefined();
    } finally {
      lab.close();
    }
  });

  it('simulates a policer against a constant stream: bucket plus refill get through', () => {
    // 1000 UDP packets of 1000 IP bytes, one per ms. The full bucket passes the first 10
    // (t = 0..9 ms); after that the bucket refills one packet per 10 ms, so exactly the
    // packets at t = 10, 20, ..., 990 ms pass: 10 + 99 = 109.
    const result = simulate(policed(), {
      flows: [
        {
          name: 'stream',
          proto: 'udp',
          client: '198.18.0.2:40000',
          server: '198.19.0.1:5000',
          size_bytes: 972,
          interval_ns: 1e6,
          count: 1000,
          direction: 'up',
        },
      ],
    });
    const up = result.packets.filter(([flow, dir]) => flow === 0 && dir === 'up');
    expect(result.packets).toHaveLength(up.length);
    expect(up).toHaveLength(1000);
    expect(up.reduce((n, p) => n + p[3], 0)).toBe(1000 * 1000);
    const delivered = up.filter((p) => p[4] !== null);
    expect(delivered).toHaveLength(109);
    expect(delivered.map((p) => p[2] / 1e6)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 99 }, (_, i) => (i + 1) * 10),
    ]);
    expect(result.counters.drops.police).toBe(891);
    // The drop reasons are declared twice (Rust `Reason`, TS `ShapingDrops`): tsc checks
    // this object against the interface, the assertion checks it against the core.
    const contract: Record<keyof ShapingDrops, true> = {
      loss: true,
      police: true,
      queue: true,
      codel: true,
      blackhole: true,
      'drop-after': true,
      reset: true,
      penalty: true,
      'dns-inject': true,
      overflow: true,
      malformed: true,
    };
    expect(Object.keys(result.counters.drops).sort()).toEqual(Object.keys(contract).sort());
    expect(result.counters.policies['police']!.packets).toBe(1000);
  });

  it('rejects a bad traffic description with QL_BAD_CONFIG', () => {
    expectNativeError(
      () =>
        simulate(policed(), {
          flows: [
            { name: 'x', proto: 'udp', client: 'nope', server: '198.19.0.1:1', interval_ns: 1 },
          ],
        }),
      'QL_BAD_CONFIG',
      /client/,
    );
  });
});

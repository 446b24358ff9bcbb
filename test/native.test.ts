import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NativeError,
  NativeLab,
  nativeVersion,
  type DirectionCounters,
  type NativeLabConfig,
} from '../src/native/index.js';

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
      expect(Object.keys(counters).sort()).toEqual(['down', 'up']);
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
});

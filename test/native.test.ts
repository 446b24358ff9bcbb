import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NativeError,
  NativeLab,
  nativeVersion,
  simulate,
  type DirectionCounters,
  type NativeLabConfig,
  type PlanWorkload,
  type ShapingDrops,
  type SimulationPlan,
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

/** A voice-frame workload of the twin, up only, over the whole run. */
function frames(overrides: Partial<PlanWorkload>): PlanWorkload {
  return {
    name: 'stream',
    kind: 'frames',
    transport: 'udp',
    client: '198.18.0.2',
    server: '198.19.0.1:5000',
    start_ns: 0,
    stop_ns: 2e9,
    interval_ns: 20e6,
    size_bytes: 80,
    up: true,
    down: false,
    connections: 1,
    deadline_ns: 1e9,
    tls: null,
    plain: null,
    opening: [],
    framing: [0, 0],
    reply: [0, 0],
    split_hello: false,
    stack_ns: 0,
    relay: null,
    ...overrides,
  };
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
      expect(Object.keys(counters).sort()).toEqual([
        'down',
        'stall',
        'threadCpuNs',
        'udpOffload',
        'up',
      ]);
      expect(typeof counters.udpOffload).toBe('boolean');
      expect(Number.isInteger(counters.threadCpuNs)).toBe(true);
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
      expect(Object.keys(counters).sort()).toEqual([
        'down',
        'shaping',
        'stall',
        'threadCpuNs',
        'udpOffload',
        'up',
      ]);
      expect(counters.shaping!.packets.entered).toBe(0);
      expect(Object.keys(counters.shaping!.policies)).toEqual(['police']);
      expect(counters.shaping!.actions[0]).toMatchObject({ policy: 'police', type: 'police' });
    } finally {
      lab.close();
    }
  });

  it.skipIf(!isRoot)("a stop of the whole process is the forwarding thread's stall", () => {
    const tag = randomBytes(4).toString('hex');
    const lab = NativeLab.open(config({ clientTun: `qlt${tag}a`, serverTun: `qlt${tag}b` }));
    try {
      expect(lab.stalls()).toMatchObject({ count: 0, episodes: [] });
      // This process stops itself (every thread, the forwarding one too), as Ctrl-Z does;
      // a child continues it 300 ms later.
      spawnSync('sh', ['-c', `(sleep 0.3; kill -CONT ${process.pid}) >/dev/null 2>&1 &`]);
      const before = process.hrtime.bigint();
      process.kill(process.pid, 'SIGSTOP');
      const stopped = Number(process.hrtime.bigint() - before);
      expect(stopped).toBeGreaterThan(250e6);
      // The thread's next watchdog tick tells it how long it was away.
      const deadline = Date.now() + 1000;
      let s = lab.stalls();
      while (s.episodes.length === 0 && Date.now() < deadline) s = lab.stalls();
      expect(s.episodes).toHaveLength(1);
      const [start, end] = s.episodes[0]!;
      expect(end - start).toBeGreaterThan(stopped - 15e6);
      expect(end - start).toBeLessThan(stopped + 15e6);
      expect(s.max_ns).toBe(end - start);
      expect(lab.counters().stall).toMatchObject({ count: 1, max_ns: end - start });
      // Taken once.
      expect(lab.stalls().episodes).toEqual([]);
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
    // A call sending 1000 frames of 1000 IP bytes, one per ms, up only. The full bucket
    // (10 kB) passes the first ten less what the call's hello took; after that it refills
    // one frame per 10 ms: about 109 of the 1000 arrive.
    const plan: SimulationPlan = {
      tcp: 'cubic',
      lab_delay_ns: 0,
      lab_rate_bps: null,
      workloads: [frames({ interval_ns: 1e6, size_bytes: 972, stop_ns: 1e9 })],
    };
    const result = simulate(policed(), plan);
    const sends = result.events.filter((e) => e.ev === 'send');
    const recvs = result.events.filter((e) => e.ev === 'recv');
    expect(sends).toHaveLength(1000);
    expect(recvs.length).toBeGreaterThanOrEqual(108);
    expect(recvs.length).toBeLessThanOrEqual(110);
    // Every frame and hello the policer did not drop arrived.
    const hellos = 3; // at 0, 1 and 2 s: the plan runs to the end of the scenario
    expect(result.counters.drops.police).toBe(1000 + hellos - recvs.length - hellos);
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
    expect(result.counters.policies['police']!.packets).toBe(1000 + hellos);
  });

  it('stops at the plan packet budget with QL_BAD_CONFIG, and runs exactly within it', () => {
    // The same 1000 frames and 3 hellos: 1003 packets leave the endpoints.
    const plan = (max_packets: number): SimulationPlan => ({
      tcp: 'cubic',
      lab_delay_ns: 0,
      lab_rate_bps: null,
      max_packets,
      workloads: [frames({ interval_ns: 1e6, size_bytes: 972, stop_ns: 1e9 })],
    });
    expectNativeError(
      () => simulate(policed(), plan(1002)),
      'QL_BAD_CONFIG',
      /budget of 1002 packets/,
    );
    expect(simulate(policed(), plan(1003)).packets).toBe(1003);
  });

  it('rejects a bad plan with QL_BAD_CONFIG naming the key', () => {
    const plan: SimulationPlan = {
      tcp: 'cubic',
      lab_delay_ns: 0,
      lab_rate_bps: null,
      workloads: [frames({ client: 'nope' })],
    };
    expectNativeError(() => simulate(policed(), plan), 'QL_BAD_CONFIG', /workloads\[0\]\.client/);
  });
});

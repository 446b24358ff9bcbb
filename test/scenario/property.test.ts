import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileScenario } from '../../src/scenario/compile.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { ScenarioSchema, type ScenarioInput } from '../../src/scenario/schema.js';

// Valid scenarios built from the format's own vocabulary. The property: writing one as
// YAML or JSON and reading it back compiles to exactly what the object itself compiles to.

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const rate = fc
  .tuple(fc.integer({ min: 1, max: 9999 }), pick(['kbit', 'mbit', 'KBps']))
  .map(([n, u]) => `${n}${u}`);
const size = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 999 }), pick(['B', 'KB', 'KiB', 'MB']))
    .map(([n, u]) => `${n}${u}`),
  fc.integer({ min: 1, max: 100000 }),
);
const ms = fc.integer({ min: 0, max: 2000 }).map((n) => `${n}ms`);
const prob = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`),
  fc.double({ min: 0, max: 1, noNaN: true }),
);
const port = fc.oneof(
  fc.integer({ min: 1, max: 65535 }),
  fc
    .tuple(fc.integer({ min: 1, max: 30000 }), fc.integer({ min: 0, max: 30000 }))
    .map(([a, b]) => `${a}-${a + b}`),
);
const link = fc.record(
  {
    rate,
    delay: ms,
    jitter: ms,
    loss: prob,
    queue: fc.oneof(
      size,
      fc.integer({ min: 1, max: 999 }).map((n) => `${n} packets`),
    ),
    aqm: pick(['droptail', 'codel']),
  },
  { requiredKeys: [] },
);
const action = fc.oneof(
  fc.record({ police: fc.record({ rate, burst: size }) }),
  fc.record({ rate: fc.record({ rate, queue: size }, { requiredKeys: ['rate'] }) }),
  fc.record({
    delay: fc.record(
      { time: ms, jitter: ms, distribution: pick(['uniform', 'normal', 'pareto', 'paretonormal']) },
      { requiredKeys: ['time'] },
    ),
  }),
  fc.record({
    loss: fc.record(
      { rate: prob, direction: pick(['up', 'down', 'both']) },
      { requiredKeys: ['rate'] },
    ),
  }),
  fc.record({
    loss: fc.record(
      { model: fc.constant('gilbert-elliott'), p: prob, r: prob, h: prob },
      { requiredKeys: ['model', 'p', 'r'] },
    ),
  }),
  fc.record({ 'drop-after': fc.record({ bytes: size, time: ms }, { requiredKeys: ['bytes'] }) }),
  fc.record({
    reset: fc.record(
      { 'after-bytes': size, to: pick(['client', 'server', 'both']) },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ blackhole: fc.constant({}) }),
  fc.record({
    penalty: fc.record(
      {
        scope: fc.subarray(['client-ip', 'server-ip', 'server-port'], { minLength: 1 }),
        duration: ms.map((m) => `1${m}`),
        probability: prob,
      },
      { requiredKeys: ['scope', 'duration'] },
    ),
  }),
);

const scenario: fc.Arbitrary<ScenarioInput> = fc
  .record({
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
    seconds: fc.integer({ min: 10, max: 600 }),
    network: fc.record(
      { uplink: link, downlink: link, mtu: fc.integer({ min: 1280, max: 9000 }) },
      { requiredKeys: [] },
    ),
    hostCount: fc.integer({ min: 1, max: 4 }),
    explicitAddress: fc.boolean(),
    classes: fc.array(
      fc.record(
        {
          sni: fc.array(pick(['*.a.lab', 'b.lab', '*t.co*']), { minLength: 1 }),
          'udp-ports': fc.array(port, { minLength: 1 }),
          proto: pick(['tcp', 'udp']),
          quic: fc.constant(true as const),
        },
        { requiredKeys: ['proto'] },
      ),
      { minLength: 1, maxLength: 3 },
    ),
    policies: fc.array(fc.array(action, { minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 3,
    }),
    phases: fc.array(
      fc.tuple(fc.integer({ min: 0, max: 9 }), fc.array(fc.nat(), { maxLength: 3 })),
      { maxLength: 4 },
    ),
    workloads: fc.array(
      fc.tuple(
        pick(['websocket', 'http2', 'bulk', 'tcp-framed', 'udp-voice']),
        fc.nat(),
        ms.map((m) => `1${m}`),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map((g): ScenarioInput => {
    const hosts = Object.fromEntries(
      Array.from({ length: g.hostCount }, (_, i) => [
        `h${i}`,
        {
          names: [`h${i}.lab`],
          ...(g.explicitAddress && i === 0 ? { address: '198.19.1.2' } : {}),
        },
      ]),
    );
    const classNames = g.classes.map((_, i) => `c${i}`);
    const policyNames = g.policies.map((_, i) => `p${i}`);
    const timeline = g.phases
      .map(([tenth, enable], i) => ({
        at: `${Math.floor((g.seconds * tenth) / 10)}s`,
        phase: `ph${i}`,
        enable: enable.map((n) => policyNames[n % policyNames.length]!),
      }))
      .sort((a, b) => parseInt(a.at) - parseInt(b.at))
      // Two phases at one instant are an error (the first would last no time).
      .filter((e, i, all) => i === 0 || e.at !== all[i - 1]!.at);
    const workloads = g.workloads.map(([protocol, h, every], i) => ({
      name: `w${i}`,
      host: `h${h % g.hostCount}`,
      protocol,
      // tcp-framed owns its port (plain TCP), so it cannot share 443 with TLS workloads.
      ...(protocol === 'tcp-framed' ? { port: 5222 } : {}),
      ...(protocol === 'udp-voice' ? {} : { every }),
    }));
    return {
      version: 1,
      name: 'generated',
      seed: g.seed,
      duration: `${g.seconds}s`,
      network: g.network,
      hosts,
      classes: Object.fromEntries(g.classes.map((c, i) => [classNames[i]!, c])),
      policies: Object.fromEntries(
        g.policies.map((actions, i) => [
          policyNames[i]!,
          { match: { class: classNames[i % classNames.length]! }, actions },
        ]),
      ),
      ...(timeline.length > 0 ? { timeline } : {}),
      workloads,
      expect: workloads.map(
        (w) =>
          `${w.name}.delivery >= 50%${timeline.length > 0 ? ` during ${timeline[0]!.phase}` : ''}`,
      ),
    } as ScenarioInput;
  });

describe('serialise -> parse -> compile', () => {
  it('gives the same compiled configuration from YAML, JSON and the object', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const direct = compileScenario(ScenarioSchema.parse(input));
        const viaYaml = compileScenario(parseScenarioText(stringify(input), 'generated.yaml'));
        const viaJson = compileScenario(
          parseScenarioText(JSON.stringify(input, null, 2), 'generated.json'),
        );
        expect(viaYaml).toEqual(direct);
        expect(viaJson).toEqual(direct);
        expect(JSON.stringify(viaYaml)).toBe(JSON.stringify(direct));
      }),
      { numRuns: 200, seed: 4 },
    );
  });

  it('resolves every unit to a number', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const c = compileScenario(parseScenarioText(stringify(input), 'generated.yaml'));
        const walk = (v: unknown): void => {
          if (typeof v === 'string')
            expect(v).not.toMatch(/^\d+(\.\d+)?(kbit|mbit|KBps|ms|s|%|KB|KiB|MB|B)$/);
          else if (Array.isArray(v)) v.forEach(walk);
          else if (v && typeof v === 'object') Object.values(v).forEach(walk);
        };
        walk(c);
        expect(
          c.network.uplink.rate_bps === null || Number.isInteger(c.network.uplink.rate_bps),
        ).toBe(true);
      }),
      { numRuns: 100, seed: 5 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { summarize, pooled } from '../../src/metrics/summarize.js';
import { phasesOf } from '../../src/metrics/phases.js';
import type { CompiledWorkload } from '../../src/scenario/compiled.js';
import { loopbackWorkload, runOnLoopback } from './harness.js';

// Every protocol end to end over loopback: no lab, no root; the lab runs are in test/run.
const cases: [
  string,
  Partial<CompiledWorkload> & Pick<CompiledWorkload, 'name' | 'protocol' | 'port'>,
][] = [
  ['websocket', { name: 'ws', protocol: 'websocket', port: 18443 }],
  ['http2', { name: 'h2', protocol: 'http2', port: 18444 }],
  ['longpoll', { name: 'lp', protocol: 'longpoll', port: 18445 }],
  ['mqtt', { name: 'mq', protocol: 'mqtt', port: 18883 }],
  ['tcp-framed over TLS', { name: 'tf', protocol: 'tcp-framed', port: 15222 }],
  ['tcp-framed obfuscated', { name: 'tfo', protocol: 'tcp-framed', port: 15223, tls: false }],
  [
    'udp-voice',
    {
      name: 'v',
      protocol: 'udp-voice',
      port: 13478,
      tls: false,
      codec: 'g711',
      frame_ns: 20e6,
      interval_ns: 20e6,
      size_bytes: 160,
    },
  ],
  [
    'bulk download',
    { name: 'bd', protocol: 'bulk', port: 18446, size_bytes: 100_000, direction: 'down' },
  ],
  [
    'bulk upload',
    { name: 'bu', protocol: 'bulk', port: 18447, size_bytes: 100_000, direction: 'up' },
  ],
];

describe('workload protocols on loopback', () => {
  it.each(cases)('%s delivers every message both ways', async (_, partial) => {
    const plain = loopbackWorkload(partial);
    // Connections log in and ping fast: every protocol carries the control frames both ways.
    const w =
      plain.transports.length === 0
        ? plain
        : {
            ...plain,
            keepalive: { interval_ns: 300e6, timeout_ns: 1e9, fail_after_ns: 0 },
            login: { round_trips: 2, bytes: 600 },
          };
    const { events, observedEnd, stderr } = await runOnLoopback([w], 2500);
    const stats = summarize({ events, workloads: [w], phases: phasesOf([], 2e9), observedEnd });
    const p = pooled(stats[0]!, null)!;
    expect(stderr).toBe('');
    expect(events.filter((e) => ['fail', 'detect', 'retry', 'giveup'].includes(e.ev))).toEqual([]);
    if (w.transports.length > 0) {
      const connects = events.filter((e) => e.ev === 'connect');
      expect(connects.map((e) => [e.transport, (e.login_ns ?? 0) > 0])).toEqual([
        [w.transports[0]!.label, true],
      ]);
    }
    expect(p.both.counted).toBeGreaterThan(0);
    expect(p.both.delivery).toBe(1);
    const dirs = p.scope.directions.filter((d) => d.dir !== 'both').map((d) => d.dir);
    expect(dirs).toEqual(w.direction === 'both' ? ['up', 'down'] : [w.direction]);
    if (w.protocol !== 'udp-voice') expect(p.scope.connect.count).toBeGreaterThan(0);
    if (w.tls) expect(p.scope.tls.count).toBeGreaterThan(0);
  });
});

describe('one TLS port serves every protocol of a host, as real servers on 443 do', () => {
  it('websocket, http2, longpoll, bulk and mqtt on one port all deliver', async () => {
    const port = 18450;
    const ws = [
      loopbackWorkload({ name: 'ws', protocol: 'websocket', port }),
      loopbackWorkload({ name: 'h2', protocol: 'http2', port }),
      loopbackWorkload({ name: 'lp', protocol: 'longpoll', port }),
      loopbackWorkload({ name: 'mq', protocol: 'mqtt', port }),
      loopbackWorkload({
        name: 'bd',
        protocol: 'bulk',
        port,
        size_bytes: 50_000,
        direction: 'down',
      }),
    ];
    const { events, observedEnd, stderr } = await runOnLoopback(ws, 3000);
    expect(stderr).toBe('');
    expect(events.filter((e) => e.ev === 'fail')).toEqual([]);
    const stats = summarize({ events, workloads: ws, phases: phasesOf([], 2e9), observedEnd });
    for (const [i, w] of ws.entries()) {
      const p = pooled(stats[i]!, null)!;
      expect(p.both.counted, w.name).toBeGreaterThan(0);
      expect(p.both.delivery, w.name).toBe(1);
    }
  });
});

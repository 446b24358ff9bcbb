import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.js';
import { trafficFor, BULK_WINDOW_BYTES } from '../../src/simulate/traffic.js';
import { summarise, type SimPacket } from '../../src/simulate/report.js';

describe('simulated traffic per workload', () => {
  it('opens TLS workloads with their SNI and calls with STUN, paced as configured', async () => {
    const { compiled } = await loadScenario('messengers');
    const flows = new Map(trafficFor(compiled).flows.map((f) => [f.name, f]));
    expect(flows.get('max-text')).toMatchObject({
      proto: 'tcp',
      interval_ns: 500e6,
      size_bytes: 200,
      first_payload: { tls_sni: 'ws-api.oneme.ru' },
    });
    expect(flows.get('wa-call')).toMatchObject({
      proto: 'udp',
      interval_ns: 20e6,
      direction: 'both',
      first_payload: { stun: true },
      server: expect.stringMatching(/:3478$/),
    });
  });

  it('runs bulk at one window per round trip, capped by the link', async () => {
    const { compiled } = await loadScenario('messengers');
    const bulk = trafficFor(compiled).flows.find((f) => f.name === 'wa-media')!;
    const rtt = compiled.network.uplink.delay_ns + compiled.network.downlink.delay_ns;
    const windowRate = (BULK_WINDOW_BYTES * 8 * 1e9) / rtt;
    expect(bulk.rate_bps).toBe(
      Math.round(Math.min(windowRate, compiled.network.downlink.rate_bps!)),
    );
    expect(bulk.direction).toBe('down');
  });
});

describe('simulation summary', () => {
  it('attributes packets to the phase they were sent in, with delivery, delay and throughput', async () => {
    const { compiled } = await loadScenario('messengers');
    const wa = compiled.workloads.findIndex((w) => w.name === 'wa-text');
    // Two packets in the baseline (one lost), one in the throttled phase.
    const packets: SimPacket[] = [
      [wa, 'up', 1e9, 200, 1.02e9],
      [wa, 'up', 2e9, 200, null],
      [wa, 'up', 21e9, 200, 21.5e9],
    ];
    const rows = summarise(compiled, trafficFor(compiled).flows, packets);
    expect(rows).toEqual([
      expect.objectContaining({
        workload: 'wa-text',
        phase: 'baseline',
        sent: 2,
        delivered: 1,
        // wa-text is TCP: packets are counted, but no delivery figure without retransmission.
        deliveredRatio: null,
        transport: 'tcp',
        delayP50Ms: 20,
      }),
      expect.objectContaining({
        workload: 'wa-text',
        phase: 'throttled',
        sent: 1,
        delivered: 1,
        delayP99Ms: 500,
      }),
    ]);
    expect(rows[0]!.throughputBps).toBeCloseTo((200 * 8) / 20, 6);
  });

  it('sums a phase named twice over both of its periods, in one row', async () => {
    // baseline 0-20 s, throttled 20-40 s, baseline again 40-60 s. Each baseline period got
    // a row holding both periods' packets, its throughput over one period's 20 s: twice
    // the rate, and the workload listed twice.
    const { compiled } = await loadScenario('messengers');
    const [baseline, throttled] = compiled.timeline;
    const twice = {
      ...compiled,
      timeline: [baseline!, throttled!, { ...baseline!, at_ns: 40e9 }],
    };
    const wa = compiled.workloads.findIndex((w) => w.name === 'wa-text');
    const packets: SimPacket[] = [
      [wa, 'up', 1e9, 200, 1.02e9],
      [wa, 'up', 41e9, 200, 41.02e9],
    ];
    const rows = summarise(twice, trafficFor(twice).flows, packets);
    expect(rows.map((r) => [r.phase, r.sent])).toEqual([['baseline', 2]]);
    expect(rows[0]!.throughputBps).toBeCloseTo((2 * 200 * 8) / 40, 6);
  });
});

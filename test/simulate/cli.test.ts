import { describe, expect, it } from 'vitest';
import { qoslab } from '../helpers/cli.js';

interface Row {
  workload: string;
  phase: string;
  direction: string;
  deliveredRatio: number | null;
  transport: string;
  throughputBps: number;
}

describe('qoslab simulate', () => {
  it('shows the Twitter policer cutting only the Twitter download in the throttled phase', async () => {
    const r = await qoslab(['simulate', 'ru-2021-twitter-sni-policer', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
    const row = (workload: string, phase: string) =>
      rows.find((x) => x.workload === workload && x.phase === phase && x.direction === 'down')!;
    // 150 kbit/s policer plus its 16 KB burst spread over the 40 s phase.
    expect(row('tw-media', 'throttled').throughputBps).toBeGreaterThan(145e3);
    expect(row('tw-media', 'throttled').throughputBps).toBeLessThan(160e3);
    expect(row('tw-media', 'baseline').throughputBps).toBeGreaterThan(10e6);
    // TCP workloads get no delivery figure: simulate has no retransmission.
    expect(row('control-media', 'throttled')).toMatchObject({
      transport: 'tcp',
      deliveredRatio: null,
    });
  });

  it('is deterministic for a seed', async () => {
    const a = await qoslab(['simulate', 'messengers', '--json', '--duration', '25s']);
    const b = await qoslab(['simulate', 'messengers', '--json', '--duration', '25s']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('rejects an unknown scenario and a bad duration with exit 2', async () => {
    expect((await qoslab(['simulate', 'nosuch'])).code).toBe(2);
    const r = await qoslab(['simulate', 'messengers', '--duration', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--duration must be a positive duration like 30s or 2m, got 'soon'");
  });
});

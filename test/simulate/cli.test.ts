import { describe, expect, it } from 'vitest';
import type { WorkloadStats } from '../../src/record/summary.js';
import { qoslab } from '../helpers/cli.js';

interface Report {
  tcp: string;
  workloads: WorkloadStats[];
  expectations: { text: string; outcome: string }[];
  unmodelled: Record<string, string[]>;
}

function both(r: Report, workload: string, phase: string) {
  const scope = r.workloads
    .find((w) => w.name === workload)!
    .scopes.find((s) => s.phase === phase)!;
  return scope.directions.find((d) => d.dir === 'both')!;
}

describe('qoslab simulate', () => {
  it('shows the Twitter policer holding the Twitter transfers to its rate, and no other', async () => {
    const r = await qoslab(['simulate', 'ru-2021-twitter-sni-policer', '--json', '--tcp', 'cubic']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.tcp).toBe('cubic');
    // 150 kbit/s with a 16 KB bucket: TCP gets below it, never above.
    const tw = both(report, 'tw-media', 'throttled').goodput_bps!;
    expect(tw).toBeGreaterThan(90e3);
    expect(tw).toBeLessThan(160e3);
    expect(both(report, 'tw-media', 'baseline').goodput_bps!).toBeGreaterThan(50e6);
    // A TCP workload has a delivery figure now: its messages are retransmitted.
    expect(both(report, 'control-media', 'throttled').delivery).toBe(1);
    // Both bounds of each policed transfer, and the control's delivery.
    expect(report.expectations.map((e) => e.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(report.unmodelled['control-media']).toEqual(["the lab's CPU (its path as 2 Gbit/s)"]);
  });

  it('prints the lab table with what it does not model, and the expectations as simulated', async () => {
    const r = await qoslab(['simulate', 'ru-2025-messenger-calls', '--tcp', 'bbr']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/60\.0 s in virtual time, TCP bbr \(--tcp\)/);
    expect(r.stdout).toMatch(/NOT MODELLED/);
    expect(r.stdout).toMatch(/wa-call .*signalling, video/);
    expect(r.stdout).not.toMatch(/n\/a \(tcp\)/);
    expect(r.stdout).toMatch(
      /expectations \(simulated\):\nok {3}wa-text\.delivery >= 99% during restricted/,
    );
  });

  it('leaves out what the lab resolver does, and says so instead of a number', async () => {
    // The twin has no resolver: the GFW's injected answers never reach its page workload.
    const r = await qoslab(['simulate', 'cn-gfw-dns-injection', '--json', '--tcp', 'bbr']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(both(report, 'google-lookup', 'censored').sent).toBe(0);
    expect(report.unmodelled['google-lookup']).toEqual([
      "the lab's resolver: no lookup is simulated",
    ]);
    expect(report.unmodelled['google-page']).toContain('name lookups, so policy gfw-dns');
    const outcome = (text: string) =>
      report.expectations.find((e) => e.text.startsWith(text))!.outcome;
    expect(outcome('google-lookup.')).toBe('not measured');
    expect(outcome('control-lookup.')).toBe('not measured');
    const table = await qoslab(['simulate', 'cn-gfw-dns-injection', '--tcp', 'bbr']);
    expect(table.stdout).toMatch(
      /-- {3}google-dot\.delivery .*the twin does not simulate this workload/,
    );
  });

  it('is deterministic for a seed', async () => {
    const a = await qoslab([
      'simulate',
      'messengers',
      '--json',
      '--duration',
      '25s',
      '--tcp',
      'bbr',
    ]);
    const b = await qoslab([
      'simulate',
      'messengers',
      '--json',
      '--duration',
      '25s',
      '--tcp',
      'bbr',
    ]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('rejects an unknown scenario, a bad duration and a bad congestion control with exit 2', async () => {
    expect((await qoslab(['simulate', 'nosuch'])).code).toBe(2);
    const r = await qoslab(['simulate', 'messengers', '--duration', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--duration must be a positive duration like 30s or 2m, got 'soon'");
    const t = await qoslab(['simulate', 'messengers', '--tcp', 'reno']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/tcp/);
  });
});

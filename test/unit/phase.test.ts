import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { startAtPhase } from '../../src/run/phase.js';
import { loadScenario } from '../../src/scenario/library.js';

describe('startAtPhase', () => {
  it('starts the timeline at the phase with its policies in force and shifts the rest', async () => {
    const { compiled } = await loadScenario('ru-2026-telegram-phased');
    const { compiled: c, offsetNs, skipped } = startAtPhase(compiled, 'slowed');
    expect(offsetNs).toBe(11e9);
    expect(c.duration_ns).toBe(compiled.duration_ns - 11e9);
    expect(c.timeline).toEqual([
      {
        at_ns: 0,
        phase: 'slowed',
        enable: ['call-restriction', 'phased-slowdown'],
        disable: [],
        active: ['call-restriction', 'phased-slowdown'],
        dns_active: [],
      },
      {
        at_ns: 5e9,
        phase: 'blocked',
        enable: ['block'],
        disable: [],
        active: ['call-restriction', 'phased-slowdown', 'block'],
        dns_active: [],
      },
    ]);
    expect(c.expect.map((e) => e.text)).toEqual([
      'tg-photo.goodput < 500kbit during slowed',
      'tg-photo.goodput >= 50kbit during slowed',
      'tg-text.delivery < 5% during blocked',
      'tg-text.connecting >= 20% during blocked',
      'tg-text.connecting <= 60% during blocked',
      'max-text.delivery >= 99% during blocked',
      'max-text.connecting < 1% during blocked',
    ]);
    const before = "phase 'calls' comes before 'slowed'";
    expect(skipped).toEqual([
      { text: 'tg-text.delivery >= 99% during calls', why: before },
      { text: 'tg-call.mos < 3.5 during calls', why: before },
      { text: 'tg-call.mos >= 1.2 during calls', why: before },
    ]);
  });

  it('shifts workload start and stop, and drops workloads that end before the phase', async () => {
    const { compiled } = await loadScenario('ir-2020-protocol-whitelister');
    const c = startAtPhase(compiled, 'filtered').compiled;
    const late = c.workloads.find((w) => w.name === 'mtproto-443')!;
    expect(late.start_ns).toBe(1e9);
    expect(late.stop_ns).toBe(c.duration_ns);
    const { compiled: gprs } = await loadScenario('link-loadero-gprs');
    const main = startAtPhase(gprs, 'main').compiled;
    expect(main.duration_ns).toBe(gprs.duration_ns);
    expect(main.workloads).toEqual(gprs.workloads);
  });

  it('keeps the message schedule of a workload already running at the phase', async () => {
    const { compiled } = await loadScenario('ru-2026-telegram-phased');
    const c = startAtPhase(compiled, 'calls').compiled;
    // Every 1 s from 0.5 s in the full run: 6.5 s, 7.5 s, ... - so 0.5 s after the phase
    // starts at 6 s, and never at the blocked phase's 16 s.
    expect(c.workloads.find((w) => w.name === 'tg-text')!.start_ns).toBe(500e6);
    // A workload that starts after the phase keeps its instant: the photo at 11.25 s.
    expect(c.workloads.find((w) => w.name === 'tg-photo')!.start_ns).toBe(5.25e9);
  });

  it('names the phases when the phase does not exist', async () => {
    const { compiled } = await loadScenario('ru-2021-twitter-sni-policer');
    expect(() => startAtPhase(compiled, 'throttle')).toThrow(UsageError);
    expect(() => startAtPhase(compiled, 'throttle')).toThrow(
      "scenario 'ru-2021-twitter-sni-policer' has no phase 'throttle'; did you mean 'throttled'? (phases: baseline, throttled)",
    );
  });
});

import { describe, expect, it } from 'vitest';
import { TimelinePlayer, type TimelineEntry } from '../../src/orchestrate/timeline.js';

const entry = (at_ns: number, phase: string, active: string[]): TimelineEntry => ({
  at_ns,
  phase,
  enable: [],
  disable: [],
  active,
});

/** A virtual clock with a timer queue: the player runs without real time passing. */
function virtualClock() {
  let now = 0n;
  const timers: { at: bigint; fn: () => void }[] = [];
  return {
    hooks: {
      now: () => now,
      setTimer: (fn: () => void, ms: number) => {
        const t = { at: now + BigInt(Math.round(ms * 1e6)), fn };
        timers.push(t);
        return t;
      },
      clearTimer: (t: unknown) => timers.splice(timers.indexOf(t as (typeof timers)[0]), 1),
    },
    advanceTo(ns: bigint) {
      for (;;) {
        timers.sort((a, b) => (a.at < b.at ? -1 : 1));
        const t = timers[0];
        if (t === undefined || t.at > ns) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = ns;
    },
    pending: () => timers.length,
  };
}

describe('timeline player', () => {
  it('applies each entry at its instant, in order, with the full active set', () => {
    const clock = virtualClock();
    const applied: [bigint, string[]][] = [];
    const phases: string[] = [];
    const player = new TimelinePlayer(
      [
        entry(20e9, 'throttled', ['a', 'b']),
        entry(0, 'baseline', []),
        entry(50e9, 'lifted', ['b']),
      ],
      {
        ...clock.hooks,
        apply: (active) => applied.push([clock.hooks.now(), active]),
        onPhase: (c) => phases.push(c.phase),
      },
    );
    player.start();
    expect(applied).toEqual([[0n, []]]);
    clock.advanceTo(19_999_999_999n);
    expect(phases).toEqual(['baseline']);
    clock.advanceTo(20_000_000_000n);
    expect(applied.at(-1)).toEqual([20_000_000_000n, ['a', 'b']]);
    clock.advanceTo(60_000_000_000n);
    expect(phases).toEqual(['baseline', 'throttled', 'lifted']);
    expect(applied.at(-1)).toEqual([50_000_000_000n, ['b']]);
    expect(player.phase).toBe('lifted');
    expect(clock.pending()).toBe(0);
  });

  it('stops scheduling after stop()', () => {
    const clock = virtualClock();
    const applied: string[][] = [];
    const player = new TimelinePlayer([entry(0, 'a', []), entry(1e9, 'b', ['x'])], {
      ...clock.hooks,
      apply: (active) => applied.push(active),
    });
    player.start();
    player.stop();
    clock.advanceTo(5_000_000_000n);
    expect(applied).toEqual([[]]);
  });

  it('plays from the origin it is given and reports when apply returned', () => {
    const clock = virtualClock();
    clock.advanceTo(3_000_000n); // the run's t0 was 3 ms ago
    const changes: [string, number, number][] = [];
    const player = new TimelinePlayer([entry(0, 'a', []), entry(1e9, 'b', ['x'])], {
      ...clock.hooks,
      // Handing the set to the core takes 0.2 ms of this clock.
      apply: () => clock.advanceTo(clock.hooks.now() + 200_000n),
      onPhase: (c) => changes.push([c.phase, c.atNs, c.appliedNs]),
    });
    player.start(0n);
    expect(changes).toEqual([['a', 0, 3_200_000]]);
    clock.advanceTo(1_000_000_000n);
    // Due 1 s after the origin, not 1 s after start() was called.
    expect(changes[1]).toEqual(['b', 1e9, 1e9 + 200_000]);
  });
});

/**
 * The pacer keeps its schedule below a millisecond: every tick due by a timer turn goes
 * out in that turn, so the planned count is met although Node's timers fire at most about
 * once a millisecond.
 */
import { describe, expect, it } from 'vitest';
import { now } from '../../src/workloads/clock.js';
import { intervalNs } from '../../src/scenario/budget.js';
import { Pacer } from '../../src/workloads/pacer.js';
import { workload } from '../metrics/workload.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Pacer', () => {
  it('sends every tick of a 200 us interval, in batches per timer turn', async () => {
    const from = now() + 5_000_000n;
    const until = from + 300_000_000n;
    const sent: { seq: number; at: bigint }[] = [];
    const p = new Pacer(from, until, 200_000, (seq) => sent.push({ seq, at: now() })).start();
    await sleep(400);
    p.stop();
    // 300 ms / 200 us: one timer turn per message would have sent about 300.
    expect(sent).toHaveLength(1500);
    expect(sent.map((s) => s.seq)).toEqual([...Array(1500).keys()]);
    // No tick before it is due.
    for (const s of sent) expect(s.at).toBeGreaterThanOrEqual(from + BigInt(s.seq * 200_000));
  });

  it('stops at once, mid-schedule', async () => {
    const from = now();
    let n = 0;
    const p = new Pacer(from, from + 1_000_000_000n, 1_000_000, () => n++).start();
    await sleep(50);
    p.stop();
    const atStop = n;
    await sleep(50);
    expect(n).toBe(atStop);
    expect(atStop).toBeGreaterThan(20);
  });

  it('rate and size give the interval', () => {
    const w = workload({ interval_ns: null, rate_bps: 50e6, size_bytes: 1000 });
    expect(intervalNs(w)).toBe(160_000);
  });
});

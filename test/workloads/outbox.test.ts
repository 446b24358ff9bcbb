import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/workloads/backoff.js';
import { seededRandom } from '../../src/workloads/clock.js';
import { decodeMessage, encodeMessage, Kind } from '../../src/workloads/message.js';
import { Inbox, Outbox } from '../../src/workloads/outbox.js';

const msg = (seq: number) =>
  encodeMessage({ kind: Kind.data, dir: 'up', w: 0, c: 0, seq, sentAbs: 1000n, length: 64 });
const seqs = (frames: Buffer[]) => frames.map((b) => decodeMessage(b)!.seq);
const attempts = (frames: Buffer[]) => frames.map((b) => decodeMessage(b)!.attempt);

function recorder() {
  const events: string[] = [];
  return {
    events,
    on: {
      retry: (seq: number, attempt: number) => events.push(`retry ${seq} #${attempt}`),
      giveUp: (seq: number, n: number) => events.push(`giveup ${seq} after ${n}`),
    },
  };
}

describe('the outbox', () => {
  it('queues while there is no connection and writes in order once there is one', () => {
    const box = new Outbox({ timeout_ns: null, retries: null, give_up_ns: null });
    box.push(0, msg(0));
    box.push(1, msg(1));
    const wire: Buffer[] = [];
    box.attach((b) => wire.push(b));
    box.push(2, msg(2));
    expect(seqs(wire)).toEqual([0, 1, 2]);
    expect(box.size).toBe(3); // kept until acknowledged
    box.ack(1);
    expect(box.size).toBe(2);
  });

  it('resends on the next connection what the last one did not acknowledge, marked as a resend, once', () => {
    const { events, on } = recorder();
    const box = new Outbox({ timeout_ns: null, retries: null, give_up_ns: null }, on);
    const first: Buffer[] = [];
    const sink1 = (b: Buffer) => first.push(b);
    box.attach(sink1);
    for (let s = 0; s < 4; s++) box.push(s, msg(s));
    box.ack(0);
    box.ack(2);
    box.detach(sink1);
    box.push(4, msg(4)); // queued while disconnected: a first write, not a resend
    box.resend();
    const second: Buffer[] = [];
    box.attach((b) => second.push(b));
    expect(seqs(second)).toEqual([1, 3, 4]);
    expect(attempts(second)).toEqual([1, 1, 0]);
    expect(events).toEqual(['retry 1 #1', 'retry 3 #1']);
    // The same connection again (a longpoll re-attach) is not a new connection: nothing twice.
    const again: Buffer[] = [];
    box.attach((b) => again.push(b));
    expect(again).toEqual([]);
  });

  it('on a new connection whose down stream opened before its hello, keeps what that stream was written', () => {
    const box = new Outbox({ timeout_ns: null, retries: null, give_up_ns: null });
    const old: Buffer[] = [];
    box.attach((b) => old.push(b));
    box.push(0, msg(0)); // written to the old connection, never acknowledged
    const fresh: Buffer[] = [];
    const stream = (b: Buffer) => fresh.push(b);
    box.attach(stream); // an HTTP/2 down stream of the new connection
    box.push(1, msg(1));
    box.resend(stream); // its hello arrives
    expect(seqs(fresh)).toEqual([1, 0]);
    expect(attempts(fresh)).toEqual([0, 1]);
  });

  it('resends on the current connection what an older one was written and never acknowledged, after the timeout', () => {
    const { events, on } = recorder();
    const box = new Outbox({ timeout_ns: 3e9, retries: null, give_up_ns: null }, on);
    const stale: Buffer[] = [];
    const poll1 = (b: Buffer) => stale.push(b);
    box.attach(poll1); // a long poll whose connection died without the server hearing
    box.push(0, msg(0));
    const fresh: Buffer[] = [];
    box.attach((b) => fresh.push(b)); // the next poll, of the new connection
    box.resendStale(process.hrtime.bigint() + 2_000_000_000n);
    expect(fresh).toEqual([]); // not yet: an acknowledgement may still come
    box.resendStale(process.hrtime.bigint() + 3_000_000_000n);
    expect(seqs(fresh)).toEqual([0]);
    expect(events).toEqual(['retry 0 #1']);
    // What the current connection was written is left to it.
    box.push(1, msg(1));
    box.resendStale(process.hrtime.bigint() + 10_000_000_000n);
    expect(seqs(fresh)).toEqual([0, 1]);
  });

  it('gives up a message after its retries, and one older than give-up', () => {
    const { events, on } = recorder();
    const box = new Outbox({ timeout_ns: null, retries: 1, give_up_ns: 60e9 }, on);
    box.attach(() => {});
    box.push(7, msg(7));
    box.resend(); // second write
    box.resend(); // a third would exceed 1 retry
    expect(events).toEqual(['retry 7 #1', 'giveup 7 after 2']);
    expect(box.size).toBe(0);
    box.push(8, msg(8));
    box.sweep(process.hrtime.bigint() + 59_000_000_000n);
    expect(box.size).toBe(1);
    box.sweep(process.hrtime.bigint() + 61_000_000_000n);
    expect(box.size).toBe(0);
    expect(events.at(-1)).toBe('giveup 8 after 1');
  });

  it('without a policy writes each message once, as a plain socket', () => {
    const box = new Outbox(null);
    const wire: Buffer[] = [];
    box.attach((b) => wire.push(b));
    box.push(0, msg(0));
    box.resend();
    box.attach((b) => wire.push(b));
    expect(seqs(wire)).toEqual([0]);
    expect(box.oldestUnacked()).toBeUndefined();
  });

  it('holds data (not control frames) while a login is under way', () => {
    const box = new Outbox({ timeout_ns: null, retries: null, give_up_ns: null });
    const wire: Buffer[] = [];
    box.hold(true);
    box.attach((b) => wire.push(b));
    box.push(0, msg(0));
    box.pushControl(Buffer.from('pong'));
    expect(wire.map((b) => b.length)).toEqual([4]);
    box.hold(false);
    expect(wire.length).toBe(2);
  });

  it('the receiving side counts a resend it already had once', () => {
    const inbox = new Inbox();
    expect([inbox.first(3), inbox.first(3), inbox.first(4)]).toEqual([true, false, true]);
  });
});

describe('reconnect waits', () => {
  const ms = (b: Backoff, n: number) => Array.from({ length: n }, () => Math.round(b.next()));
  it("whatsmeow's: at once, then 2 s more after each failure (linear)", () => {
    const b = new Backoff(() => 0.5, {
      first_ns: 0,
      initial_ns: 2e9,
      factor: 1,
      step_ns: 2e9,
      cap_ns: 3600e9,
      jitter: 0,
    });
    expect(ms(b, 5)).toEqual([0, 2000, 4000, 6000, 8000]);
    b.reset();
    expect(ms(b, 2)).toEqual([0, 2000]);
  });

  it('doubling to a cap, with the seeded jitter taking off at most its share', () => {
    const r = { first_ns: 1e9, initial_ns: 1e9, factor: 2, step_ns: 0, cap_ns: 8e9, jitter: 0.5 };
    expect(ms(new Backoff(() => 0, r), 6)).toEqual([1000, 1000, 2000, 4000, 8000, 8000]);
    const waits = ms(new Backoff(seededRandom(3), r), 6);
    const again = ms(new Backoff(seededRandom(3), r), 6);
    expect(waits).toEqual(again);
    [1000, 1000, 2000, 4000, 8000, 8000].forEach((full, i) => {
      expect(waits[i]).toBeGreaterThan(full / 2 - 1);
      expect(waits[i]).toBeLessThanOrEqual(full);
    });
  });
});

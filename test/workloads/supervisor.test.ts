import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/record/events.js';
import { compileSession } from '../../src/scenario/session.js';
import { now, sleepMs } from '../../src/workloads/clock.js';
import { controlFrame, decodeMessage, Kind } from '../../src/workloads/message.js';
import type { Conn, Dialer } from '../../src/workloads/session.js';
import { runSession } from '../../src/workloads/supervisor.js';
import type { AgentContext } from '../../src/workloads/types.js';
import { workload } from '../metrics/workload.js';

/**
 * A server in memory: it answers hellos, logins, pings and messages as the hub does, until
 * `frozen` says the path is gone (nothing is answered, nothing closes).
 */
function fakeServer() {
  const state = { frozen: false, conns: 0, received: new Set<number>() };
  const dialer: Dialer = async (onMessage) => {
    state.conns++;
    const conn: Conn = {
      send: (b) => {
        const h = decodeMessage(b);
        if (h === undefined || state.frozen) return;
        const back = { dir: 'down' as const, w: h.w, c: h.c };
        if (h.kind === Kind.data) state.received.add(h.seq);
        const answer =
          h.kind === Kind.data
            ? controlFrame(Kind.ack, { ...back, dir: 'up' }, h.seq, now())
            : h.kind === Kind.ping
              ? controlFrame(Kind.pong, back, h.seq, now())
              : h.kind === Kind.login
                ? controlFrame(Kind.loginOk, back, h.seq, now())
                : undefined;
        if (answer !== undefined) setTimeout(() => onMessage(answer), 2);
      },
      close: () => {},
      closed: new Promise(() => {}),
    };
    return conn;
  };
  return { state, dialer };
}

describe('the connection supervisor', () => {
  it(
    'falls back after `after`, logs in, notices a freeze by its keepalive and resends what was lost',
    { timeout: 10_000 },
    async () => {
      const base = compileSession({ protocol: 'websocket' }, { port: 443, tls: true });
      const second = { ...base.transports[0]!, label: 'b', after_ns: 300e6 };
      const w = workload({
        ...base,
        interval_ns: 50e6,
        stop_ns: 5e9,
        keepalive: { interval_ns: 100e6, timeout_ns: 100e6, fail_after_ns: 0 },
        reconnect: {
          first_ns: 0,
          initial_ns: 50e6,
          factor: 1,
          step_ns: 0,
          cap_ns: 50e6,
          jitter: 0,
        },
        login: { round_trips: 2, bytes: 200 },
        transports: [{ ...base.transports[0]!, label: 'a' }, second],
      });
      const events: AgentEvent[] = [];
      const stop = new AbortController();
      const ctx: AgentContext = {
        workloads: [w],
        seed: 1,
        t0: now(),
        emit: (e) => events.push(e),
        signal: stop.signal,
        caPem: '',
        spki: [],
      };
      const server = fakeServer();
      const refused: Dialer = async () => {
        await sleepMs(20);
        throw new Error('refused');
      };
      const running = runSession(0, 0, ctx, [refused, server.dialer]);
      await sleepMs(1200);
      server.state.frozen = true; // from here the path swallows everything
      await sleepMs(500);
      server.state.frozen = false;
      // A login begun in the freeze gets its full 2 s before the chain turns over.
      await sleepMs(3000);
      stop.abort();
      await running;

      const of = <T extends AgentEvent['ev']>(ev: T) =>
        events.filter((e): e is Extract<AgentEvent, { ev: T }> => e.ev === ev);
      // Transport a refused, then b, logged in.
      const fails = of('fail');
      const connects = of('connect');
      expect(fails.length).toBeGreaterThanOrEqual(1);
      const before = fails.filter((f) => f.t < connects[0]!.t);
      expect(before.map((f) => f.error)).toEqual(before.map(() => 'a: refused'));
      // During the freeze the kept transport's login goes unanswered, and the chain turns over.
      expect(fails.some((f) => f.error.startsWith('b: login round trip'))).toBe(true);
      expect(connects.map((c) => [c.transport, c.reconnect])).toEqual([
        ['b', false],
        ['b', true],
      ]);
      // a's 300 ms leave no room for another 2 s attempt: one refusal (20 ms), then b.
      expect(connects[0]!.setup_ns).toBeGreaterThanOrEqual(20e6);
      expect(connects[0]!.setup_ns).toBeLessThan(300e6);
      expect(connects[0]!.login_ns).toBeGreaterThan(0);
      // The freeze noticed within a ping interval and its timeout (and the quarter-second check).
      const [detect] = of('detect');
      expect(detect!.cause).toBe('keepalive');
      expect(detect!.silent_ns).toBeLessThanOrEqual(100e6 + 100e6 + 250e6 + 50e6);
      expect(connects[1]!.recover_ns).toBeGreaterThanOrEqual(detect!.silent_ns);
      // What was written into the freeze went again, and everything sent reached the server.
      expect(of('retry').length).toBeGreaterThan(0);
      const sent = of('send').map((s) => s.seq);
      const lastAcked = sent.filter((s) => s <= sent.length - 5); // the last few may be in flight
      expect(lastAcked.filter((s) => !server.state.received.has(s))).toEqual([]);
      expect(of('giveup')).toEqual([]);
    },
  );
});

import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { now } from '../../src/workloads/clock.js';
import { Hub } from '../../src/workloads/hub.js';
import { longpoll } from '../../src/workloads/longpoll.js';
import {
  decodeMessage,
  encodeMessage,
  helloFrame,
  Kind,
  LengthPrefixed,
} from '../../src/workloads/message.js';
import type { Request, Response, ServerContext } from '../../src/workloads/types.js';
import { loopbackWorkload, quietContext } from './harness.js';

/** A request the long-poll server answers, and what it answered. */
function request(method: 'GET' | 'POST', url: string, body?: Buffer) {
  const req = Object.assign(new EventEmitter(), { method, url });
  const res = Object.assign(new EventEmitter(), {
    writableEnded: false,
    destroyed: false,
    status: 0,
    body: undefined as Buffer | undefined,
    writeHead(status: number) {
      res.status = status;
      return res;
    },
    end(b?: Buffer) {
      res.writableEnded = true;
      res.body = b ?? Buffer.alloc(0);
    },
  });
  const sent = () => {
    if (body === undefined) return;
    req.emit('data', body);
    req.emit('end');
  };
  return { req: req as unknown as Request, res, sent };
}

/** The data messages' seqs (and pongs as 'pong') an answered poll carried. */
const carried = (body: Buffer | undefined) => {
  const out: (number | string)[] = [];
  new LengthPrefixed((f) => {
    const h = decodeMessage(Buffer.from(f))!;
    out.push(h.kind === Kind.data ? h.seq : 'other');
  }).push(body ?? Buffer.alloc(0));
  return out;
};
const tick = () => new Promise((r) => setImmediate(r));

describe('the long-poll server', () => {
  // Down messages are sent by the test itself (direction up: the hub paces none).
  const w = loopbackWorkload({ name: 'lp', protocol: 'longpoll', port: 1, direction: 'up' });
  const hub = new Hub([0]);
  const ctx = { ...quietContext([w]), certs: {}, hub } as ServerContext;
  hub.begin(ctx);
  afterEach(() => hub.stop());
  const down = (seq: number, c: number) =>
    encodeMessage({ kind: Kind.data, dir: 'down', w: 0, c, seq, sentAbs: now(), length: 64 });
  // The hub's down outbox of connection 0, as its pacer would fill it.
  const push = (seq: number, c = 0) =>
    (
      hub as unknown as {
        side(w: number, c: number): { outbox: { push(s: number, m: Buffer): void } };
      }
    )
      .side(0, c)
      .outbox.push(seq, down(seq, c));

  it('keeps one queue per connection: a poll from a dead one takes nothing of the live one', async () => {
    const service = await longpoll.share!(ctx);
    const serve = (r: ReturnType<typeof request>) => {
      expect(service.request!(r.req, r.res as unknown as Response)).toBe(true);
      r.sent();
    };
    // Connection A says hello and polls; message 0 reaches it.
    serve(request('POST', '/lp/0/0/aaaa', helloFrame(0, 0, now())));
    const a1 = request('GET', '/poll/0/0/aaaa');
    serve(a1);
    push(0);
    await tick();
    expect(carried(a1.res.body)).toEqual([0]);
    // A newer poll on A answers the one held before it at once, empty.
    const a2 = request('GET', '/poll/0/0/aaaa');
    serve(a2);
    const a3 = request('GET', '/poll/0/0/aaaa');
    serve(a3);
    expect(a2.res.status).toBe(200);
    expect(carried(a2.res.body)).toEqual([]);
    // Connection B (a redial) says hello: message 0, written to A and not acknowledged,
    // goes again to B; A's held poll is let go.
    serve(request('POST', '/lp/0/0/bbbb', helloFrame(0, 0, now())));
    await tick();
    expect(carried(a3.res.body)).toEqual([]);
    // A poll on A arrives late (sent before A died): it gets nothing of B's.
    const late = request('GET', '/poll/0/0/aaaa');
    serve(late);
    push(1);
    const b1 = request('GET', '/poll/0/0/bbbb');
    serve(b1);
    await tick();
    expect(carried(b1.res.body)).toEqual([0, 1]);
    expect(late.res.body).toBeUndefined();
    late.res.emit('close');
  });

  it('a connection whose hello found nothing to write keeps its queue across polls', async () => {
    const service = await longpoll.share!(ctx);
    const serve = (r: ReturnType<typeof request>) => {
      expect(service.request!(r.req, r.res as unknown as Response)).toBe(true);
      r.sent();
    };
    // Workload connection 1: nothing queued for it, so its hello writes nothing.
    serve(request('POST', '/lp/0/1/cccc', helloFrame(0, 1, now())));
    await tick();
    // Its first poll ends unanswered (closed, as one held past its time would be).
    const first = request('GET', '/poll/0/1/cccc');
    serve(first);
    first.res.emit('close');
    push(10, 1);
    const next = request('GET', '/poll/0/1/cccc');
    serve(next);
    await tick();
    expect(carried(next.res.body)).toEqual([10]);
    next.res.emit('close');
  });
});

import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { longpoll } from '../../src/workloads/longpoll.js';
import { LengthPrefixed } from '../../src/workloads/message.js';
import type { Request, Response, ServerContext } from '../../src/workloads/types.js';

/** A hub with one workload connection: the newest attached sink takes the messages. */
function fakeHub() {
  const sinks: ((b: Buffer) => void)[] = [];
  return {
    sinks,
    attach(_w: number, _c: number, send: (b: Buffer) => void) {
      sinks.push(send);
      return () => sinks.splice(sinks.indexOf(send), 1);
    },
    send(b: Buffer) {
      sinks[sinks.length - 1]?.(b);
    },
  };
}

/** A held GET and what was answered to it. */
function pollRequest() {
  const res = Object.assign(new EventEmitter(), {
    writableEnded: false,
    destroyed: false,
    status: 0,
    body: undefined as Buffer | undefined,
    writeHead(status: number) {
      res.status = status;
      return res;
    },
    end(body: Buffer) {
      res.writableEnded = true;
      res.body = body;
    },
  });
  const req = { method: 'GET', url: '/poll/0/0' };
  return { req: req as unknown as Request, res: res as unknown as Response & typeof res };
}

const frames = (body: Buffer | undefined) => {
  const out: string[] = [];
  new LengthPrefixed((f) => out.push(Buffer.from(f).toString())).push(body ?? Buffer.alloc(0));
  return out;
};
const tick = () => new Promise((r) => setImmediate(r));

describe('the long-poll server', () => {
  it('answers a held poll at once when a newer one for the same connection arrives', async () => {
    const hub = fakeHub();
    const service = await longpoll.share!({ hub } as unknown as ServerContext);
    // The live poll is held; then one from a dead connection arrives (a retransmission
    // once the path returned) and takes the next message into nothing.
    const live = pollRequest();
    service.request!(live.req, live.res);
    const ghost = pollRequest();
    service.request!(ghost.req, ghost.res);
    // The live poll is not left waiting out its 20 s hold: it is answered, empty, and
    // its client polls again.
    expect(live.res.status).toBe(200);
    expect(frames(live.res.body)).toEqual([]);
    hub.send(Buffer.from('m1'));
    await tick();
    expect(frames(ghost.res.body)).toEqual(['m1']);
    const again = pollRequest();
    service.request!(again.req, again.res);
    hub.send(Buffer.from('m2'));
    await tick();
    expect(frames(again.res.body)).toEqual(['m2']);
    expect(hub.sinks).toEqual([]);
  });

  it('a poll whose connection closed is let go without an answer', async () => {
    const hub = fakeHub();
    const service = await longpoll.share!({ hub } as unknown as ServerContext);
    const gone = pollRequest();
    service.request!(gone.req, gone.res);
    gone.res.emit('close');
    expect(hub.sinks).toEqual([]);
    const next = pollRequest();
    service.request!(next.req, next.res);
    expect(gone.res.status).toBe(0);
    hub.send(Buffer.from('m'));
    await tick();
    expect(frames(next.res.body)).toEqual(['m']);
  });
});

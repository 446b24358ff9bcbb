import { expect, it } from 'vitest';
import { now } from '../../src/workloads/clock.js';
import { Hub } from '../../src/workloads/hub.js';
import { controlFrame, decodeMessage, encodeMessage, Kind } from '../../src/workloads/message.js';
import { loopbackWorkload, quietContext } from './harness.js';

// A long poll's POSTs can keep answering while its poll has died: the keepalive must
// check the way down messages come, so the pong travels that way, not in the POST's
// response; acknowledgements and login answers still come back with the request.
it('answers a ping on the down path and a message in the request that carried it', () => {
  const w = loopbackWorkload({ name: 'lp', protocol: 'longpoll', port: 1, direction: 'up' });
  const hub = new Hub([0]);
  const ctx = quietContext([w]);
  hub.begin(ctx);
  try {
    const down: number[] = [];
    const detach = hub.attach(0, 0, (b) => down.push(decodeMessage(b)!.kind));
    const up = { dir: 'up' as const, w: 0, c: 0 };
    const replied: number[] = [];
    const reply = (b: Buffer) => replied.push(decodeMessage(b)!.kind);
    hub.receive(controlFrame(Kind.ping, up, 0, now()), undefined, reply);
    const data = encodeMessage({ kind: Kind.data, ...up, seq: 0, sentAbs: now(), length: 64 });
    hub.receive(data, undefined, reply);
    expect(down).toEqual([Kind.pong]);
    expect(replied).toEqual([Kind.ack]);
    // With no poll held, the pong waits for the next one.
    detach();
    hub.receive(controlFrame(Kind.ping, up, 1, now()), undefined, reply);
    const next: number[] = [];
    hub.attach(0, 0, (b) => next.push(decodeMessage(b)!.kind));
    expect(next).toEqual([Kind.pong]);
  } finally {
    hub.stop();
  }
});

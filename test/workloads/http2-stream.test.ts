import { expect, it } from 'vitest';
import { makeLabPki } from '../../src/orchestrate/pki.js';
import { now, sleepMs } from '../../src/workloads/clock.js';
import { serveGroup, serverGroups } from '../../src/workloads/groups.js';
import { http2Dialer } from '../../src/workloads/http2.js';
import { Hub } from '../../src/workloads/hub.js';
import type { ServerContext } from '../../src/workloads/types.js';
import { loopbackWorkload } from './harness.js';

// The dialer's signal carries the connect timeout (10 s in a run); once connected, the
// down stream must not end with it. Takes about 1 s.
it('an http2 down stream outlives the signal of the attempt that opened it', async () => {
  const w = loopbackWorkload({ name: 'h2', protocol: 'http2', port: 18461, interval_ns: 50e6 });
  const pki = await makeLabPki([['localhost']], 'test');
  const hub = new Hub([0]);
  const ctx: ServerContext = {
    workloads: [w],
    seed: 1,
    t0: now(),
    emit: () => {},
    signal: new AbortController().signal,
    caPem: pki.caPem,
    spki: [],
    certs: pki.certs,
    hub,
  };
  const listening = (
    await Promise.all(serverGroups([w], false).map((g) => serveGroup(g, ctx)))
  ).flat();
  hub.begin(ctx);
  const attempt = new AbortController();
  let received = 0;
  let closed: string | undefined;
  try {
    const conn = await http2Dialer(
      0,
      0,
      ctx,
      w.transports[0]!,
    )(() => received++, { start: now() }, attempt.signal);
    void conn.closed.then((reason) => (closed = reason));
    attempt.abort(new Error('connect timed out'));
    const before = received;
    await sleepMs(500);
    conn.close();
    expect(closed).toBeUndefined();
    expect(received - before).toBeGreaterThanOrEqual(5);
  } finally {
    hub.stop();
    await Promise.all(listening.map((l) => l.close()));
  }
});

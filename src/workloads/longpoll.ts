/**
 * longpoll: HTTP/1.1 long polling (over TLS by default): messages up as POSTs on one
 * connection, down as the answers to a GET that the server holds until it has something
 * (or 20 s pass), on a second — the classic fallback transport of web messengers.
 */
import { Client, Pool } from 'undici';
import { errorText } from './dial.js';
import { postMessage, readAnswers } from './http-routes.js';
import { LengthPrefixed } from './message.js';
import type { Dialer } from './session.js';

/** Connections a long-polling client posts over (browsers open up to 6 per host). */
const POST_CONNECTIONS = 6;
import type { Protocol, Request, Response } from './types.js';
import { timedConnector } from './undici-connect.js';

/** How long the server holds an empty poll. */
export const POLL_HOLD_MS = 20_000;

export const longpoll: Protocol = {
  async share(ctx) {
    /**
     * The poll held for each workload connection ("w/c"). A newer poll answers the one
     * held before it at once, as long-polling servers do: a poll sent on a connection
     * that died can reach the server after the live one (a retransmission once the path
     * returns), take the messages and answer into nothing, while the live poll — no
     * longer the one written to — would wait out its hold and the client never notice.
     */
    const held = new Map<string, () => void>();
    const poll = (req: Request, res: Response): boolean => {
      const m = req.method === 'GET' ? /^\/poll\/(\d+)\/(\d+)$/.exec(req.url ?? '') : null;
      if (m === null) return false;
      const key = `${m[1]}/${m[2]}`;
      held.get(key)?.();
      const batch: Buffer[] = [];
      let done = false;
      const release = () => {
        done = true;
        clearTimeout(timer);
        detach();
        if (held.get(key) === finish) held.delete(key);
      };
      const finish = () => {
        if (done) return;
        release();
        if (res.writableEnded || res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.concat(batch.map((b) => LengthPrefixed.frame(b))));
      };
      // Whatever is queued arrives synchronously inside attach(); answer once it has.
      const detach = ctx.hub.attach(Number(m[1]), Number(m[2]), (b) => {
        batch.push(b);
        queueMicrotask(finish);
      });
      const timer = setTimeout(finish, POLL_HOLD_MS);
      if (!done) held.set(key, finish);
      res.on('close', () => {
        if (!done) release();
      });
      return true;
    };
    return { request: (req, res) => postMessage(ctx, req, res) || poll(req, res) };
  },

  dialer(index, c, ctx, via): Dialer {
    const w = ctx.workloads[index]!;
    const origin = `${via.tls ? 'https' : 'http'}://${w.server_name}:${via.port}`;
    const target = { host: w.server_name, port: via.port, tls: via.tls, caPem: ctx.caPem };
    return async (onMessage, timing, signal) => {
      let connected: () => void = () => {};
      const ready = new Promise<void>((r) => (connected = r));
      const options = { headersTimeout: POLL_HOLD_MS + 10_000, bodyTimeout: POLL_HOLD_MS + 10_000 };
      const poller = new Client(origin, {
        ...options,
        connect: timedConnector(target, (t) => {
          Object.assign(timing, t);
          connected();
        }),
      });
      // HTTP/1.1 sends one POST per round trip per connection; like a browser (6 per
      // host), post over a small pool so messages do not queue behind each other.
      const poster = new Pool(origin, {
        ...options,
        connections: POST_CONNECTIONS,
        connect: timedConnector(target, () => {}),
      });
      const destroy = () => {
        void poller.destroy().catch(() => {});
        void poster.destroy().catch(() => {});
      };
      let closedResolve: (reason: string) => void = () => {};
      const closed = new Promise<string>((r) => (closedResolve = r));
      const frames = new LengthPrefixed((f) => onMessage(Buffer.from(f)));
      let first: Promise<unknown> | undefined;
      const poll = async () => {
        for (;;) {
          const res = await poller.request({ path: `/poll/${index}/${c}`, method: 'GET' });
          if (res.statusCode !== 200) throw new Error(`poll: HTTP ${res.statusCode}`);
          for await (const chunk of res.body) frames.push(chunk as Buffer);
        }
      };
      first = poll().catch((e) => closedResolve(errorText(e)));
      const onAbort = () => destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      await Promise.race([ready, first.then(() => Promise.reject(new Error('poll failed')))]);
      signal.removeEventListener('abort', onAbort);
      return {
        send: (b) => {
          poster
            .request({ path: '/m', method: 'POST', body: b })
            .then((r) => readAnswers(r.body, (f) => onMessage(f)))
            .catch(() => {});
        },
        close: destroy,
        closed,
      };
    };
  },
};

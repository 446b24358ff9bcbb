/**
 * longpoll: HTTP/1.1 long polling (over TLS by default): messages up as POSTs on one
 * connection, down as the answers to a GET that the server holds until it has something
 * (or 20 s pass), on a second — the classic fallback transport of web messengers.
 */
import { randomBytes } from 'node:crypto';
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

/**
 * One client connection as the long-poll server keeps it (a dial's token names it, in its
 * poll and post paths): what the hub wrote to it waits here until a poll takes it. The
 * hub's outbox writes to `sink`, one function for the whole connection — as a WebSocket's
 * — so that a message one poll took is not taken for lost at the hello, and a poll sent on
 * a connection that has since died (a retransmission once the path returns) takes only
 * what was written to that connection, which the next hello resends.
 */
interface PollSession {
  sink: (b: Buffer) => void;
  queue: Buffer[];
  /** The poll held for this connection, if any: answers it with what it has now. */
  answer: (() => void) | undefined;
}

/** Frames a session keeps for its next poll at most (the outbox bounds what it writes). */
const SESSION_QUEUE_LIMIT = 20_000;

export const longpoll: Protocol = {
  async share(ctx) {
    const sessions = new Map<string, PollSession>();
    /** The newest connection of each workload connection ("w/c"): a hello replaces it. */
    const newest = new Map<string, string>();
    const sessionOf = (wc: string, token: string): PollSession => {
      const key = `${wc}/${token}`;
      let session = sessions.get(key);
      if (session === undefined) {
        const created: PollSession = {
          queue: [],
          answer: undefined,
          // The hub writes here only once this connection's hello attached it: it is then
          // the newest of its workload connection.
          sink: (b) => {
            replace(wc, token);
            if (created.queue.length < SESSION_QUEUE_LIMIT) created.queue.push(b);
            if (created.answer !== undefined) queueMicrotask(created.answer);
          },
        };
        session = created;
        sessions.set(key, session);
      }
      return session;
    };
    /** Connection `token` is attached: older connections of `wc` are let go. */
    const replace = (wc: string, token: string) => {
      const before = newest.get(wc);
      if (before === token) return;
      newest.set(wc, token);
      if (before === undefined) return;
      const old = sessions.get(`${wc}/${before}`);
      sessions.delete(`${wc}/${before}`);
      old?.answer?.();
    };
    const post = (req: Request, res: Response): boolean => {
      const m = req.method === 'POST' ? /^\/lp\/(\d+)\/(\d+)\/(\w+)$/.exec(req.url ?? '') : null;
      if (m === null) return false;
      const wc = `${m[1]}/${m[2]}`;
      const token = m[3]!;
      // Only a hello attaches the connection's sink (./hub.ts).
      return postMessage(ctx, req, res, req.url!, sessionOf(wc, token).sink);
    };
    const poll = (req: Request, res: Response): boolean => {
      const m = req.method === 'GET' ? /^\/poll\/(\d+)\/(\d+)\/(\w+)$/.exec(req.url ?? '') : null;
      if (m === null) return false;
      const wc = `${m[1]}/${m[2]}`;
      const token = m[3]!;
      const session = sessionOf(wc, token);
      // A newer poll on the same connection answers the one held before it.
      session.answer?.();
      let done = false;
      const release = () => {
        done = true;
        clearTimeout(timer);
        if (session.answer === answer) session.answer = undefined;
        // The session stays: its hello may have attached it before anything was written
        // to it. A newer connection's first write lets it go (`replace`); a late poll
        // from a dead one leaves an empty session behind, one per redial at most.
      };
      const answer = () => {
        if (done) return;
        release();
        const batch = session.queue.splice(0);
        if (res.writableEnded || res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.concat(batch.map((b) => LengthPrefixed.frame(b))));
      };
      const timer = setTimeout(answer, POLL_HOLD_MS);
      res.on('close', () => {
        if (!done) release();
      });
      if (session.queue.length > 0) answer();
      else session.answer = answer;
      return true;
    };
    return { request: (req, res) => post(req, res) || poll(req, res) };
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
      // Names this connection in its polls and posts (the server keeps one queue per token).
      const token = randomBytes(8).toString('hex');
      let first: Promise<unknown> | undefined;
      const poll = async () => {
        for (;;) {
          const res = await poller.request({
            path: `/poll/${index}/${c}/${token}`,
            method: 'GET',
          });
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
            .request({ path: `/lp/${index}/${c}/${token}`, method: 'POST', body: b })
            .then((r) => readAnswers(r.body, (f) => onMessage(f)))
            .catch(() => {});
        },
        close: destroy,
        closed,
      };
    };
  },
};

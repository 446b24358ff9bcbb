/**
 * http3: messages over HTTP/3 between real QUIC stacks — headless Chromium in the client
 * namespace (./browser.ts) and Caddy in the server namespace (./caddy.ts, started for the
 * host's port by ./groups.ts), which proxies to the same paths http2 uses (`POST /m`,
 * `GET /down/<w>/<c>`) plus a page the browser opens first. A connection is one page:
 * it loads `/` over QUIC, holds the down stream with fetch(), and posts each up message.
 * Messages are stamped and recorded in this agent (Node), so the one-way latency
 * includes what the browser adds (the CDP hop each way; see the README).
 *
 * `client: ngtcp2` runs ngtcp2's client instead (./ngtcp2.ts), without the browser.
 *
 * `fallback: h2`: when QUIC cannot connect, the connection is made over TCP with HTTP/2
 * instead (to the same Caddy), as a browser falls back; its `connect` event says `h2`.
 */
import type { Page } from 'playwright-core';
import type { CompiledWorkload } from '../scenario/compiled.js';
import { now } from './clock.js';
import { acquireBrowser, QUIC_VERSION, releaseBrowser } from './browser.js';
import { downStream, postMessage } from './http-routes.js';
import { LengthPrefixed } from './message.js';
import { runNgtcp2Client } from './ngtcp2.js';
import type { Conn, Dialer } from './session.js';
import type { AgentContext, Protocol } from './types.js';

const PAGE = '<!doctype html><meta charset="utf-8"><title>qoslab http3</title>';

export const http3: Protocol = {
  async share(ctx) {
    return {
      request: (req, res) => {
        if (req.method === 'GET' && req.url === '/') {
          res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
          res.end(PAGE);
          return true;
        }
        return postMessage(ctx, req, res) || downStream(ctx, req, res);
      },
    };
  },

  async prepare(ctx) {
    if (!ctx.workloads.some(usesChromium)) return { close: async () => {} };
    await acquireBrowser(ctx);
    return { close: releaseBrowser };
  },

  // Chromium's connections are kept by ./supervisor.ts (the browser is held by prepare).
  dialer: (index, c, ctx, via) => quicDialer(index, c, ctx, via),

  // ngtcp2's client: a connection per message, nothing to keep.
  client: (index, c, ctx) => runNgtcp2Client(index, c, ctx),
};

/** A workload with an http3 transport of the shared browser (ngtcp2's client keeps none). */
export const usesChromium = (w: CompiledWorkload): boolean =>
  w.transports.some((t) => t.protocol === 'http3');

/** One page of the shared browser, talking HTTP/3 to the workload's origin. */
function quicDialer(index: number, c: number, ctx: AgentContext, via: { port: number }): Dialer {
  const w = ctx.workloads[index]!;
  const origin = `https://${w.server_name}:${via.port}`;
  return async (onMessage, timing, signal) => {
    const browser = await acquireBrowser(ctx);
    let page: Page | undefined;
    let closedResolve: (reason: string) => void = () => {};
    const closed = new Promise<string>((r) => (closedResolve = r));
    const release = () => {
      void page?.close().catch(() => {});
      void releaseBrowser();
    };
    try {
      page = await browser.newPage();
      page.once('close', () => closedResolve('page closed'));
      page.once('crash', () => closedResolve('browser page crashed'));
      await page.exposeFunction('qlRecv', (b64: string, at: string) =>
        onMessage(Buffer.from(b64, 'base64'), BigInt(at)),
      );
      await page.exposeFunction('qlClosed', (reason: string) => closedResolve(reason));
      const onAbort = () => void page?.close().catch(() => {});
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const response = await page.goto(`${origin}/`, { waitUntil: 'commit' });
        if (response === null || response.status() !== 200) {
          throw new Error(`page: HTTP ${response?.status() ?? 'no response'}`);
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      if (signal.aborted) throw new Error('connect timed out');
      const nav = await page.evaluate(() => {
        const e = performance.getEntriesByType('navigation')[0] as unknown as {
          nextHopProtocol: string;
          connectStart: number;
          connectEnd: number;
        };
        return { proto: e.nextHopProtocol, connectStart: e.connectStart, connectEnd: e.connectEnd };
      });
      if (nav.proto !== 'h3') throw new Error(`the page came over ${nav.proto}, not h3`);
      // QUIC's one handshake (transport and TLS together) counts as the connect time.
      timing.tcp = timing.start + BigInt(Math.round((nav.connectEnd - nav.connectStart) * 1e6));
      timing.tls = timing.tcp;
      timing.proto = 'h3';
      timing.quicVersion = QUIC_VERSION;
      const offset = await clockOffset(page);
      const status = await page.evaluate(holdDownStream, {
        path: `/down/${index}/${c}`,
        offset: `${offset}`,
      });
      if (status !== 200) throw new Error(`down stream: HTTP ${status}`);
    } catch (e) {
      release();
      throw e;
    }
    const p = page;
    let open = true;
    const conn: Conn = {
      send: (b) => {
        if (!open) return;
        // A lost POST is a lost message: the metrics see it. Its answers come back with it.
        p.evaluate(postBytes, b.toString('base64'))
          .then((answers) => {
            const frames = new LengthPrefixed((f) => onMessage(Buffer.from(f)));
            frames.push(Buffer.from(answers, 'base64'));
          })
          .catch(() => {});
      },
      close: () => {
        if (!open) return;
        open = false;
        release();
      },
      closed,
    };
    return conn;
  };
}

/**
 * CLOCK_MONOTONIC minus the page's clock, in ns. Chromium's performance.now() runs on
 * CLOCK_MONOTONIC too (base::TimeTicks), so the difference is a constant; the sample with
 * the shortest round trip through CDP bounds its error by half that trip.
 */
async function clockOffset(page: Page): Promise<bigint> {
  let best: { rtt: bigint; offset: bigint } | undefined;
  for (let i = 0; i < 15; i++) {
    const a = now();
    const pageUs = await page.evaluate(() =>
      Math.round((performance.timeOrigin + performance.now()) * 1e3),
    );
    const b = now();
    const offset = (a + b) / 2n - BigInt(pageUs) * 1000n;
    if (best === undefined || b - a < best.rtt) best = { rtt: b - a, offset };
  }
  return best!.offset;
}

// The functions below run inside the page (serialized by playwright): no closures. The
// page stamps what it sends and what it receives with its own clock mapped onto
// CLOCK_MONOTONIC (`qlOffset`), so the CDP hop to this agent is not counted as network.

/** Starts reading the down stream's length-prefixed frames; resolves with the HTTP status. */
async function holdDownStream({ path, offset }: { path: string; offset: string }): Promise<number> {
  const g = globalThis as unknown as { qlOffset: bigint };
  g.qlOffset = BigInt(offset);
  const monoNow = () =>
    BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n + g.qlOffset;
  const res = await fetch(path, { cache: 'no-store' });
  if (res.status !== 200 || res.body === null) return res.status;
  const reader = res.body.getReader();
  const page = globalThis as unknown as {
    qlRecv(b64: string, at: string): Promise<void>;
    qlClosed(reason: string): Promise<void>;
  };
  void (async () => {
    let buf = new Uint8Array(0);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const joined = new Uint8Array(buf.length + value.length);
        joined.set(buf);
        joined.set(value, buf.length);
        buf = joined;
        while (buf.length >= 4) {
          const n = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
          if (buf.length < 4 + n) break;
          const at = monoNow();
          const frame = buf.subarray(4, 4 + n);
          let text = '';
          for (let i = 0; i < frame.length; i += 0x8000) {
            text += String.fromCharCode(...frame.subarray(i, i + 0x8000));
          }
          void page.qlRecv(btoa(text), `${at}`);
          buf = buf.slice(4 + n);
        }
      }
      void page.qlClosed('down stream ended');
    } catch (e) {
      void page.qlClosed(String(e));
    }
  })();
  return 200;
}

/** Posts one frame; resolves with the response body (its answers), base64. */
async function postBytes(b64: string): Promise<string> {
  const bin = atob(b64);
  const body = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) body[i] = bin.charCodeAt(i);
  // The send instant is when the page hands the message to fetch(): stamp it (bytes 16-23).
  // A resend (attempt byte 24) keeps its first instant: its latency includes the retries.
  if (body[2] === 0 && body[24] === 0) {
    const g = globalThis as unknown as { qlOffset: bigint };
    const sent = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
    new DataView(body.buffer).setBigInt64(16, sent + g.qlOffset);
  }
  const res = await fetch('/m', { method: 'POST', body, cache: 'no-store' });
  const answers = new Uint8Array(await res.arrayBuffer());
  let text = '';
  for (let i = 0; i < answers.length; i += 0x8000) {
    text += String.fromCharCode(...answers.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/**
 * http2: messages up as POSTs and down on a long-lived GET stream (length-prefixed), over
 * TLS with ALPN h2 — the shape of gRPC-style and HTTP/2 push messaging. Server node:http2
 * (on the host's shared port, ./front.ts), client undici with allowH2.
 */
import { Client } from 'undici';
import { errorText } from './dial.js';
import { downStream, postMessage, readAnswers } from './http-routes.js';
import { LengthPrefixed } from './message.js';
import type { Dialer } from './session.js';
import type { CompiledTransport } from '../scenario/compiled.js';
import type { AgentContext, Protocol } from './types.js';
import { timedConnector } from './undici-connect.js';

export const http2Workload: Protocol = {
  async share(ctx) {
    return { request: (req, res) => postMessage(ctx, req, res) || downStream(ctx, req, res) };
  },

  dialer: (index, c, ctx, via) => http2Dialer(index, c, ctx, via),
};

/**
 * One HTTP/2 connection of workload connection `c` over `via`. In another protocol's
 * chain (http3 falling back to TCP) its connections say `proto: h2`.
 */
export function http2Dialer(
  index: number,
  c: number,
  ctx: AgentContext,
  via: CompiledTransport,
): Dialer {
  const w = ctx.workloads[index]!;
  const tagged = w.protocol !== 'http2';
  return async (onMessage, timing, signal) => {
    if (tagged) timing.proto = 'h2';
    const client = new Client(`https://${w.server_name}:${via.port}`, {
      allowH2: true,
      // Streams in flight at once; the default (1) would queue every POST behind the
      // never-ending down stream.
      pipelining: 128,
      connect: timedConnector(
        { host: w.server_name, port: via.port, tls: true, caPem: ctx.caPem, alpn: ['h2'] },
        (t) => Object.assign(timing, t),
      ),
      bodyTimeout: 0,
    });
    let closedResolve: (reason: string) => void = () => {};
    const closed = new Promise<string>((r) => (closedResolve = r));
    client.on('disconnect', (_origin, _targets, e) => closedResolve(errorText(e)));
    // `signal` bounds the connection attempt (it carries the connect timeout): it may end
    // the wait for the down stream's headers, never the stream itself, which lives as long
    // as the connection (passed to request(), undici aborted a healthy stream 10 s in).
    const onAbort = () => void client.destroy(new Error('connect timed out')).catch(() => {});
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await client.request({ path: `/down/${index}/${c}`, method: 'GET' });
      signal.removeEventListener('abort', onAbort);
      if (res.statusCode !== 200) throw new Error(`down stream: HTTP ${res.statusCode}`);
      const frames = new LengthPrefixed((f) => onMessage(Buffer.from(f)));
      void (async () => {
        try {
          for await (const chunk of res.body) frames.push(chunk as Buffer);
          closedResolve('down stream ended');
        } catch (e) {
          closedResolve(errorText(e));
        }
      })();
    } catch (e) {
      signal.removeEventListener('abort', onAbort);
      void client.destroy().catch(() => {});
      throw e;
    }
    return {
      send: (b) => {
        // idempotent: undici holds a non-idempotent request back while any other stream
        // is open, and the down stream never closes. A message is sent at most once anyway.
        client
          .request({ path: `/m`, method: 'POST', body: b, idempotent: true })
          .then((r) => readAnswers(r.body, (f) => onMessage(f)))
          .catch(() => {}); // a lost POST is a lost message: the metrics see it
      },
      close: () => void client.destroy().catch(() => {}),
      closed,
    };
  };
}

/**
 * bulk: HTTPS transfers of `size` bytes, back to back from the workload's start to its
 * stop — downloads (`direction: down`, the default), uploads (`up`) or both in turn —
 * over one persistent HTTP/1.1 connection (media download/upload of a messenger), on the
 * host's shared port (./front.ts). Each
 * transfer is one "message": sent when requested, delivered when its last byte arrives.
 */
import { Client } from 'undici';
import { now, seededRandom, sleepMs, sleepUntil } from './clock.js';
import { errorText } from './dial.js';
import { Backoff, FIXED_RECONNECT } from './backoff.js';
import { emitConnect } from './session.js';
import type { Protocol, Request, Response } from './types.js';
import { timedConnector } from './undici-connect.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x62);

function writeBytes(res: Response, size: number): void {
  let left = size;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

export const bulk: Protocol = {
  async share(ctx) {
    const request = (req: Request, res: Response): boolean => {
      const m = /^\/bulk\/(\d+)\/(\d+)\/(\d+)(?:\?size=(\d+))?$/.exec(req.url ?? '');
      const w = m ? ctx.workloads[Number(m[1])] : undefined;
      if (m === null || w === undefined) return false;
      if (req.method === 'GET') {
        const size = Number(m[4] ?? w.size_bytes);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        writeBytes(res, size);
        return true;
      }
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        const at = now();
        ctx.emit({
          ev: 'recv',
          w: w.name,
          dir: 'up',
          c: Number(m[2]),
          seq: Number(m[3]),
          t: Number(at - ctx.t0),
          sent: Number(BigInt(String(req.headers['x-ql-sent'] ?? '0')) - ctx.t0),
          bytes,
        });
        res.writeHead(204).end();
      });
      return true;
    };
    return { request };
  },

  async client(index, c, ctx) {
    const w = ctx.workloads[index]!;
    const rel = (abs: bigint) => Number(abs - ctx.t0);
    let connects = 0;
    const client = new Client(`${w.tls ? 'https' : 'http'}://${w.server_name}:${w.port}`, {
      connect: timedConnector(
        { host: w.server_name, port: w.port, tls: w.tls, caPem: ctx.caPem },
        (timing) => emitConnect(ctx, w.name, c, timing, connects++ > 0),
      ),
      headersTimeout: w.deadline_ns / 1e6,
      bodyTimeout: w.deadline_ns / 1e6,
    });
    const backoff = new Backoff(seededRandom(ctx.seed * 7919 + index * 131 + c), FIXED_RECONNECT);
    const stopAt = ctx.t0 + BigInt(w.stop_ns);
    await sleepUntil(ctx.t0 + BigInt(w.start_ns), ctx.signal);
    try {
      for (let seq = 0; !ctx.signal.aborted && now() < stopAt; seq++) {
        const dir = w.direction === 'both' ? (seq % 2 === 0 ? 'down' : 'up') : w.direction;
        const sent = now();
        ctx.emit({ ev: 'send', w: w.name, dir, c, seq, t: rel(sent), bytes: w.size_bytes });
        const path = `/bulk/${index}/${c}/${seq}`;
        // Bytes of a download received so far: how far a transfer got before it stalled.
        let received: number | undefined;
        try {
          if (dir === 'down') {
            const res = await client.request({
              path: `${path}?size=${w.size_bytes}`,
              method: 'GET',
              signal: ctx.signal,
            });
            let bytes = 0;
            received = 0;
            for await (const chunk of res.body) {
              bytes += (chunk as Buffer).length;
              received = bytes;
            }
            if (bytes !== w.size_bytes)
              throw new Error(`short download: ${bytes} of ${w.size_bytes} bytes`);
            const at = now();
            ctx.emit({ ev: 'recv', w: w.name, dir, c, seq, t: rel(at), sent: rel(sent), bytes });
          } else {
            const res = await client.request({
              path,
              method: 'POST',
              body: Buffer.alloc(w.size_bytes, 0x63),
              headers: { 'x-ql-sent': String(sent) },
              signal: ctx.signal,
            });
            await res.body.dump();
          }
          backoff.reset();
        } catch (e) {
          if (ctx.signal.aborted) break;
          ctx.emit({
            ev: 'fail',
            w: w.name,
            c,
            t: rel(now()),
            stage: 'io',
            error: errorText(e),
            ...(received === undefined ? {} : { bytes: received }),
          });
          await sleepMs(backoff.next(), ctx.signal);
        }
      }
    } finally {
      await client.destroy().catch(() => {});
    }
  },
};

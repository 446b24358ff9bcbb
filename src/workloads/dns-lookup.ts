/**
 * dns-lookup: name lookups on their own (src/scenario/protocols/dns-lookup.ts). Each query is a message: a
 * `send` when asked, a `recv` when an answer holding the host's own address arrives (its
 * latency is the lookup time), a `fail` naming what came instead (NXDOMAIN, SERVFAIL, an
 * address that is not the host's, no answer by the deadline). Over UDP the first reply
 * with the query's id is taken, as stub resolvers do, so an injected answer that arrives
 * first wins. The DoT and DoH clients reach the resolver by address (their bootstrap),
 * with its first name as SNI, trusting the run's CA.
 */
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import packet from 'dns-packet';
import { now, seededRandom } from './clock.js';
import { errorText } from './dial.js';
import { emitFail } from './session.js';
import { intervalNs } from '../scenario/budget.js';
import { Pacer } from './pacer.js';
import type { AgentContext, Protocol } from './types.js';
import type { CompiledWorkload } from '../scenario/compiled.js';

const PORTS = { udp: 53, tcp: 53, tls: 853, https: 443 } as const;
/** dns-packet's name for type 65 (it has no HTTPS codec). */
const HTTPS_TYPE = 'UNKNOWN_65';

interface Outcome {
  /** What the answer held: addresses, or `HTTPS` for an HTTPS record. */
  answers: string[];
  bytes: number;
}

/** The question's bytes; `id` random per query as stub resolvers pick it. */
function question(w: CompiledWorkload, id: number): Buffer {
  const type = w.record === 'HTTPS' ? HTTPS_TYPE : (w.record ?? 'A');
  return packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: type as 'A', name: w.server_name }],
  });
}

/** An error for any reply but NOERROR; otherwise what it answered. */
function read(reply: Buffer): Outcome {
  const p = packet.decode(reply) as packet.DecodedPacket & { rcode?: string };
  if (p.rcode !== undefined && p.rcode !== 'NOERROR') throw new Error(p.rcode);
  const answers = (p.answers ?? []).flatMap((a) =>
    a.type === 'A' || a.type === 'AAAA'
      ? [String(a.data)]
      : (a.type as string) === HTTPS_TYPE
        ? ['HTTPS']
        : [],
  );
  return { answers, bytes: reply.length };
}

type Done = (e: Error | null, reply?: Buffer) => void;

/**
 * The reply `exchange` delivers through its `done`, once: the first call settles, closes
 * the transport, and the deadline (`signal`) settles with "no answer".
 */
function firstReply(
  signal: AbortSignal,
  close: () => void,
  exchange: (done: Done) => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done: Done = (e, reply) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      close();
      if (e === null) resolve(reply!);
      else reject(e);
    };
    const onAbort = () => done(new Error('no answer'));
    signal.addEventListener('abort', onAbort, { once: true });
    exchange(done);
  });
}

function udpQuery(address: string, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  return firstReply(
    signal,
    () => socket.close(),
    (done) => {
      socket.on('error', (e) => done(e));
      socket.on('message', (b) => {
        // The first reply to this query (its id) is taken: an injected one if it came first.
        if (b.length >= 2 && b.readUInt16BE(0) === query.readUInt16BE(0)) done(null, b);
      });
      socket.send(query, PORTS.udp, address);
    },
  );
}

function streamQuery(socket: net.Socket, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  return firstReply(
    signal,
    () => socket.destroy(),
    (done) => {
      let pending = Buffer.alloc(0);
      socket.on('error', (e) => done(e));
      socket.on('close', () => done(new Error('closed before an answer')));
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          done(null, pending.subarray(2, 2 + pending.readUInt16BE(0)));
        }
      });
      socket.write(Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]));
    },
  );
}

function dohQuery(
  address: string,
  name: string,
  caPem: string,
  query: Buffer,
  signal: AbortSignal,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: address,
        servername: name,
        port: PORTS.https,
        path: '/dns-query',
        method: 'POST',
        ca: caPem,
        agent: false,
        signal,
        headers: {
          host: name,
          'content-type': 'application/dns-message',
          accept: 'application/dns-message',
          'content-length': query.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (e) => reject(signal.aborted ? new Error('no answer') : e));
    req.end(query);
  });
}

async function systemLookup(w: CompiledWorkload): Promise<Outcome> {
  try {
    const found = await dnsPromises.lookup(w.server_name, {
      family: w.record === 'AAAA' ? 6 : 4,
      all: true,
    });
    return { answers: found.map((a) => a.address), bytes: 0 };
  } catch (e) {
    // getaddrinfo says NXDOMAIN as ENOTFOUND, SERVFAIL and silence as EAI_AGAIN.
    const code = (e as { code?: string }).code;
    throw new Error(code === 'ENOTFOUND' ? 'NXDOMAIN' : (code ?? errorText(e)));
  }
}

async function lookup(
  w: CompiledWorkload,
  ctx: AgentContext,
  id: number,
  signal: AbortSignal,
): Promise<Outcome> {
  const transport = w.transport ?? 'system';
  if (transport === 'system') return systemLookup(w);
  const resolver = ctx.resolver;
  if (resolver === undefined) throw new Error('the agent was not told where the resolver is');
  const query = question(w, id);
  const name = resolver.names[0] ?? resolver.address;
  if (transport === 'udp') return read(await udpQuery(resolver.address, query, signal));
  const socket =
    transport === 'tcp'
      ? net.connect({ host: resolver.address, port: PORTS.tcp })
      : transport === 'tls'
        ? tls.connect({
            host: resolver.address,
            port: PORTS.tls,
            servername: name,
            ca: ctx.caPem,
            ALPNProtocols: ['dot'],
          })
        : undefined;
  if (socket !== undefined) return read(await streamQuery(socket, query, signal));
  return read(await dohQuery(resolver.address, name, ctx.caPem, query, signal));
}

/** The addresses that count as a right answer: the host's own. */
function expected(w: CompiledWorkload): string[] {
  return w.record === 'AAAA' ? [w.address6 ?? ''] : [w.address];
}

export const dnsLookup: Protocol = {
  async client(index, c, ctx) {
    const w = ctx.workloads[index]!;
    const random = seededRandom(ctx.seed * 7919 + index * 131 + c);
    const rel = (abs: bigint) => Number(abs - ctx.t0);
    const inFlight = new Set<Promise<void>>();
    const ask = async (seq: number) => {
      const sent = now();
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(w.deadline_ns / 1e6)]);
      const id = Math.floor(random() * 65536);
      ctx.emit({ ev: 'send', w: w.name, dir: 'up', c, seq, t: rel(sent), bytes: 0 });
      try {
        const got = await lookup(w, ctx, id, signal);
        const right =
          w.record === 'HTTPS'
            ? got.answers.includes('HTTPS')
            : got.answers.some((a) => expected(w).includes(a));
        if (right) {
          ctx.emit({
            ev: 'recv',
            w: w.name,
            dir: 'up',
            c,
            seq,
            t: rel(now()),
            sent: rel(sent),
            bytes: got.bytes,
          });
        } else {
          emitFail(ctx, w.name, c, 'connect', `wrong answer: ${got.answers.join(' ') || 'none'}`);
        }
      } catch (e) {
        if (!ctx.signal.aborted) emitFail(ctx, w.name, c, 'connect', errorText(e));
      }
    };
    const pacer = new Pacer(
      ctx.t0 + BigInt(w.start_ns),
      ctx.t0 + BigInt(w.stop_ns),
      intervalNs(w),
      (seq) => {
        const p = ask(seq).finally(() => inFlight.delete(p));
        inFlight.add(p);
      },
    ).start();
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    pacer.stop();
    await Promise.allSettled([...inFlight]);
  },
};

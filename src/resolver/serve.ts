/**
 * The resolver's listeners on its address(es): DNS over UDP and TCP (port 53, RFC 1035
 * and RFC 7766 framing), over TLS (DoT, 853, RFC 7858) and over HTTPS (DoH, 443,
 * `/dns-query` with GET ?dns= or POST, RFC 8484; HTTP/2 or HTTP/1.1). Every query goes
 * through ./wire.ts; each exchange is reported once through `log`. A rule's `timeout`
 * sends nothing: UDP stays silent, a stream stays open, a DoH request is never answered.
 */
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompiledDns } from '../scenario/compiled.js';
import { DNS_PORTS, type DnsTransport } from '../scenario/dns-names.js';
import { makeEchKeys, type EchKeys } from './https-record.js';
import { exchange, type Exchange } from './wire.js';
import { Zone } from './zone.js';

export interface ResolverOptions {
  dns: CompiledDns;
  ipv6: boolean;
  /** Certificate and key (PEM) for DoT and DoH; without it those transports are not served. */
  cert?: { cert: string; key: string };
  log(transport: DnsTransport, client: string, e: Exchange): void;
}

export interface Resolver {
  zone: Zone;
  close(): Promise<void>;
}

/** The largest DNS message a stream carries (a 2-byte length) and DoH accepts. */
const MAX_MESSAGE = 65535;

export async function startResolver(o: ResolverOptions): Promise<Resolver> {
  const zone = new Zone(o.dns);
  const ech = new Map<string, EchKeys>();
  for (const r of o.dns.zone) {
    const name = r.https?.ech_public_name;
    if (name != null && !ech.has(name)) ech.set(name, makeEchKeys(name, ech.size + 1));
  }
  const ttl = o.dns.resolver.ttl_s;
  /** The exchange, once its delay has passed (its reply null: none is sent). */
  const answer = async (t: DnsTransport, client: string, query: Buffer): Promise<Exchange> => {
    const e = exchange(query, zone, ech, ttl, t);
    o.log(t, client, e);
    if (e.answer.delayNs > 0) await sleep(e.answer.delayNs / 1e6);
    return e;
  };

  const closers: (() => Promise<void>)[] = [];
  const addresses = [o.dns.resolver.address];
  if (o.ipv6 && o.dns.resolver.address6 !== null) addresses.push(o.dns.resolver.address6);
  const transports = new Set(o.dns.resolver.transports);
  try {
    for (const address of addresses) {
      if (transports.has('udp')) closers.push(await serveUdp(address, answer));
      if (transports.has('tcp')) {
        const server = net.createServer((s) => streamQueries(s, 'tcp', answer));
        closers.push(await listen(server, address, DNS_PORTS.tcp));
      }
      if (o.cert === undefined) continue;
      if (transports.has('tls')) {
        const server = tls.createServer({ ...o.cert, ALPNProtocols: ['dot'] }, (s) =>
          streamQueries(s, 'tls', answer),
        );
        closers.push(await listen(server, address, DNS_PORTS.tls));
      }
      if (transports.has('https')) {
        const server = http2.createSecureServer(
          { ...o.cert, allowHTTP1: true },
          (req, res) => void dohRequest(req, res, answer),
        );
        closers.push(await listen(server, address, DNS_PORTS.https));
      }
    }
  } catch (e) {
    await Promise.allSettled(closers.map((c) => c()));
    throw e;
  }
  return { zone, close: async () => void (await Promise.allSettled(closers.map((c) => c()))) };
}

type Answer = (t: DnsTransport, client: string, query: Buffer) => Promise<Exchange>;

async function serveUdp(address: string, answer: Answer): Promise<() => Promise<void>> {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('message', (msg, from) => {
    void answer('udp', from.address, msg).then(({ reply }) => {
      if (reply !== null) socket.send(reply, from.port, from.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(DNS_PORTS.udp, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {}); // a send to a vanished client
  return () => new Promise((r) => socket.close(() => r()));
}

/** Length-prefixed queries on a stream (TCP, TLS); replies in the order they are ready. */
function streamQueries(socket: net.Socket, t: DnsTransport, answer: Answer): void {
  let pending = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const query = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      void answer(t, socket.remoteAddress ?? '', query).then(({ reply }) => {
        if (reply === null || socket.destroyed) return;
        socket.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
      });
    }
  });
}

/** RFC 8484: GET /dns-query?dns=<base64url> or POST /dns-query with the message as body. */
async function dohRequest(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  answer: Answer,
): Promise<void> {
  const url = new URL(req.url, 'https://resolver');
  res.on('error', () => {});
  if (url.pathname !== '/dns-query') return void res.writeHead(404).end();
  let query: Buffer;
  if (req.method === 'GET') {
    query = Buffer.from(url.searchParams.get('dns') ?? '', 'base64url');
  } else if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_MESSAGE) return void res.writeHead(413).end();
      chunks.push(chunk as Buffer);
    }
    query = Buffer.concat(chunks);
  } else {
    return void res.writeHead(405).end();
  }
  const { reply, answer: decided } = await answer('https', req.socket?.remoteAddress ?? '', query);
  if (reply === null) {
    // Not a DNS query: 400. A `timeout` rule: the request stays open until the client
    // gives up, as a query over UDP gets no answer.
    if (decided.rule === null) res.writeHead(400).end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/dns-message',
    'content-length': reply.length,
    'cache-control': 'max-age=0',
  });
  res.end(reply);
}

/** Listen; the closer also ends open connections (a held DoH request, an idle stream). */
function listen(server: net.Server, address: string, port: number): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => {
      server.off('error', reject);
      resolve(
        () =>
          new Promise((r) => {
            server.close(() => r());
            for (const s of sockets) s.destroy();
          }),
      );
    });
  });
}

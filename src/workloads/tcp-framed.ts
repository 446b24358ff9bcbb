/**
 * tcp-framed: messages as length-prefixed frames on a raw TCP stream, the way MTProto,
 * XMPP-like and Noise-based chat transports work. With `tls` the frames go inside TLS
 * (SNI = the host name); without it the stream is MTProto-like obfuscated (./obfuscation.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import { dial, errorText } from './dial.js';
import { certFor, closeTracked, listen, trackSockets } from './listen.js';
import { LengthPrefixed } from './message.js';
import {
  PREAMBLE_BYTES,
  clientCiphers,
  newPreamble,
  serverCiphers,
  type Ciphers,
} from './obfuscation.js';
import { Kind } from './message.js';
import type { Dialer } from './session.js';
import type { Protocol, ServerContext } from './types.js';

/** Frame, encrypt if obfuscated, write. */
function writer(socket: net.Socket, ciphers: Ciphers | undefined): (b: Buffer) => void {
  return (b) => {
    if (socket.destroyed) return;
    const frame = LengthPrefixed.frame(b);
    socket.write(ciphers ? ciphers.encrypt.update(frame) : frame);
  };
}

function serveSocket(socket: net.Socket, obfuscated: boolean, ctx: ServerContext): void {
  let ciphers: Ciphers | undefined;
  let pending = Buffer.alloc(0);
  let owner: { w: number; c: number } | undefined;
  let send: ((b: Buffer) => void) | undefined;
  const frames = new LengthPrefixed((frame) => {
    send ??= writer(socket, ciphers);
    const h = ctx.hub.receive(Buffer.from(frame), send);
    if (h?.kind === Kind.hello) owner = { w: h.w, c: h.c };
  });
  const detach = () =>
    owner !== undefined && send !== undefined && ctx.hub.detach(owner.w, owner.c, send);
  socket.on('data', (chunk: Buffer) => {
    if (obfuscated && ciphers === undefined) {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < PREAMBLE_BYTES) return;
      ciphers = serverCiphers(pending.subarray(0, PREAMBLE_BYTES));
      chunk = pending.subarray(PREAMBLE_BYTES);
    }
    frames.push(ciphers ? ciphers.decrypt.update(chunk) : chunk);
  });
  socket.on('close', detach);
  socket.on('error', detach);
}

export const tcpFramed: Protocol = {
  async serve(group, ctx) {
    const obfuscated = !group.tls;
    const server = group.tls
      ? tls.createServer(certFor(group, ctx), (s) => serveSocket(s, false, ctx))
      : net.createServer((s) => serveSocket(s, obfuscated, ctx));
    const sockets = trackSockets(server);
    await listen(server, group);
    return { close: () => closeTracked(server, sockets) };
  },

  dialer(index, _c, ctx, via): Dialer {
    const w = ctx.workloads[index]!;
    return async (onMessage, timing, signal) => {
      const socket = await dial(
        { host: w.server_name, port: via.port, tls: via.tls, caPem: ctx.caPem },
        timing,
        signal,
      );
      let ciphers: Ciphers | undefined;
      if (!via.tls) {
        const preamble = newPreamble();
        ciphers = clientCiphers(preamble);
        socket.write(preamble);
      }
      const frames = new LengthPrefixed((f) => onMessage(Buffer.from(f)));
      socket.on('data', (chunk: Buffer) =>
        frames.push(ciphers ? ciphers.decrypt.update(chunk) : chunk),
      );
      const closed = new Promise<string>((resolve) => {
        socket.on('error', (e) => resolve(errorText(e)));
        socket.on('close', () => resolve('connection closed'));
      });
      return { send: writer(socket, ciphers), close: () => socket.destroy(), closed };
    };
  },
};

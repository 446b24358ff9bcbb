/**
 * udp-voice: an RTP-like call — one frame every `frame` (20 ms) each way, with sequence
 * number and send timestamp, sized by the codec (opus ~32 kbit/s: 80 B; g711 64 kbit/s:
 * 160 B). Plain UDP, no retransmission: loss and jitter are what the metrics judge. The
 * client also sends a hello every second (as RTCP does), so the server learns where
 * down frames go even for a receive-only call and after loss of the first frames.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { now, sleepUntil } from './clock.js';
import { helloFrame } from './message.js';
import { intervalNs } from '../scenario/budget.js';
import { Pacer } from './pacer.js';
import { receive, sendStamped, wantsDown, wantsUp } from './hub.js';
import type { AgentContext, Protocol } from './types.js';

/** Stream paced frames of one direction through `send`. */
function streamFrames(
  ctx: AgentContext,
  index: number,
  c: number,
  dir: 'up' | 'down',
  send: (b: Buffer) => void,
): Pacer {
  const w = ctx.workloads[index]!;
  return new Pacer(now(), ctx.t0 + BigInt(w.stop_ns), intervalNs(w), (seq) =>
    sendStamped(ctx, index, c, dir, seq, send),
  ).start();
}

export const udpVoice: Protocol = {
  async serve(group, ctx) {
    const socket = dgram.createSocket(net.isIPv6(group.address) ? 'udp6' : 'udp4');
    const calls = new Map<string, { address: string; port: number; pacer?: Pacer }>();
    socket.on('message', (b, from) => {
      const h = receive(ctx, b);
      if (h === undefined) return;
      const key = `${h.w}/${h.c}`;
      let call = calls.get(key);
      if (call === undefined) calls.set(key, (call = { address: from.address, port: from.port }));
      call.address = from.address;
      call.port = from.port;
      const w = ctx.workloads[h.w];
      if (call.pacer === undefined && w !== undefined && wantsDown(w)) {
        const target = call;
        call.pacer = streamFrames(ctx, h.w, h.c, 'down', (f) =>
          socket.send(f, target.port, target.address),
        );
      }
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(group.port, group.address, () => resolve());
    });
    return {
      close: async () => {
        for (const call of calls.values()) call.pacer?.stop();
        await new Promise<void>((r) => socket.close(() => r()));
      },
    };
  },

  async client(index, c, ctx) {
    const w = ctx.workloads[index]!;
    await sleepUntil(ctx.t0 + BigInt(w.start_ns), ctx.signal);
    if (ctx.signal.aborted) return;
    const socket = dgram.createSocket(net.isIPv6(w.address) ? 'udp6' : 'udp4');
    socket.on('message', (b) => void receive(ctx, b));
    socket.on('error', () => {}); // ICMP unreachable and the like: the frame is just lost
    await new Promise<void>((r) => socket.connect(w.port, w.address, () => r()));
    const send = (b: Buffer) => socket.send(b, () => {});
    const hello = () => send(helloFrame(index, c, now()));
    hello();
    const keepalive = setInterval(hello, 1000);
    const pacer = wantsUp(w) ? streamFrames(ctx, index, c, 'up', send) : undefined;
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(keepalive);
    pacer?.stop();
    await new Promise<void>((r) => socket.close(() => r()));
  },
};

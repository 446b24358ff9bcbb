/**
 * websocket: binary WebSocket messages over TLS (`ws` on both sides), one connection per
 * workload connection at wss://<server_name>:<port>/ws (an Upgrade on the host's shared
 * port, ./front.ts). The classifier sees a TLS ClientHello with the server name as SNI,
 * then an upgraded HTTP/1.1 stream.
 */
import net from 'node:net';
import tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { errorText, hookTiming } from './dial.js';
import { Kind } from './message.js';
import type { Dialer } from './session.js';
import type { Protocol } from './types.js';

export const websocket: Protocol = {
  async share(ctx) {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      let owner: { w: number; c: number } | undefined;
      const send = (b: Buffer) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(b);
      };
      ws.on('message', (data) => {
        const h = ctx.hub.receive(data as Buffer, send);
        if (h?.kind === Kind.hello) owner = { w: h.w, c: h.c };
      });
      const detach = () => owner !== undefined && ctx.hub.detach(owner.w, owner.c, send);
      ws.on('close', detach);
      ws.on('error', detach);
    });
    return {
      upgrade(req, socket, head) {
        if (req.url !== '/ws') return false;
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
        return true;
      },
      close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
    };
  },

  dialer(index, _c, ctx, via): Dialer {
    const w = ctx.workloads[index]!;
    const scheme = via.tls ? 'wss' : 'ws';
    return (onMessage, timing, signal) => {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${scheme}://${w.server_name}:${via.port}/ws`, {
          ca: ctx.caPem,
          perMessageDeflate: false,
          createConnection: ((options: net.NetConnectOpts) => {
            // ws passes host, port and ca through `options`; SNI is the host's name.
            const socket = via.tls
              ? tls.connect({ ...(options as tls.ConnectionOptions), servername: w.server_name })
              : net.connect(options);
            hookTiming(socket, timing, via.tls);
            return socket;
          }) as never,
        });
        ws.binaryType = 'nodebuffer';
        const onAbort = () => {
          ws.terminate();
          reject(new Error('connect timed out'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        let closedResolve: (reason: string) => void = () => {};
        const closed = new Promise<string>((r) => (closedResolve = r));
        ws.on('message', (data) => onMessage(data as Buffer));
        ws.once('open', () => {
          signal.removeEventListener('abort', onAbort);
          resolve({
            send: (b) => {
              if (ws.readyState === WebSocket.OPEN) ws.send(b);
            },
            close: () => ws.terminate(),
            closed,
          });
        });
        ws.on('error', (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
          closedResolve(errorText(e));
        });
        ws.on('close', (code) => closedResolve(`closed (${code})`));
      });
    };
  },
};

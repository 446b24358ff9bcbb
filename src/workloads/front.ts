/**
 * One TCP port serving every protocol that shares it, as a real server on 443 does: TLS
 * with ALPN choosing h2, http/1.1 or mqtt; HTTP requests routed by path to the protocol
 * that owns the path (the same handlers for h2 and HTTP/1.1), HTTP/1.1 upgrades to
 * WebSocket likewise. A client that offers no ALPN gets HTTP/1.1 — or, on a port only
 * MQTT uses, MQTT, as on a plain 8883 broker.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { certFor, closeTracked, listen, trackSockets } from './listen.js';
import type { Listening, Request, Response, ServerGroup, SharedService } from './types.js';

export async function serveFront(
  group: ServerGroup,
  services: SharedService[],
  cert: ReturnType<typeof certFor> | undefined,
): Promise<Listening & { port: number }> {
  const route = (req: Request, res: Response) => {
    for (const s of services) if (s.request?.(req, res)) return;
    res.writeHead(404).end();
  };
  const speaksHttp = services.some((s) => s.request !== undefined || s.upgrade !== undefined);
  const alpns = services.flatMap((s) => (s.alpn === undefined ? [] : [s.alpn]));

  const http1 = http.createServer(route);
  http1.keepAliveTimeout = 60_000;
  http1.on('upgrade', (req, socket, head) => {
    for (const s of services) if (s.upgrade?.(req, socket, head)) return;
    socket.destroy();
  });
  // Sockets arrive already accepted (and TLS-terminated) through `emit('connection')`.
  const h2 = http2.createServer();
  h2.on('request', (req, res) => route(req as unknown as Request, res as unknown as Response));
  h2.on('sessionError', () => {});

  const dispatch = (socket: net.Socket, alpn: string | false) => {
    socket.on('error', () => {});
    if (alpn === 'h2') return void h2.emit('connection', socket);
    const own = alpns.find((a) => a.name === alpn) ?? (speaksHttp ? undefined : alpns[0]);
    if (own !== undefined) return own.accept(socket);
    if (speaksHttp) return void http1.emit('connection', socket);
    socket.destroy();
  };
  let server: net.Server;
  if (group.tls) {
    if (cert === undefined) throw new Error(`no certificate for ${group.serverName}`);
    const offered = [...(speaksHttp ? ['h2', 'http/1.1'] : []), ...alpns.map((a) => a.name)];
    server = tls.createServer({ ...cert, ALPNProtocols: offered }, (s) =>
      dispatch(s, s.alpnProtocol ?? false),
    );
  } else {
    server = net.createServer((s) => dispatch(s, false));
  }
  const sockets = trackSockets(server);
  await listen(server, group);
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      await closeTracked(server, sockets);
      await Promise.allSettled(services.map((s) => s.close?.()));
    },
  };
}

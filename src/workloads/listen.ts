import type net from 'node:net';
import type { ServerContext, ServerGroup } from './types.js';

/** Listen on the group's address and port; resolves once bound, rejects on error. */
export function listen(server: net.Server, group: ServerGroup): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: group.address, port: group.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Close a server and every connection it still has. */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** The certificate for the group's DNS name. */
export function certFor(group: ServerGroup, ctx: ServerContext): { cert: string; key: string } {
  const pair = ctx.certs[group.serverName];
  if (pair === undefined) throw new Error(`no certificate for ${group.serverName}`);
  return pair;
}

/** Tracks sockets so close() can end them (net.Server.close waits for them otherwise). */
export function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
  });
  // TLS servers report the TLS socket on 'secureConnection'; the raw one is enough to end it.
  return sockets;
}

export async function closeTracked(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await closeServer(server);
}

/**
 * The TURN servers of a server agent's webrtc calls, one per `turn` address and port,
 * shared (counted) by every listener group whose calls use them, like ./browser.ts's
 * browser: the first group to serve starts them, the last to close ends them.
 */
import { startTurn, type TurnServer } from './coturn.js';
import type { ServerContext } from './types.js';

interface Running {
  users: number;
  server: Promise<TurnServer>;
}

const running = new Map<string, Running>();

function key(address: string, port: number): string {
  return `${address} ${port}`;
}

/** Starts (or joins) the TURN servers the scenario's webrtc calls name. */
export async function acquireTurns(ctx: ServerContext): Promise<() => Promise<void>> {
  const wanted = new Map<string, { address: string; port: number }>();
  for (const w of ctx.workloads) {
    if (w.protocol !== 'webrtc' || !w.turn_address || !w.turn_port) continue;
    wanted.set(key(w.turn_address, w.turn_port), { address: w.turn_address, port: w.turn_port });
  }
  const held: string[] = [];
  const release = async () => {
    await Promise.allSettled(held.splice(0).map(releaseOne));
  };
  try {
    for (const [k, at] of wanted) {
      let entry = running.get(k);
      if (entry === undefined) {
        const log = (msg: string) => ctx.emit({ ev: 'log', role: 'server', t: 0, msg });
        entry = { users: 0, server: startTurn({ ...at, log }) };
        running.set(k, entry);
        // A server that failed to start is not kept for the next group to reuse.
        entry.server.catch(() => running.delete(k));
      }
      entry.users++;
      held.push(k);
      await entry.server;
    }
  } catch (e) {
    await release();
    throw e;
  }
  return release;
}

async function releaseOne(k: string): Promise<void> {
  const entry = running.get(k);
  if (entry === undefined) return;
  if (--entry.users > 0) return;
  running.delete(k);
  const server = await entry.server.catch(() => undefined);
  await server?.close();
}

/** The iceServers of a call whose TURN server runs here; none without one. */
export async function iceServersFor(
  address: string | null | undefined,
  port: number | null | undefined,
): Promise<TurnServer['iceServers']> {
  if (!address || !port) return [];
  const server = await running.get(key(address, port))?.server.catch(() => undefined);
  return server?.iceServers ?? [];
}

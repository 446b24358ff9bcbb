/**
 * The TURN servers of a server agent's webrtc calls, one per `turn` address, port and
 * transport, shared (counted) by every listener group whose calls use them, like
 * ./browser.ts's browser: the first group to serve starts them, the last to close ends
 * them.
 */
import type { CompiledTransport, CompiledWorkload } from '../scenario/compiled.js';
import { startTurn, type TurnServer } from './coturn.js';
import type { ServerContext } from './types.js';

interface Running {
  users: number;
  server: Promise<TurnServer>;
}

const running = new Map<string, Running>();

/** A relay of a call's chain: where its TURN server listens. */
type Relay = Pick<
  CompiledTransport,
  'turn_address' | 'turn_port' | 'turn_transport' | 'turn_server_name'
>;

/** The TURN server a transport of a call names, or undefined for a direct one. */
function turnOf(t: Relay) {
  if (!t.turn_address || !t.turn_port || !t.turn_transport) return undefined;
  const at = {
    address: t.turn_address,
    port: t.turn_port,
    transport: t.turn_transport,
    serverName: t.turn_server_name ?? null,
  };
  return { key: `${at.address} ${at.port} ${at.transport}`, at };
}

/** The relays of a workload: each transport of its chain (its own `turn` first); a transport without a TURN server has none. */
export function relaysOf(w: CompiledWorkload): Relay[] {
  return w.transports.length > 0 ? w.transports : [w];
}

/** Starts (or joins) the TURN servers the scenario's webrtc calls name. */
export async function acquireTurns(ctx: ServerContext): Promise<() => Promise<void>> {
  const wanted = new Map<string, NonNullable<ReturnType<typeof turnOf>>['at']>();
  for (const w of ctx.workloads) {
    for (const relay of relaysOf(w)) {
      const turn = turnOf(relay);
      if (turn !== undefined) wanted.set(turn.key, turn.at);
    }
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
        // TLS: the TURN host's lab certificate, the one its name is pinned by in the browsers.
        const cert = at.transport === 'tls' ? certOf(ctx, at.serverName) : undefined;
        entry = { users: 0, server: startTurn({ ...at, cert, log }) };
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

function certOf(ctx: ServerContext, name: string | null): { cert: string; key: string } {
  const pair = name === null ? undefined : ctx.certs[name];
  if (pair === undefined)
    throw new Error(`no certificate for the TURN host ${name ?? '(no name)'}`);
  return pair;
}

async function releaseOne(k: string): Promise<void> {
  const entry = running.get(k);
  if (entry === undefined) return;
  if (--entry.users > 0) return;
  running.delete(k);
  const server = await entry.server.catch(() => undefined);
  await server?.close();
}

/** The iceServers of transport `step` of a call (its TURN server, running here); none for a direct one. */
export async function iceServersFor(
  w: CompiledWorkload,
  step = 0,
): Promise<TurnServer['iceServers']> {
  const relay = relaysOf(w)[step];
  const turn = relay === undefined ? undefined : turnOf(relay);
  if (turn === undefined) return [];
  const server = await running.get(turn.key)?.server.catch(() => undefined);
  return server?.iceServers ?? [];
}

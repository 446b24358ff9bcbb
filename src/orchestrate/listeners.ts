import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a process already runs inside the named namespace (after `ip netns exec` setns). */
export function inNamespace(pid: number, ns: string): boolean {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino === statSync(`/run/netns/${ns}`).ino;
  } catch {
    return false;
  }
}

/** The local ports of sockets listening (TCP) or bound (UDP) in the network namespace of `pid`. */
function listeningPorts(pid: number): number[] {
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const state = cols[3];
      // 0A = TCP_LISTEN; 07 = TCP_CLOSE, which is how an unconnected bound UDP socket shows.
      if (
        (table.startsWith('tcp') && state === '0A') ||
        (table.startsWith('udp') && state === '07')
      ) {
        ports.push(parseInt(cols[1]?.split(':')[1] ?? '', 16));
      }
    }
  }
  return ports;
}

/** Sockets listening (TCP) or bound (UDP) in the network namespace of `pid`. */
export function listeningSockets(pid: number): number {
  return listeningPorts(pid).length;
}

/** Whether a socket in the network namespace of `pid` listens (TCP) or is bound (UDP) on `port`. */
export function listensOn(pid: number, port: number): boolean {
  return listeningPorts(pid).includes(port);
}

/**
 * Wait until something listens in the namespace the server command runs in, so the
 * client command does not race it. Returns false on timeout, when the server exits or
 * when `signal` aborts.
 */
export async function waitForListener(
  pid: number,
  ns: string,
  timeoutMs: number,
  stillRunning: () => boolean,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && stillRunning() && !signal.aborted) {
    if (inNamespace(pid, ns) && listeningSockets(pid) > 0) return true;
    await sleep(20);
  }
  return false;
}

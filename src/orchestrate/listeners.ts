import { readFileSync, statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RESOLVER_ADDRESS, RESOLVER_ADDRESS6 } from '../scenario/dns-names.js';

/**
 * An address as /proc/net/{tcp,udp}{,6} print it: each 32-bit word of the address in the
 * kernel's (little-endian) order, in hex.
 */
export function procAddress(address: string): string {
  const bytes = isIPv4(address) ? address.split('.').map(Number) : ipv6Bytes(address);
  const words: string[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4).reverse();
    words.push(word.map((b) => b.toString(16).padStart(2, '0')).join(''));
  }
  return words.join('').toUpperCase();
}

function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/** The lab's resolver listens in every server namespace: its sockets are not the server command's. */
const RESOLVER_SOCKETS = [procAddress(RESOLVER_ADDRESS), procAddress(RESOLVER_ADDRESS6)];

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
      const fields = line.trim().split(/\s+/);
      const state = fields[3];
      if (RESOLVER_SOCKETS.includes(fields[1]?.split(':')[0] ?? '')) continue;
      // 0A = TCP_LISTEN; 07 = TCP_CLOSE, which is how an unconnected bound UDP socket shows.
      if (
        (table.startsWith('tcp') && state === '0A') ||
        (table.startsWith('udp') && state === '07')
      ) {
        ports.push(parseInt(fields[1]?.split(':')[1] ?? '', 16));
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

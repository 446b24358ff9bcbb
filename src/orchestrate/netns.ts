import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ip } from './exec.js';

/** Where `ip netns exec` finds per-namespace files that it bind-mounts over /etc. */
export const NETNS_ETC = process.env.QOSLAB_NETNS_ETC ?? '/etc/netns';

export async function addNamespace(name: string): Promise<void> {
  await ip('netns', 'add', name);
}

export async function deleteNamespace(name: string): Promise<void> {
  await ip('netns', 'delete', name);
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await ip('netns', 'list');
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.length > 0);
}

/** PIDs of every process living in the namespace (children, grandchildren, strays). */
export async function namespacePids(name: string): Promise<number[]> {
  try {
    const { stdout } = await ip('netns', 'pids', name);
    return stdout
      .split('\n')
      .map((line) => Number.parseInt(line, 10))
      .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  } catch {
    return [];
  }
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * End every process in the namespace: SIGTERM, a grace period, then SIGKILL. A namespace
 * cannot really go away while a process still holds it, so this runs before deletion.
 */
export async function killNamespaceProcesses(name: string, graceMs = 1000): Promise<void> {
  const pids = await namespacePids(name);
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(25);
    if ((await namespacePids(name)).length === 0) return;
  }
  for (const pid of await namespacePids(name)) signal(pid, 'SIGKILL');
  // SIGKILL is not instant; wait briefly so the namespace is empty when deleted.
  for (let i = 0; i < 40 && (await namespacePids(name)).length > 0; i++) await sleep(25);
}

export interface NamespaceFiles {
  hosts: string;
  resolvConf: string;
}

/** Write /etc/netns/NAME/{hosts,resolv.conf}; `ip netns exec` mounts them over /etc. */
export function writeNamespaceFiles(name: string, files: NamespaceFiles): void {
  const dir = join(NETNS_ETC, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'hosts'), files.hosts);
  writeFileSync(join(dir, 'resolv.conf'), files.resolvConf);
}

export function removeNamespaceFiles(name: string): void {
  rmSync(join(NETNS_ETC, name), { recursive: true, force: true });
}

/** Names of all links in a namespace (the root namespace when `ns` is undefined). */
export async function listLinks(ns?: string): Promise<string[]> {
  const args = ns === undefined ? ['-o', 'link', 'show'] : ['-n', ns, '-o', 'link', 'show'];
  const { stdout } = await ip(...args);
  return stdout
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * PUID/PGID: whose the results are. qoslab needs root (or its capabilities) for a lab, so
 * in a container the files it writes into a bind-mounted folder belong to root on the
 * host. With PUID (and PGID) set, every folder and file this process made — results
 * folders, JUnit, Markdown, CSV — is handed to that user when the command ends, whatever
 * way it ends short of SIGKILL. It needs CAP_CHOWN, checked before anything runs.
 */
import { lchownSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

const CAP_CHOWN = 0;

export interface Owner {
  uid: number;
  gid: number;
}

function id(name: string, value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xfffffffe) {
    throw new UsageError(`${name} must be a numeric user or group id, got '${value}'`);
  }
  return Number(value);
}

function hasChown(): boolean {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return ((BigInt(`0x${hex ?? '0'}`) >> BigInt(CAP_CHOWN)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** The owner PUID/PGID name (PGID defaults to PUID), or undefined; exit 2 when it cannot be honoured. */
export function resultsOwner(env: NodeJS.ProcessEnv = process.env): Owner | undefined {
  const puid = env.PUID;
  if (puid === undefined || puid === '') return undefined;
  const owner = { uid: id('PUID', puid), gid: id('PGID', env.PGID || puid) };
  if (!hasChown()) {
    throw new UsageError(
      `PUID=${puid}: handing the results to that user needs CAP_CHOWN, which this process lacks`,
      ['in Docker add --cap-add CHOWN, or unset PUID'],
    );
  }
  return owner;
}

let owner: Owner | undefined;
const made = new Set<string>();

/** Arms the hand-over for this process (the CLI calls it first). */
export function setResultsOwner(o: Owner | undefined): void {
  owner = o;
}

/** A folder or file this process made (a folder with everything in it). */
export function noteMade(path: string): void {
  if (owner !== undefined) made.add(path);
}

function chownTree(path: string, o: Owner): void {
  // lstat and lchown: a symbolic link in a results folder is never followed.
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return;
  lchownSync(path, o.uid, o.gid);
  if (st.isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), o);
}

/** Hands everything made to the owner; returns a line per path it could not hand over. */
export function handOverMade(): string[] {
  const problems: string[] = [];
  if (owner === undefined) return problems;
  for (const path of made) {
    try {
      chownTree(path, owner);
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
    }
  }
  made.clear();
  return problems;
}

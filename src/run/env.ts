import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** qoslab's own folder, from this module (src/run/ and dist/run/ both sit two levels down). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function qoslabVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string | null {
  const r = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * qoslab's own commit, when its folder is the top of a git checkout. Installed under a
 * project's node_modules, `git -C` would find the host project's repository and report
 * its commit as qoslab's.
 */
function ownCommit(): string | null {
  const top = git(['rev-parse', '--show-toplevel']);
  if (top === null || resolve(top) !== resolve(ROOT)) return null;
  return git(['rev-parse', 'HEAD']);
}

/** What a reader of the results needs to reproduce or compare a run. */
export function runEnvironment(nativeVersion: string | null): Record<string, unknown> {
  const commit = ownCommit();
  return {
    qoslab: qoslabVersion(),
    git_commit: commit,
    git_dirty: commit === null ? null : (git(['status', '--porcelain']) ?? '') !== '',
    native_core: nativeVersion,
    node: process.version,
    kernel: `${os.type()} ${os.release()} ${os.version()}`,
    arch: process.arch,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    memory_bytes: os.totalmem(),
    hostname: os.hostname(),
  };
}

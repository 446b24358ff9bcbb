import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

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

/** What a reader of the results needs to reproduce or compare a run. */
export function runEnvironment(nativeVersion: string | null): Record<string, unknown> {
  const commit = git(['rev-parse', 'HEAD']);
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

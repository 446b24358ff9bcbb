import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, run the way a user runs it. */
export const CLI = fileURLToPath(new URL('../../bin/qoslab.js', import.meta.url));

export const isRoot = process.getuid?.() === 0;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `qoslab ARGS` to completion. */
export function qoslab(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return completion(child, `qoslab ${args.join(' ')}`, timeoutMs);
}

/** A started child's output and exit; killed (and rejected) after `timeoutMs`. */
export function completion(
  child: ChildProcess,
  what: string,
  timeoutMs: number,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} ran past ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Start `qoslab ARGS` and resolve once its stdout has a line matching `pattern`. */
export function qoslabUntil(
  args: string[],
  pattern: RegExp,
): Promise<{
  child: ChildProcess;
  match: RegExpExecArray;
  output: () => CliResult;
  done: Promise<CliResult>;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let matched = false;
    // 'exit', not 'close': after a SIGKILL, orphaned lab processes still hold the pipes.
    const done = new Promise<CliResult>((res) =>
      child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })),
    );
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} in time:\n${stdout}\n${stderr}`)),
      30_000,
    );
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = pattern.exec(stdout);
      if (match && !matched) {
        matched = true;
        clearTimeout(timer);
        resolve({
          child,
          match,
          output: () => ({ code: null, signal: null, stdout, stderr }),
          done,
        });
      }
    });
    void done.then((r) => {
      if (!matched) {
        clearTimeout(timer);
        reject(new Error(`qoslab exited (${r.code}) before ${pattern}:\n${r.stdout}\n${r.stderr}`));
      }
    });
  });
}

function lines(cmd: string, args: string[]): string[] {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim().length > 0);
}

/** Namespaces, links, /etc/netns entries and run markers that belong to a run id. */
export function resourcesOf(id: string): string[] {
  const found: string[] = [];
  for (const line of lines('ip', ['netns', 'list'])) {
    const ns = line.split(' ')[0]!; // "name (id: N)"
    if (ns.includes(id)) found.push(`netns ${ns}`);
  }
  for (const link of lines('ip', ['-o', 'link', 'show']))
    if (link.includes(id)) found.push(`link ${link}`);
  for (const entry of lines('ls', ['/etc/netns']))
    if (entry.includes(id)) found.push(`/etc/netns/${entry}`);
  for (const entry of lines('ls', ['/run/qoslab']))
    if (entry.includes(id)) found.push(`/run/qoslab/${entry}`);
  return found;
}

/** PIDs whose command line contains `needle` (to prove lab processes are gone). */
export function pidsWith(needle: string): number[] {
  return lines('pgrep', ['-f', needle]).map(Number);
}

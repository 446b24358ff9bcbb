/**
 * A helper daemon the server agent runs for its workloads (Caddy, coturn): started under
 * `setpriv --pdeathsig KILL` so it ends if the agent dies without closing it, waited for
 * until it says it serves (or fails with its last words), and closed with SIGTERM, then
 * SIGKILL if it lingers. What it serves and how it says so is the caller's.
 */
import { spawn } from 'node:child_process';

export interface Daemon {
  close(): Promise<void>;
}

/** How long a daemon may take to open its listeners (well under a second unloaded). */
const START_TIMEOUT_MS = 20_000;
/** How long a closed daemon may take to exit on SIGTERM before it is killed. */
const TERM_GRACE_MS = 3000;

export interface DaemonOptions {
  /** Its name in errors: `<name> did not start: <its last line>`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Each non-empty line it writes to stderr; call `ready()` once a line says it serves. */
  onStderr?: (line: string, ready: () => void) => void;
  /**
   * Readiness told elsewhere (a log file it writes): started with the daemon, calls
   * `ready()` when it serves and `note(line)` with lines worth quoting if it fails;
   * returns what stops the following (on failure or close).
   */
  follow?: (ready: () => void, note: (line: string) => void) => () => void;
  /** Removes what the daemon used, once it has exited. */
  cleanup: () => void;
}

/** Starts the daemon and resolves once it serves; rejects (it killed, cleaned up) otherwise. */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', o.command, ...o.args], {
    cwd: o.cwd,
    env: o.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // A spawn that fails ('error': setpriv itself missing) may never emit 'exit'.
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', () => resolve(null));
  });
  let stopFollowing = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    let tail = '';
    let up = false;
    const timer = setTimeout(
      () => reject(new Error(`${o.name} did not start: ${tail}`)),
      START_TIMEOUT_MS,
    );
    const serving = () => {
      if (up) return;
      up = true;
      clearTimeout(timer);
      resolve();
    };
    const note = (line: string) => (tail = line);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        tail = line;
        o.onStderr?.(line, serving);
      }
    });
    if (o.follow !== undefined) stopFollowing = o.follow(serving, note);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${o.name} could not be started: ${e.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!up) reject(new Error(`${o.name} exited (${code}): ${tail}`));
    });
  });
  try {
    await ready;
  } catch (e) {
    stopFollowing();
    child.kill('SIGKILL');
    await exited;
    o.cleanup();
    throw e;
  }
  return {
    close: async () => {
      stopFollowing();
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), TERM_GRACE_MS);
      await exited;
      clearTimeout(timer);
      o.cleanup();
    },
  };
}

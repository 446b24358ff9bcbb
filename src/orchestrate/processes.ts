import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface NamespaceCommand {
  /** Network namespace to run in. */
  ns: string;
  /** Program and arguments (no shell), or a shell command line. */
  command: { argv: string[] } | { shell: string };
  env: Record<string, string>;
  /**
   * 'inherit': share the terminal and our process group (Ctrl-C reaches it directly, an
   * interactive shell works). 'prefix': own process group, output lines prefixed.
   */
  stdio: 'inherit' | { prefix: string; out: NodeJS.WritableStream; err: NodeJS.WritableStream };
}

export interface Exit {
  /** Exit code, or 128 + signal number when killed by a signal (as shells report it). */
  code: number;
  signal?: NodeJS.Signals;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};

export interface Started {
  child: ChildProcess;
  exited: Promise<Exit>;
}

/** Start a command inside a namespace through `ip netns exec` (which also mounts /etc/netns/NS). */
export function startInNamespace(spec: NamespaceCommand): Started {
  const argv = 'argv' in spec.command ? spec.command.argv : ['/bin/sh', '-c', spec.command.shell];
  const prefixed = spec.stdio !== 'inherit';
  const child = spawn('ip', ['netns', 'exec', spec.ns, ...argv], {
    env: { ...process.env, ...spec.env },
    stdio: prefixed ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    detached: prefixed,
  });
  if (spec.stdio !== 'inherit') {
    const { prefix, out, err } = spec.stdio;
    for (const [stream, sink] of [
      [child.stdout, out],
      [child.stderr, err],
    ] as const) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => sink.write(`${prefix}${line}\n`));
    }
  }
  const exited = new Promise<Exit>((resolve) => {
    child.on('error', (error) => {
      const sink = spec.stdio === 'inherit' ? process.stderr : spec.stdio.err;
      sink.write(`qoslab: cannot start ${argv[0]}: ${error.message}\n`);
      resolve({ code: 127 });
    });
    // 'close' (not 'exit') so the last prefixed lines are written before we report the exit.
    child.on('close', (code, signal) => {
      if (signal !== null) resolve({ code: 128 + (SIGNAL_NUMBERS[signal] ?? 0), signal });
      else resolve({ code: code ?? 0 });
    });
  });
  return { child, exited };
}

/** Signal a prefixed (own process group) command and everything it started. */
export function signalGroup(started: Started, signal: NodeJS.Signals): void {
  const pid = started.child.pid;
  if (pid === undefined || started.child.exitCode !== null) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

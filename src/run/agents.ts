import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { AgentCommand, AgentEvent } from '../record/events.js';

/** dist/agent/main.js, also when this module runs from src/ (tests, tsx). */
export function agentScript(): string {
  const here = fileURLToPath(new URL('../agent/main.js', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../dist/agent/main.js', import.meta.url));
}

/**
 * One agent process in a namespace: events come in as NDJSON lines on its stdout,
 * commands go out on its stdin. Its own process group, so a terminal's Ctrl-C reaches
 * only the orchestrator, which then stops the agents in order.
 */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number>;
  private readyResolve: () => void = () => {};
  readonly ready: Promise<void>;
  /** CLOCK_MONOTONIC ns of the last line it wrote (events and heartbeats). */
  lastHeard = process.hrtime.bigint();
  /** How it ended, once it has: exit code, or the signal that killed it. */
  ending: { code: number | null; signal: NodeJS.Signals | null; at: bigint } | undefined;
  /** Set once the orchestrator itself stops it: its exit is then no fault. */
  stopping = false;

  constructor(
    readonly role: 'server' | 'client',
    /** Network namespace; null runs it here (loopback tests). */
    ns: string | null,
    configPath: string,
    env: Record<string, string>,
    onEvent: (e: AgentEvent) => void,
    onStderr: (line: string) => void,
  ) {
    this.ready = new Promise((r) => (this.readyResolve = r));
    const argv = [process.execPath, agentScript(), configPath];
    const [cmd, ...args] = ns === null ? argv : ['ip', 'netns', 'exec', ns, ...argv];
    this.child = spawn(cmd!, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdin?.on('error', () => {}); // the agent may be gone already
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lastHeard = process.hrtime.bigint();
      let e: AgentEvent;
      try {
        e = JSON.parse(line) as AgentEvent;
      } catch {
        return onStderr(line);
      }
      if (e.ev === 'ready') this.readyResolve();
      onEvent(e);
    });
    createInterface({ input: this.child.stderr! }).on('line', onStderr);
    this.exited = new Promise((resolve) => {
      this.child.on('error', () => {
        this.ending = { code: 127, signal: null, at: process.hrtime.bigint() };
        resolve(127);
      });
      this.child.on('exit', (code, signal) => {
        this.ending ??= { code, signal, at: process.hrtime.bigint() };
      });
      this.child.on('close', (code, signal) => {
        this.ending ??= { code, signal, at: process.hrtime.bigint() };
        resolve(code ?? (signal ? 128 : 0));
      });
    });
  }

  send(cmd: AgentCommand): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Ask it to stop; after `graceMs` kill its process group. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.send({ cmd: 'stop' });
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }
}

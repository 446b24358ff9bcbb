/**
 * The programs of `command` workloads (scenario/protocols/command.ts): each server in the
 * server namespace, started before the run and waited for until it is ready (a socket on
 * its port, or a line of its output); each client in the client namespace from its
 * workload's start to its stop. Every program runs in a process group of its own (only
 * those groups are ever signalled), its stdout and stderr go to
 * `commands/<workload>/<role>.stdout|stderr` in the results folder, and its life is
 * recorded as `program` events. A server that exits before the run ends, or a client
 * that exits with a non-zero code or a signal before its stop, is a fault: the run stops
 * there as for a dead agent (exit 4), its detail naming the program and its last words.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CommandError } from '../errors.js';
import type { Lab } from '../orchestrate/lab.js';
import { inNamespace, listensOn } from '../orchestrate/listeners.js';
import type { AgentFaultEvent, CommandEvent } from '../record/events.js';
import type { CompiledWorkload } from '../scenario/compiled.js';
import type { CompiledCommand } from '../scenario/protocols/command.js';
import { sleep } from './sleep.js';

/** How long a stopped program has between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 2000;
/** Lines of a failed program's stderr quoted in its fault. */
const LAST_WORDS = 3;

export type Role = 'server' | 'client';

/** The command workloads of a compiled scenario (those with a `command`). */
export function commandWorkloads(
  workloads: readonly CompiledWorkload[],
): (CompiledWorkload & { command: CompiledCommand })[] {
  return workloads.filter(
    (w): w is CompiledWorkload & { command: CompiledCommand } =>
      (w as { command?: unknown }).command != null,
  );
}

/** `$NAME` and `${NAME}` of the given variables replaced; anything else left as written. */
export function expandVariables(arg: string, env: Record<string, string>): string {
  return arg.replace(
    /\$\{([A-Z0-9_]+)\}|\$([A-Z0-9_]+)/g,
    (all, braced?: string, bare?: string) => {
      const name = braced ?? bare!;
      return Object.hasOwn(env, name) ? env[name]! : all;
    },
  );
}

/** A program path with a slash is the scenario's, relative to its folder; others come from PATH. */
export function programPath(program: string, scenarioDir: string): string {
  return program.includes('/') ? resolve(scenarioDir, program) : program;
}

/** One running program. */
class Program {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly startedAt = process.hrtime.bigint();
  /** Set once qoslab stops it: its exit is then no fault. */
  stopping = false;
  private readonly stderrPath: string;
  private readonly lineWatchers: ((line: string) => void)[] = [];

  constructor(
    readonly workload: string,
    readonly role: Role,
    ns: string,
    argv: string[],
    env: Record<string, string>,
    cwd: string,
    logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
    this.stderrPath = join(logDir, `${role}.stderr`);
    const out = createWriteStream(join(logDir, `${role}.stdout`));
    const err = createWriteStream(this.stderrPath);
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: signalled as one, never reached by a terminal's Ctrl-C.
      detached: true,
    });
    for (const [stream, file] of [
      [this.child.stdout!, out],
      [this.child.stderr!, err],
    ] as const) {
      stream.pipe(file);
      createInterface({ input: stream }).on('line', (line) => {
        for (const w of this.lineWatchers) w(line);
      });
    }
    this.exited = new Promise((done) => {
      this.child.on('error', () => done({ code: 127, signal: null }));
      this.child.on('close', (code, signal) => done({ code, signal }));
    });
  }

  onLine(watch: (line: string) => void): void {
    this.lineWatchers.push(watch);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines it wrote to stderr (for a fault's message). */
  lastWords(): string {
    try {
      const text = readFileSync(this.stderrPath, 'utf8').trimEnd();
      return text.split('\n').slice(-LAST_WORDS).join(' | ').slice(0, 300);
    } catch {
      return '';
    }
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  }

  /** SIGTERM its process group; SIGKILL it after the grace. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
    // Whatever it started and left behind in its group goes too.
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is empty
      }
    }
  }
}

export interface CommandsContext {
  lab: Lab;
  /** The run's private folder (CA bundle, keys, the programs' scratch folders). */
  tmp: string;
  pki: { caPem: string; certs: Record<string, { cert: string; key: string }> };
  /** Relative program paths and the programs' working folder. */
  scenarioDir: string;
  /** The run's results folder (`commands/` goes there). */
  resultsDir: string;
  record(e: CommandEvent): void;
  stop: AbortSignal;
}

export class Commands {
  private readonly programs: Program[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private t0: bigint | undefined;
  /** Events of programs started before t0, recorded once t0 is known. */
  private early: { at: bigint; e: Omit<CommandEvent, 't'> }[] = [];
  private onFault: ((f: AgentFaultEvent) => void) | undefined;
  private readonly faulted = new Set<Program>();

  constructor(
    private readonly workloads: (CompiledWorkload & { command: CompiledCommand })[],
    private readonly ctx: CommandsContext,
  ) {}

  get empty(): boolean {
    return this.workloads.length === 0;
  }

  private rel(at: bigint): number {
    return this.t0 === undefined ? 0 : Number(at - this.t0);
  }

  private event(e: Omit<CommandEvent, 't'>, at = process.hrtime.bigint()): void {
    if (this.t0 === undefined) this.early.push({ at, e });
    else this.ctx.record({ ...e, t: this.rel(at) } as CommandEvent);
  }

  /** The environment of a program: the lab's, the workload's endpoint, the run's PKI. */
  private env(w: CompiledWorkload, role: Role): Record<string, string> {
    const pkiDir = join(this.ctx.tmp, 'pki');
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    const ca = join(pkiDir, 'ca.pem');
    writeFileSync(ca, this.ctx.pki.caPem, { mode: 0o644 });
    const scratch = join(this.ctx.tmp, 'commands', w.name, role);
    mkdirSync(scratch, { recursive: true, mode: 0o700 });
    const vars: Record<string, string> = {
      ...this.ctx.lab.env(),
      QOSLAB_WORKLOAD: w.name,
      QOSLAB_ROLE: role,
      QOSLAB_HOST: w.server_name,
      QOSLAB_HOST_ADDR: w.address,
      QOSLAB_HOST_ADDR6: w.address6 ?? '',
      QOSLAB_PORT: String(w.port),
      QOSLAB_CA: ca,
      QOSLAB_TMP: scratch,
    };
    const pair = this.ctx.pki.certs[w.server_name];
    if (role === 'server' && pair !== undefined) {
      const cert = join(pkiDir, `${w.name}.crt`);
      const key = join(pkiDir, `${w.name}.key`);
      writeFileSync(cert, pair.cert, { mode: 0o644 });
      writeFileSync(key, pair.key, { mode: 0o600 });
      Object.assign(vars, { QOSLAB_CERT: cert, QOSLAB_KEY: key });
    }
    return vars;
  }

  private start(w: CompiledWorkload & { command: CompiledCommand }, role: Role): Program {
    const argv = role === 'server' ? w.command.server! : w.command.client!;
    const vars = this.env(w, role);
    const args = argv.map((a) => expandVariables(a, vars));
    args[0] = programPath(args[0]!, this.ctx.scenarioDir);
    const ns = role === 'server' ? this.ctx.lab.names.serverNs : this.ctx.lab.names.clientNs;
    const env = {
      ...(process.env as Record<string, string>),
      ...vars,
      // Programs that keep files in XDG folders (Caddy's autosave and instance id) keep
      // them in their scratch folder, removed with the run.
      XDG_CONFIG_HOME: vars.QOSLAB_TMP!,
      XDG_DATA_HOME: vars.QOSLAB_TMP!,
      XDG_CACHE_HOME: vars.QOSLAB_TMP!,
      // TLS clients that read these trust the run's CA (OpenSSL, curl, Python, Node).
      SSL_CERT_FILE: vars.QOSLAB_CA!,
      CURL_CA_BUNDLE: vars.QOSLAB_CA!,
      REQUESTS_CA_BUNDLE: vars.QOSLAB_CA!,
      NODE_EXTRA_CA_CERTS: vars.QOSLAB_CA!,
    };
    const logDir = join(this.ctx.resultsDir, 'commands', w.name);
    const p = new Program(w.name, role, ns, args, env, this.ctx.scenarioDir, logDir);
    this.programs.push(p);
    this.event({ ev: 'program', w: w.name, role, state: 'started', pid: p.pid ?? null });
    void p.exited.then((end) => this.exited(p, end));
    return p;
  }

  private exited(p: Program, end: { code: number | null; signal: NodeJS.Signals | null }): void {
    this.event({
      ev: 'program',
      w: p.workload,
      role: p.role,
      state: p.stopping ? 'stopped' : 'exited',
      pid: p.pid ?? null,
      code: end.code,
      signal: end.signal,
    });
    this.fault(p, end);
  }

  /** A client that finished its job is no fault; a server is meant to run to the end. */
  private fault(p: Program, end: { code: number | null; signal: NodeJS.Signals | null }): void {
    const fault = !p.stopping && (p.role === 'server' || end.code !== 0);
    if (!fault || this.onFault === undefined || this.faulted.has(p)) return;
    this.faulted.add(p);
    const at = process.hrtime.bigint();
    const how =
      end.signal !== null ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
    const words = p.lastWords();
    this.onFault({
      ev: 'agent',
      role: p.role,
      state: 'exited',
      t: this.rel(at),
      code: end.code,
      signal: end.signal,
      workload: p.workload,
      detail: `the ${p.role} program of workload '${p.workload}' ${how} at ${(this.rel(at) / 1e9).toFixed(1)} s${words === '' ? '' : ` (${words})`}`,
    });
  }

  /** Start every server and wait until each is ready; CommandError (exit 4) if one is not. */
  async startServers(): Promise<void> {
    for (const w of this.workloads) {
      if (w.command.server === null) continue;
      const p = this.start(w, 'server');
      const why = await this.ready(w, p);
      if (why !== undefined) {
        const words = p.lastWords();
        throw new CommandError(
          `the server program of workload '${w.name}' ${why}${words === '' ? '' : `: ${words}`}`,
          [`its output is in commands/${w.name}/server.stdout and server.stderr`],
        );
      }
      this.event({ ev: 'program', w: w.name, role: 'server', state: 'ready', pid: p.pid ?? null });
    }
  }

  /** Undefined once ready, else why not. */
  private async ready(w: CompiledWorkload & { command: CompiledCommand }, p: Program) {
    const c = w.command;
    let lineSeen = false;
    if (c.ready_line !== null) {
      const re = new RegExp(c.ready_line);
      p.onLine((line) => (lineSeen ||= re.test(line)));
    }
    let gone: string | undefined;
    void p.exited.then((end) => {
      gone = end.signal !== null ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
    });
    const port = c.ready_port ?? w.port;
    const deadline = Date.now() + c.ready_timeout_ns / 1e6;
    const ns = this.ctx.lab.names.serverNs;
    while (!this.ctx.stop.aborted) {
      if (gone !== undefined) return `${gone} before it was ready`;
      const pid = p.pid;
      if (
        c.ready_line !== null
          ? lineSeen
          : pid !== undefined && inNamespace(pid, ns) && listensOn(pid, port)
      ) {
        return undefined;
      }
      if (Date.now() >= deadline) {
        const what =
          c.ready_line !== null
            ? `printed no line matching /${c.ready_line}/`
            : `did not listen on port ${port}`;
        return `${what} within ${c.ready_timeout_ns / 1e9} s`;
      }
      await sleep(20, this.ctx.stop);
    }
    throw this.ctx.stop.reason;
  }

  /**
   * The run started at `t0`: record what came before, start each client at its
   * workload's start and stop it at its stop; faults go to `onFault` from now on.
   */
  startClients(t0: bigint, onFault: (f: AgentFaultEvent) => void): void {
    this.t0 = t0;
    this.onFault = onFault;
    for (const { at, e } of this.early) this.ctx.record({ ...e, t: this.rel(at) } as CommandEvent);
    this.early = [];
    const now = () => Number(process.hrtime.bigint() - t0);
    for (const w of this.workloads) {
      if (w.command.client === null) continue;
      this.timers.push(
        setTimeout(
          () => {
            if (this.ctx.stop.aborted) return;
            const p = this.start(w, 'client');
            this.timers.push(
              setTimeout(() => void p.stop(), Math.max(0, (w.stop_ns - now()) / 1e6)),
            );
          },
          Math.max(0, (w.start_ns - now()) / 1e6),
        ),
      );
    }
    // A server that died between being ready and the start is a fault too.
    for (const p of this.programs) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) {
        void p.exited.then((end) => this.fault(p, end));
      }
    }
  }

  /** Stop every program: clients first, then servers; no fault from here on. */
  async stop(): Promise<void> {
    this.onFault = undefined;
    for (const t of this.timers) clearTimeout(t);
    for (const role of ['client', 'server'] as const) {
      await Promise.all(this.programs.filter((p) => p.role === role).map((p) => p.stop()));
    }
  }
}

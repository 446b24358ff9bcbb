import { ExitCode } from '../errors.js';
import { commandProblem } from './command-path.js';
import { catchInterrupts, whenAborted } from './interrupt.js';
import { Lab, type LabOptions } from './lab.js';
import { waitForListener } from './listeners.js';
import { signalGroup, startInNamespace, type Started } from './processes.js';
import { TimelinePlayer, type PhaseChange } from './timeline.js';

/** What a recorder (run/shell-record.ts) hears of a shell's lab. */
export interface ShellHooks {
  /** The lab is open; its timeline starts at `t0` (CLOCK_MONOTONIC ns). */
  opened?(lab: Lab, t0: bigint): void;
  /** A phase began (policies handed to the core). */
  phase?(change: PhaseChange): void;
  /** The lab closed: its final flow snapshots wait in `lab.flows()`. */
  closed?(lab: Lab): void;
}

export interface ShellOptions {
  /** Program and arguments to run in the client namespace. */
  command: string[];
  /** Shell command line to run in the server namespace for the duration. */
  server?: string;
  /** How long to wait for the server command to listen before starting the client. */
  readyTimeoutMs?: number;
  lab?: LabOptions;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  hooks?: ShellHooks;
}

/**
 * `qoslab shell`: open a lab, run the server command (if any) in the server namespace
 * and the client command in the client namespace, then remove everything. Returns the
 * client command's exit code; 127/126 when it cannot be started; 3 when the server
 * command exits or does not listen before the client would start; 130 when interrupted.
 */
export async function runShell(options: ShellOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const missing = commandProblem(options.command[0] ?? '');
  if (missing !== undefined) {
    err.write(`qoslab: ${missing.message}\n`);
    return missing.code;
  }
  const interrupts = catchInterrupts(err);
  let lab: Lab | undefined;
  let server: Started | undefined;
  let stoppingServer = false;
  let timeline: TimelinePlayer | undefined;
  try {
    lab = await Lab.open(options.lab);
    if (interrupts.signal.aborted) return ExitCode.interrupted;
    const env = lab.env();
    const scenario = options.lab?.scenario;
    const t0 = process.hrtime.bigint();
    if (scenario !== undefined) {
      const running = lab;
      // The timeline runs for the recording's phases; it prints them when it shapes.
      const shaping = scenario.policies.length > 0 || scenario.dns.rules.length > 0;
      timeline = new TimelinePlayer(scenario.timeline, {
        apply: (active, dnsActive) => {
          if (!shaping) return;
          running.setActivePolicies(active);
          running.setResolverRules(dnsActive);
        },
        onPhase: (change) => {
          if (shaping) {
            err.write(
              `qoslab: phase ${change.phase}` +
                (change.entry.active.length + (change.entry.dns_active?.length ?? 0) > 0
                  ? ` (in force: ${[...change.entry.active, ...(change.entry.dns_active ?? [])].join(', ')})`
                  : '') +
                '\n',
            );
          }
          options.hooks?.phase?.(change);
        },
      });
    }
    options.hooks?.opened?.(lab, t0);
    timeline?.start(t0);

    if (options.server !== undefined) {
      const started = startInNamespace({
        ns: lab.names.serverNs,
        command: { shell: options.server },
        env,
        stdio: { prefix: '[server] ', out, err },
      });
      server = started;
      let serverExit: number | undefined;
      void started.exited.then((exit) => {
        serverExit = exit.code;
        // A server that fails is worth a line; one that finished its job (iperf3 -s -1), or
        // that qoslab stopped itself, is not.
        if (exit.code !== 0 && !interrupts.signal.aborted && !stoppingServer) {
          err.write(`[server] exited with code ${exit.code}\n`);
        }
      });
      const timeoutMs = options.readyTimeoutMs ?? 10_000;
      const ready =
        timeoutMs === 0 ||
        (await waitForListener(
          started.child.pid ?? -1,
          lab.names.serverNs,
          timeoutMs,
          () => serverExit === undefined,
          interrupts.signal,
        ));
      if (interrupts.signal.aborted) return ExitCode.interrupted;
      if (!ready) {
        await Promise.race([started.exited, new Promise((r) => setTimeout(r, 50))]);
        err.write(
          serverExit !== undefined
            ? `qoslab: the server command exited with code ${serverExit} before it listened; the client was not started\n`
            : `qoslab: the server command did not listen within ${(timeoutMs / 1000).toFixed(1)} s (--ready-timeout); the client was not started\n`,
        );
        return ExitCode.environment;
      }
    }

    const client = startInNamespace({
      ns: lab.names.clientNs,
      command: { argv: options.command },
      env,
      stdio: 'inherit',
    });
    const outcome = await Promise.race([
      client.exited,
      whenAborted(interrupts.signal).then(() => undefined),
    ]);
    if (outcome === undefined) {
      // SIGTERM/SIGHUP reach only us; a terminal's Ctrl-C reached the client already.
      client.child.kill('SIGTERM');
      return ExitCode.interrupted;
    }
    return outcome.code;
  } finally {
    timeline?.stop();
    if (server !== undefined) {
      stoppingServer = true;
      signalGroup(server, 'SIGTERM');
    }
    // close() also ends whatever still runs in the namespaces.
    try {
      await lab?.close();
      if (lab !== undefined) options.hooks?.closed?.(lab);
    } finally {
      interrupts.dispose();
    }
  }
}

/**
 * The workload agent: one process per lab namespace (`ip netns exec NS node
 * dist/agent/main.js CONFIG.json`). The server agent binds every scenario host's
 * listeners, the client agent runs the clients. Both stream events as NDJSON on stdout,
 * and take `start` (with the shared t0) and `stop` commands as NDJSON on stdin; stdin
 * closing means the orchestrator is gone, so the agent stops too.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { browserEvents } from '../workloads/browser.js';
import { Hub } from '../workloads/hub.js';
import { LoopLag } from '../workloads/lag.js';
import { PROTOCOLS, protocolsUsed, runClient } from '../workloads/index.js';
import { serveGroup, serverGroups } from '../workloads/groups.js';
import { mqttOptions } from '../workloads/mqtt.js';
import type { Listening, ServerContext } from '../workloads/types.js';
import type { AgentConfig } from './config.js';
import { BROWSER_DIED_EXIT, type AgentCommand, type AgentEvent } from '../record/events.js';

function emit(event: AgentEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (path === undefined) throw new Error('usage: agent CONFIG.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as AgentConfig;
  mqttOptions.qos = config.mqttQos ?? 1;
  const controller = new AbortController();
  const hub = new Hub(config.workloads.map((_, i) => i));
  const ctx: ServerContext = {
    workloads: config.workloads,
    seed: config.seed,
    t0: 0n,
    emit,
    signal: controller.signal,
    caPem: config.caPem,
    spki: config.spki ?? [],
    phaseStartsNs: config.phaseStartsNs ?? [],
    resolver: config.resolver,
    echNames: config.echNames,
    certs: config.certs,
    hub,
  };
  const log = (msg: string) =>
    emit({ ev: 'log', role: config.role, t: Number(process.hrtime.bigint() - ctx.t0), msg });

  // A workload stack gone is the run's fault, not silence the network caused.
  browserEvents.onBrowserDeath = (detail) => {
    log(`${detail}: stopping`);
    process.stdout.write('', () => process.exit(BROWSER_DIED_EXIT));
  };

  const listening: Listening[] = [];
  if (config.role === 'server') {
    for (const group of serverGroups(config.workloads, config.ipv6)) {
      listening.push(...(await serveGroup(group, ctx)));
    }
  } else {
    // Client stacks that take seconds to start (a browser) start before the run does.
    for (const protocol of protocolsUsed(config.workloads)) {
      if (protocol.prepare !== undefined) listening.push(await protocol.prepare(ctx));
    }
  }
  emit({ ev: 'ready', role: config.role });

  const clients: Promise<void>[] = [];
  let stopping: Promise<void> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let lag: LoopLag | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(heartbeat);
      lag?.stop();
      controller.abort();
      hub.stop();
      const deadline = new Promise((r) => setTimeout(r, 3000).unref());
      await Promise.race([Promise.allSettled(clients), deadline]);
      await Promise.race([Promise.allSettled(listening.map((l) => l.close())), deadline]);
      process.stdout.write('', () => process.exit(0));
    })());

  const start = (t0: bigint) => {
    ctx.t0 = t0;
    // The orchestrator takes silence for a hung agent (run/supervise.ts).
    heartbeat = setInterval(
      () => emit({ ev: 'alive', role: config.role, t: Number(process.hrtime.bigint() - t0) }),
      500,
    );
    // What this loop receives while it is late is stamped late: the run must know.
    lag = new LoopLag((e) =>
      emit({
        ev: 'agent_lag',
        role: config.role,
        t: Number(e.start - t0),
        dur_ns: Number(e.end - e.start),
      }),
    ).start();
    if (config.role === 'server') return hub.begin(ctx);
    config.workloads.forEach((w, index) => {
      const protocol = PROTOCOLS[w.protocol];
      if (protocol === undefined) return log(`no agent for protocol ${w.protocol}`);
      for (let c = 0; c < w.connections; c++) {
        clients.push(
          runClient(index, c, ctx).catch((e: Error) => log(`${w.name}[${c}]: ${e.message}`)),
        );
      }
    });
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const cmd = JSON.parse(line) as AgentCommand;
    if (cmd.cmd === 'start') start(BigInt(cmd.t0));
    else if (cmd.cmd === 'stop') void stop();
  });
  lines.on('close', () => void stop());
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void stop());
}

main().catch((error: Error) => {
  process.stderr.write(`qoslab agent: ${error.stack ?? error.message}\n`);
  process.exit(1);
});

/**
 * A run's session: what must exist before the first message and be removed after the
 * last one — a private temporary folder (agent configs, the run CA's key), the lab, and
 * one agent per namespace, each waited for until it is ready.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../agent/config.js';
import { LabError } from '../errors.js';
import { Lab } from '../orchestrate/lab.js';
import { makeRunTmp, removeRunTmp } from '../orchestrate/run-tmp.js';
import type { AgentEvent } from '../record/events.js';
import type { QueryLine } from '../resolver/protocol.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import type { TraceSet } from '../scenario/files.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';
import { AgentProcess } from './agents.js';
import { captureConfig } from './capture.js';
import { Commands, commandWorkloads } from './commands.js';
import { sleep } from './sleep.js';

const READY_TIMEOUT_MS = 20_000;

export interface SessionOptions {
  labId?: string;
  mqttQos?: 0 | 1;
  /** The traces the scenario names, already read (src/scenario/files.ts). */
  traces?: TraceSet;
  /** Stop early (Ctrl-C). */
  stop: AbortSignal;
  err: NodeJS.WritableStream;
  /** The scenario file's folder: `command` programs run there, relative paths start there. */
  scenarioDir: string;
  /** The run's results folder (`command` programs' output goes to its `commands/`). */
  resultsDir: string;
  /** Write a packet capture even when the scenario has no `capture` (`--pcap`). */
  pcap?: boolean;
}

export class RunSession {
  readonly agents: AgentProcess[] = [];
  readonly stop: AbortSignal;
  lab: Lab | undefined;
  /** The programs of `command` workloads (none until `open` made the lab). */
  commands: Commands | undefined;
  /** Gets each exchange of the lab's resolver once set (run/run.ts sets it at t0). */
  onQuery: ((line: QueryLine) => void) | undefined;
  /** Under the system's temporary folder; `qoslab cleanup` removes it after a SIGKILL. */
  readonly tmp: string;

  constructor(
    private readonly compiled: CompiledConfig,
    private readonly options: SessionOptions,
  ) {
    this.stop = options.stop;
    this.tmp = makeRunTmp();
  }

  get interrupted(): boolean {
    return this.stop.aborted;
  }

  /** Make the PKI and the lab, start both agents and wait until each is ready. */
  async open(onEvent: (e: AgentEvent) => void): Promise<void> {
    const { compiled, options } = this;
    const hosts = compiled.hosts.filter((h) => h.names.length > 0).map((h) => h.names);
    // Loaded here, not at the top: the X.509 library costs every other CLI command ~0.2 s.
    const { makeLabPki, spkiPins } = await import('../orchestrate/pki.js');
    const pki = await makeLabPki(hosts, options.labId ?? 'run');
    const resolverName = compiled.dns.resolver.names[0];
    this.lab = await Lab.open({
      scenario: compiled,
      traces: options.traces,
      id: options.labId,
      resolverCert: resolverName === undefined ? undefined : pki.certs[resolverName],
      onQuery: (line) => this.onQuery?.(line),
      capture: captureConfig(compiled, options.pcap === true, options.resultsDir),
    });
    if (this.stop.aborted) throw this.stop.reason;
    // The agents run the workloads they have a protocol for; `command` programs are ours.
    const agentWorkloads = compiled.workloads.filter((w) => PROTOCOLS[w.protocol].agent === true);
    for (const role of ['server', 'client'] as const) {
      const config: AgentConfig = {
        role,
        workloads: agentWorkloads,
        seed: compiled.seed,
        caPem: pki.caPem,
        certs: role === 'server' ? pki.certs : {},
        spki: role === 'client' ? spkiPins(pki) : undefined,
        ipv6: this.lab.ipv6,
        mqttQos: options.mqttQos,
        phaseStartsNs: compiled.timeline.map((e) => e.at_ns).filter((t) => t > 0),
        resolver: { address: compiled.dns.resolver.address, names: compiled.dns.resolver.names },
        echNames: compiled.dns.zone
          .filter((r) => r.https?.ech_public_name != null)
          .map((r) => r.name),
      };
      const path = join(this.tmp, `${role}.json`);
      writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
      const ns = role === 'server' ? this.lab.names.serverNs : this.lab.names.clientNs;
      // The agents' temporary folders (Chromium's profile and its own folders, Caddy's and
      // coturn's files) go inside the run's: removed with it even when an agent was killed
      // and could not remove them (they piled up in /tmp), and by `qoslab cleanup`.
      const env = { ...this.lab.env(), TMPDIR: this.tmp };
      const agent = new AgentProcess(role, ns, path, env, onEvent, (line) =>
        options.err.write(`[${role}] ${line}\n`),
      );
      this.agents.push(agent);
      const ready = await Promise.race([
        agent.ready.then(() => 'ready' as const),
        agent.exited.then((code) => `exited with code ${code}` as const),
        sleep(READY_TIMEOUT_MS, this.stop).then(() => 'timeout' as const),
      ]);
      if (this.stop.aborted) throw this.stop.reason;
      if (ready !== 'ready') {
        throw new LabError(
          `the ${role} agent did not start (${ready === 'timeout' ? 'no ready in 20 s' : ready})`,
        );
      }
    }
    this.commands = new Commands(commandWorkloads(compiled.workloads), {
      lab: this.lab,
      tmp: this.tmp,
      pki,
      scenarioDir: options.scenarioDir,
      resultsDir: options.resultsDir,
      record: onEvent,
      stop: this.stop,
    });
    await this.commands.startServers();
  }

  /** Stop the agents (the client first, so the server's closing is no failure), then the lab. */
  async close(): Promise<void> {
    try {
      await this.commands?.stop();
      for (const a of [...this.agents].reverse()) await a.stop(4000);
      await this.lab?.close();
    } finally {
      removeRunTmp(this.tmp);
    }
  }
}

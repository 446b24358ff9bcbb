import {
  NativeLab,
  type CaptureCounters,
  type FlowSnapshot,
  type LabCounters,
  type LabStalls,
  type NativeCaptureConfig,
} from '../native/index.js';
import { scenarioRejection } from '../native/rejected.js';
import { LabError } from '../errors.js';
import { ip } from './exec.js';
import {
  CLIENT,
  CLIENT_TUN,
  LAB_PREFIXES,
  SERVER,
  SERVER_TUN,
  TUN_TXQUEUELEN,
  type Endpoint,
} from './addresses.js';
import { labNames, newRunId, type LabNames } from './names.js';
import { removeMarker, writeMarker } from './marker.js';
import {
  addNamespace,
  deleteNamespace,
  killNamespaceProcesses,
  removeNamespaceFiles,
  writeNamespaceFiles,
} from './netns.js';
import { defaultHostEntries, hostsFile, resolvConf, type HostEntry } from './name-files.js';
import { assertLabPossible } from './checks.js';
import { ResolverProcess } from './resolver.js';
import { setCongestionControl } from './congestion.js';
import type { QueryLine } from '../resolver/protocol.js';
import { compileScenario } from '../scenario/compile.js';
import type { CompiledConfig, CompiledDns } from '../scenario/compiled.js';
import type { TraceSet } from '../scenario/files.js';

export interface LabOptions {
  /**
   * The compiled scenario: its hosts get addresses in the server namespace and names in
   * both hosts files, and its network settings (mtu, ipv6) are the lab's defaults.
   */
  scenario?: CompiledConfig;
  /** The traces the scenario names, read by src/scenario/files.ts (the core opens no path). */
  traces?: TraceSet;
  /** Link MTU of both TUNs (default: the scenario's, else 1500). */
  mtu?: number;
  /** Pass GSO super-packets through (IFF_VNET_HDR + TSO); default true. */
  offload?: boolean;
  /** Give both namespaces IPv6 addresses and routes (default: the scenario's, else true). */
  ipv6?: boolean;
  /** Meter every flow (default true; needs a scenario). Off only for the bench's comparison. */
  flowMetrics?: boolean;
  /** Write a pcapng capture (needs a scenario). */
  capture?: NativeCaptureConfig;
  /** Extra names, answered by the resolver (and in the hosts files with `dns.hosts-file`). */
  hosts?: HostEntry[];
  /**
   * The resolver's certificate for DoT and DoH (a run's PKI has one for its names);
   * without it the lab makes its own.
   */
  resolverCert?: { cert: string; key: string };
  /** Each exchange the resolver had. */
  onQuery?(line: QueryLine): void;
  /** Run id (default: random). Tests pass their own to find their resources. */
  id?: string;
}

type Undo = () => Promise<void> | void;

/** Labs of this process not yet closed: a fatal error handler can still remove them. */
const openLabs = new Set<Lab>();

/** Close every lab this process still has (used on a fatal, unexpected error). */
export async function closeAllLabs(): Promise<void> {
  await Promise.allSettled([...openLabs].map((lab) => lab.close()));
}

/** Hosts of a scenario as hosts-file entries (the built-in `server` is already there). */
function scenarioHostEntries(scenario: CompiledConfig): HostEntry[] {
  return scenario.hosts
    .filter((h) => h.name !== 'server')
    .map((h) => ({ names: h.names, v4: h.address, v6: h.address6 ?? undefined }));
}

/**
 * The resolver's configuration for this lab: the scenario's (or an empty scenario's), with
 * the extra names added and no IPv6 answers in a lab without IPv6.
 */
function labDns(scenario: CompiledConfig, extra: HostEntry[], ipv6: boolean): CompiledDns {
  const dns = scenario.dns;
  const zone = [
    ...dns.zone,
    ...extra.flatMap((h) =>
      h.names.map((name) => ({
        name: name.toLowerCase(),
        a: [h.v4],
        aaaa: h.v6 === undefined ? [] : [h.v6],
        https: null,
      })),
    ),
  ].map((r) => (ipv6 ? r : { ...r, aaaa: [] }));
  return {
    ...dns,
    zone,
    resolver: { ...dns.resolver, address6: ipv6 ? dns.resolver.address6 : null },
    rules: dns.rules.map((r) => (ipv6 ? r : { ...r, aaaa: [] })),
  };
}

/**
 * One lab: a client and a server network namespace whose only link is a TUN device each,
 * joined by the native core's forwarder. `open` builds it step by step and records how
 * to undo each step, so a failure half-way and `close` both leave nothing behind.
 */
export class Lab {
  readonly names: LabNames;
  readonly client: Endpoint = CLIENT;
  readonly server: Endpoint = SERVER;
  readonly ipv6: boolean;
  private native: NativeLab | undefined;
  /** The core's last flow snapshots, taken as it closed (see `flows`). */
  private finalFlows: FlowSnapshot[] = [];
  /** The capture's final counters, once closed (null: no capture). */
  captured: CaptureCounters | null = null;
  private resolver: ResolverProcess | undefined;
  private readonly undo: Undo[] = [];
  private closing: Promise<void> | undefined;

  private constructor(names: LabNames, ipv6: boolean) {
    this.names = names;
    this.ipv6 = ipv6;
  }

  static async open(options: LabOptions = {}): Promise<Lab> {
    await assertLabPossible();
    const names = labNames(options.id ?? newRunId());
    const lab = new Lab(names, options.ipv6 ?? options.scenario?.network.ipv6 ?? true);
    openLabs.add(lab);
    try {
      await lab.build(options);
    } catch (error) {
      await lab.close();
      if (error instanceof LabError) throw error;
      const rejected = scenarioRejection(error);
      if (rejected !== error) throw rejected;
      throw new LabError(`could not set up the lab: ${(error as Error).message}`, [
        'run `qoslab doctor` to check this machine',
      ]);
    }
    return lab;
  }

  private async build(options: LabOptions): Promise<void> {
    const { names } = this;
    const mtu = options.mtu ?? options.scenario?.network.mtu ?? 1500;
    // Without a scenario the lab is an empty scenario's: the built-in server and resolver.
    const scenario = options.scenario ?? compileScenario({ version: 1 });
    const scenarioHosts = scenarioHostEntries(scenario);
    const dns = labDns(scenario, options.hosts ?? [], this.ipv6);
    // The marker comes first: whatever exists after a SIGKILL is then findable by cleanup.
    writeMarker(names);
    this.undo.push(() => removeMarker(names.id));

    for (const ns of [names.clientNs, names.serverNs]) {
      await addNamespace(ns);
      this.undo.push(async () => {
        await killNamespaceProcesses(ns);
        await deleteNamespace(ns);
      });
      // With the resolver, the hosts file has localhost only: every other name is a query.
      const entries = dns.hosts_file
        ? [
            ...defaultHostEntries(),
            ...scenarioHosts.filter((h) => h.names.length > 0),
            ...(options.hosts ?? []),
          ]
        : [];
      writeNamespaceFiles(ns, {
        hosts: hostsFile(entries, this.ipv6),
        resolvConf: resolvConf(dns.resolver.address),
      });
      this.undo.push(() => removeNamespaceFiles(ns));
    }

    this.native = NativeLab.open({
      clientTun: names.clientTunOutside,
      serverTun: names.serverTunOutside,
      mtu,
      offload: options.offload ?? true,
      labPrefixes: [...LAB_PREFIXES],
      scenario: options.scenario,
      traces: options.traces,
      ...(options.flowMetrics === false && { flowMetrics: false }),
      ...(options.capture && { capture: options.capture }),
    });
    // Closing the fds destroys the (non-persistent) TUNs, wherever they have moved.
    this.undo.push(() => {
      const last = this.native?.close();
      this.finalFlows = last?.flows ?? [];
      this.captured = last?.capture ?? null;
      this.native = undefined;
    });

    await this.configureSide(names.clientNs, names.clientTunOutside, CLIENT_TUN, CLIENT, mtu);
    await this.configureSide(names.serverNs, names.serverTunOutside, SERVER_TUN, SERVER, mtu);
    const congestion = scenario.network.tcp_congestion;
    if (congestion !== null) {
      await setCongestionControl([names.clientNs, names.serverNs], congestion);
    }
    // Each scenario host is one more address on the server's TUN, so servers can bind to
    // it and the classifier sees a distinct destination per app.
    for (const host of scenarioHosts) {
      if (host.v4 !== SERVER.v4) {
        await ip('-n', names.serverNs, 'addr', 'add', `${host.v4}/32`, 'dev', SERVER_TUN);
      }
      if (this.ipv6 && host.v6 !== undefined && host.v6 !== SERVER.v6) {
        await ip(
          '-n',
          names.serverNs,
          '-6',
          'addr',
          'add',
          `${host.v6}/128`,
          'dev',
          SERVER_TUN,
          'nodad',
        );
      }
    }
    this.resolver = await ResolverProcess.start({
      ns: names.serverNs,
      dns,
      ipv6: this.ipv6,
      cert: options.resolverCert ?? (await this.ownResolverCert(dns)),
      onQuery: options.onQuery,
    });
    this.undo.push(() => this.resolver?.close());
  }

  /** A certificate for DoT and DoH when no run PKI gave one (`qoslab shell`). */
  private async ownResolverCert(
    dns: CompiledDns,
  ): Promise<{ cert: string; key: string } | undefined> {
    const secure = dns.resolver.transports.some((t) => t === 'tls' || t === 'https');
    if (!secure || dns.resolver.names.length === 0) return undefined;
    // Loaded only here: the X.509 library costs a command that needs none ~0.2 s.
    const { makeLabPki } = await import('./pki.js');
    const pki = await makeLabPki([dns.resolver.names], this.names.id);
    return pki.certs[dns.resolver.names[0]!];
  }

  /** The resolver rules in force from now on (a timeline step). */
  setResolverRules(active: string[]): void {
    this.resolver?.setRules(active);
  }

  /** Move a TUN into its namespace, address it, and route everything through it. */
  private async configureSide(
    ns: string,
    outside: string,
    inside: string,
    address: Endpoint,
    mtu: number,
  ): Promise<void> {
    await ip('link', 'set', 'dev', outside, 'netns', ns);
    await ip('-n', ns, 'link', 'set', 'dev', outside, 'name', inside);
    // No link-local address: it would only send router solicitations and MLD reports
    // that the forwarder drops as not-lab.
    await ip(
      '-n',
      ns,
      'link',
      'set',
      'dev',
      inside,
      'mtu',
      String(mtu),
      'txqueuelen',
      String(TUN_TXQUEUELEN),
      'addrgenmode',
      'none',
    );
    await ip('-n', ns, 'link', 'set', 'dev', 'lo', 'up');
    await ip('-n', ns, 'addr', 'add', `${address.v4}/32`, 'dev', inside);
    if (this.ipv6) {
      await ip('-n', ns, '-6', 'addr', 'add', `${address.v6}/128`, 'dev', inside, 'nodad');
    }
    await ip('-n', ns, 'link', 'set', 'dev', inside, 'up');
    await ip('-n', ns, 'route', 'add', 'default', 'dev', inside);
    if (this.ipv6) await ip('-n', ns, '-6', 'route', 'add', 'default', 'dev', inside);
  }

  /**
   * Replace the set of policies in force (a timeline step). The core swaps it atomically
   * between two packets.
   */
  setActivePolicies(active: string[]): void {
    this.native?.setActive(active);
  }

  /** The forwarding thread's stalls since the last call (undefined once closed). */
  stalls(): LabStalls | undefined {
    return this.native?.stalls();
  }

  /** Forwarding counters of the native core (undefined once closed). */
  counters(): LabCounters | undefined {
    return this.native?.counters();
  }

  /**
   * The core's per-flow snapshots since the last call (`all`: the new one lists every
   * live flow). Once closed, the snapshots the core left at its end, once.
   */
  flows(all = false): FlowSnapshot[] {
    if (this.native !== undefined) return this.native.flows(all);
    const last = this.finalFlows;
    this.finalFlows = [];
    return last;
  }

  /** Variables every process started in the lab sees. */
  env(): Record<string, string> {
    return {
      QOSLAB_RUN_ID: this.names.id,
      QOSLAB_CLIENT_NS: this.names.clientNs,
      QOSLAB_SERVER_NS: this.names.serverNs,
      QOSLAB_CLIENT_ADDR: this.client.v4,
      QOSLAB_SERVER_ADDR: this.server.v4,
      QOSLAB_CLIENT_ADDR6: this.ipv6 ? this.client.v6 : '',
      QOSLAB_SERVER_ADDR6: this.ipv6 ? this.server.v6 : '',
    };
  }

  /**
   * Tear everything down in reverse order of creation. Every step runs even when an
   * earlier one fails; the failures are reported together. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.teardown();
    return this.closing;
  }

  private async teardown(): Promise<void> {
    openLabs.delete(this);
    const failures: string[] = [];
    while (this.undo.length > 0) {
      const step = this.undo.pop()!;
      try {
        await step();
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (failures.length > 0) {
      throw new LabError(`lab ${this.names.id} was not fully removed: ${failures.join('; ')}`, [
        'run `qoslab cleanup` to remove what is left',
      ]);
    }
  }
}

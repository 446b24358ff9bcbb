/**
 * Scenario → CompiledConfig: names resolved, defaults filled, every object built with a
 * fixed key order so the JSON is byte-for-byte stable (golden tests, cache keys).
 */
import { resolve } from 'node:path';
import { compileAction } from './actions/index.js';
import type {
  CompiledCapture,
  CompiledConfig,
  CompiledHost,
  CompiledLink,
  CompiledMatcher,
  CompiledNetwork,
  CompiledPayload,
  CompiledPolicy,
  CompiledTimelineEntry,
  CompiledWorkload,
  PortRange,
} from './compiled.js';
import { CLIENT, CLIENT_NAMES } from '../addresses.js';
import {
  BUILTIN_HOST,
  BUILTIN_HOST_NAMES,
  DEFAULTS,
  FIRST_HOST_ADDRESS,
  FIRST_HOST_ADDRESS6,
  SERVER_ADDRESS,
  SERVER_ADDRESS6,
} from './defaults.js';
import { compileDns, dnsRuleNames, resolverHost } from './dns.js';
import { protocolSettings } from './protocols/index.js';
import { compileSession } from './session.js';
import type {
  Scenario,
  ScenarioLink,
  ScenarioMatcher,
  ScenarioWorkload,
  TCP_CONGESTION,
} from './schema.js';
import { compiledQueue, mergePortRanges } from './units.js';

export interface CompileOptions {
  /** Name when the scenario has none (the file name without extension). */
  name?: string;
  /** Folder trace paths are resolved against; without it they stay as written. */
  baseDir?: string;
}

export function compileScenario(s: Scenario, options: CompileOptions = {}): CompiledConfig {
  const ipv6 = s.network?.ipv6 ?? DEFAULTS.ipv6;
  const durationNs = s.duration ?? DEFAULTS.durationNs;
  const file = (f: string) => (options.baseDir === undefined ? f : resolve(options.baseDir, f));
  const hosts = compileHosts(s, ipv6);
  const client: CompiledHost = {
    name: 'client',
    names: [...CLIENT_NAMES].filter((n) => n.includes('.')),
    address: CLIENT.v4,
    address6: ipv6 ? CLIENT.v6 : null,
  };
  const hostByName = new Map(hosts.map((h) => [h.name, h]));
  const policyNames = Object.keys(s.policies ?? {});
  return {
    format: 1,
    name: s.name ?? options.name ?? 'scenario',
    seed: s.seed ?? DEFAULTS.seed,
    duration_ns: durationNs,
    network: {
      mtu: s.network?.mtu ?? DEFAULTS.mtu,
      ipv6,
      tcp_congestion: tcpCongestion(s.network?.['tcp-congestion']),
      uplink: compileLink(s.network?.uplink, file),
      downlink: compileLink(s.network?.downlink, file),
    },
    hosts,
    classes: Object.entries(s.classes ?? {}).map(([name, spec]) => ({
      name,
      any_of: (Array.isArray(spec) ? spec : [spec]).map((m) => compileMatcher(m, hostByName)),
    })),
    policies: Object.entries(s.policies ?? {}).map(([name, p]): CompiledPolicy => ({
      name,
      classes: many(p.match?.class),
      except_classes: many(p.match?.except),
      undecided_hold_ns: typeof p.match?.undecided === 'object' ? p.match.undecided.hold : null,
      proto: p.match?.proto ?? null,
      direction: p.match?.direction ?? 'both',
      idle_timeout_ns: p.state?.['idle-timeout'] ?? null,
      actions: p.actions.map((a) => compileAction(a, file)),
    })),
    timeline: compileTimeline(s, policyNames, dnsRuleNames(s.dns)),
    workloads: (s.workloads ?? []).map((w) =>
      withTurnAddress(compileWorkload(w, hostByName.get(w.host)!, durationNs), hostByName),
    ),
    expect: (s.expect ?? []).map((x) => ({
      text: x.text,
      workload: x.workload,
      metric: x.metric,
      op: x.op,
      value: x.value,
      kind: x.kind,
      phase: x.phase,
    })),
    capture: s.capture === undefined ? null : compileCapture(s.capture),
    dns: compileDns(s.dns, hosts, client, ipv6),
  };
}

/** The capture with every default filled in. */
export function compileCapture(c: NonNullable<Scenario['capture']>): CompiledCapture {
  return {
    snaplen_bytes: c.snaplen ?? DEFAULTS.captureSnaplen,
    file_bytes: c['file-size'] ?? DEFAULTS.captureFileBytes,
    files: c.files ?? DEFAULTS.captureFiles,
    classes: many(c.classes),
    workloads: many(c.workloads),
  };
}

function many<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function compileLink(l: ScenarioLink | undefined, file: (f: string) => string): CompiledLink {
  return {
    rate_bps: l?.rate ?? null,
    trace_file: l?.trace === undefined ? null : file(l.trace),
    delay_ns: l?.delay ?? 0,
    jitter_ns: l?.jitter ?? 0,
    loss: l?.loss ?? 0,
    ...compiledQueue(l?.queue),
    aqm: l?.aqm ?? 'droptail',
  };
}

// ---- addresses ---------------------------------------------------------------------

const ipv4ToInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIpv4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** Canonical text of an IPv6 address (RFC 5952), so "taken" comparisons are exact. */
function canonical6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

function compileHosts(s: Scenario, ipv6: boolean): CompiledHost[] {
  const entries = Object.entries(s.hosts ?? {});
  const taken4 = new Set([
    SERVER_ADDRESS,
    ...entries.flatMap(([, h]) => (h.address ? [h.address] : [])),
  ]);
  const taken6 = new Set([
    SERVER_ADDRESS6,
    ...entries.flatMap(([, h]) => (h.address6 ? [canonical6(h.address6)] : [])),
  ]);
  let next4 = ipv4ToInt(FIRST_HOST_ADDRESS);
  // The interface identifier counts up in hex from ::101 within the /64.
  const prefix6 = FIRST_HOST_ADDRESS6.slice(0, FIRST_HOST_ADDRESS6.lastIndexOf(':') + 1);
  let next6 = parseInt(FIRST_HOST_ADDRESS6.slice(prefix6.length), 16);
  const alloc4 = () => {
    // Skip .0 and .255 so no host looks like a network or broadcast address.
    while (taken4.has(intToIpv4(next4)) || next4 % 256 === 0 || next4 % 256 === 255) next4++;
    const a = intToIpv4(next4++);
    taken4.add(a);
    return a;
  };
  const alloc6 = () => {
    while (taken6.has(prefix6 + next6.toString(16))) next6++;
    const a = prefix6 + (next6++).toString(16);
    taken6.add(a);
    return a;
  };
  const builtin: CompiledHost = {
    name: BUILTIN_HOST,
    names: [...BUILTIN_HOST_NAMES],
    address: SERVER_ADDRESS,
    address6: ipv6 ? SERVER_ADDRESS6 : null,
  };
  return [
    builtin,
    resolverHost(s.dns, ipv6),
    ...entries.map(([name, h]) => ({
      name,
      names: h.names.map((n) => n.toLowerCase()),
      address: h.address ?? alloc4(),
      address6: ipv6 ? (h.address6 !== undefined ? canonical6(h.address6) : alloc6()) : null,
    })),
  ];
}

// ---- classes -----------------------------------------------------------------------

function ports(p: [number, number] | [number, number][] | undefined): PortRange[] | null {
  if (p === undefined) return null;
  // A single range is a 2-tuple of numbers; a list is a list of tuples.
  const list = typeof p[0] === 'number' ? [p as [number, number]] : (p as [number, number][]);
  return mergePortRanges(list);
}

function compilePayload(p: NonNullable<ScenarioMatcher['payload']>): CompiledPayload {
  const rule = (r: { offset: number; hex: string; mask?: string | undefined }) => ({
    offset: r.offset,
    hex: r.hex.toLowerCase(),
    mask: r.mask?.toLowerCase() ?? null,
  });
  const rules =
    p.bytes !== undefined
      ? p.bytes.map(rule)
      : p.offset !== undefined && p.hex !== undefined
        ? [rule({ offset: p.offset, hex: p.hex, mask: p.mask })]
        : [];
  return { rules, size_min_bytes: p.size?.min ?? null, size_max_bytes: p.size?.max ?? null };
}

function compileMatcher(m: ScenarioMatcher, hosts: Map<string, CompiledHost>): CompiledMatcher {
  const hostPrefixes =
    m.hosts === undefined
      ? null
      : many(m.hosts).flatMap((name) => {
          const h = hosts.get(name)!;
          return h.address6 === null
            ? [`${h.address}/32`]
            : [`${h.address}/32`, `${h.address6}/128`];
        });
  return {
    sni: m.sni === undefined ? null : many(m.sni).map((g) => g.toLowerCase()),
    hosts: hostPrefixes,
    cidr: m.cidr === undefined ? null : many(m.cidr),
    tcp_ports: ports(m['tcp-ports']),
    udp_ports: ports(m['udp-ports']),
    proto: m.proto === undefined ? null : many(m.proto),
    quic:
      m.quic === undefined
        ? null
        : m.quic === true
          ? { version: null, min_size_bytes: null }
          : { version: m.quic.version ?? null, min_size_bytes: m.quic['min-size'] ?? null },
    stun: m.stun === true,
    alpn: m.alpn === undefined ? null : many(m.alpn),
    ech: m.ech ?? null,
    ja4: m.ja4 === undefined ? null : many(m.ja4).map((g) => g.toLowerCase()),
    payload: m.payload === undefined ? null : compilePayload(m.payload),
    inspect_packets: m.inspect?.packets ?? DEFAULTS.inspectPackets,
    // QUIC Initials are put together by default (a ClientHello may span several).
    reassembly: m.inspect?.reassembly ?? (m.quic !== undefined ? 'segments' : DEFAULTS.reassembly),
    initiator: m.initiator ?? DEFAULTS.initiator,
  };
}

// ---- timeline and workloads ----------------------------------------------------------

/**
 * The timeline as the core and the resolver read it: `enable`, `disable` and `active`
 * hold policies only (the core's), `dns_active` the resolver rules the same entries
 * switch; a timeline names both alike.
 */
function compileTimeline(
  s: Scenario,
  policyNames: string[],
  ruleNames: string[],
): CompiledTimelineEntry[] {
  if (s.timeline === undefined) {
    return [
      {
        at_ns: 0,
        phase: DEFAULTS.phase,
        enable: [...policyNames],
        disable: [],
        active: [...policyNames],
        dns_active: [...ruleNames],
      },
    ];
  }
  const active = new Set<string>();
  const isPolicy = (n: string) => policyNames.includes(n);
  return s.timeline.map((e) => {
    const enable = many(e.enable);
    const disable = many(e.disable);
    for (const p of enable) active.add(p);
    for (const p of disable) active.delete(p);
    return {
      at_ns: e.at,
      phase: e.phase,
      enable: enable.filter(isPolicy),
      disable: disable.filter(isPolicy),
      active: policyNames.filter((p) => active.has(p)),
      dns_active: ruleNames.filter((r) => active.has(r)),
    };
  });
}

/**
 * A webrtc call's `turn` host, by its address and first DNS name (`turns:` URLs name it,
 * its certificate says it); validate has checked the host exists.
 */
function withTurnAddress(
  w: CompiledWorkload,
  hostByName: Map<string, CompiledHost>,
): CompiledWorkload {
  const at = (turn: string | null) => {
    const host = turn === null ? undefined : hostByName.get(turn);
    return { turn_address: host?.address ?? null, turn_server_name: host?.names[0] ?? null };
  };
  const transports = w.transports.map((t) => (t.turn === null ? t : { ...t, ...at(t.turn) }));
  if (w.turn === null || w.turn === undefined) return { ...w, transports };
  return { ...w, ...at(w.turn), transports };
}

function compileWorkload(
  w: ScenarioWorkload,
  host: CompiledHost,
  durationNs: number,
): CompiledWorkload {
  const { port, tls, defaults, keys } = protocolSettings(w.protocol, w);
  const own = { port: w.port ?? port, tls: w.tls ?? tls };
  return {
    name: w.name,
    host: host.name,
    server_name: host.names[0] ?? host.name,
    address: host.address,
    address6: host.address6,
    protocol: w.protocol,
    port: w.port ?? port,
    tls: w.tls ?? tls,
    interval_ns: w.rate !== undefined ? null : (w.every ?? defaults.interval_ns),
    rate_bps: w.rate ?? null,
    size_bytes: w.size ?? defaults.size_bytes,
    deadline_ns: w.deadline ?? defaults.deadline_ns,
    direction: w.direction ?? defaults.direction,
    connections: w.connections ?? 1,
    start_ns: w.start ?? 0,
    stop_ns: w.stop ?? durationNs,
    app: w.app ?? null,
    use: w.app === undefined ? null : (w.use ?? 'text'),
    ...compileSession(w, own),
    ...keys,
  };
}

/** `host` (or nothing): the lab's namespaces keep the host's default. */
function tcpCongestion(
  written: (typeof TCP_CONGESTION)[number] | undefined,
): CompiledNetwork['tcp_congestion'] {
  return written === undefined || written === 'host' ? null : written;
}

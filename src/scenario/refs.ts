/**
 * Checks across sections: names refer to things that exist, the timeline is in order
 * and inside the run. They read the raw data defensively, so they run even when other
 * parts of the file fail the schema: a user sees every problem in one pass.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { BUILTIN_HOST, DEFAULTS, SERVER_ADDRESS, SERVER_ADDRESS6 } from './defaults.js';
import { parseExpect, VIDEO_METRICS, VOICE_METRICS, VOICE_PROTOCOLS } from './expect.js';
import { portProblems } from './ports.js';
import { TURN_TRANSPORTS, turnPort } from './protocols/webrtc.js';
import type { KeyPath, UnlocatedProblem } from './errors.js';
import { didYouMean } from './suggest.js';
import { parseDuration } from './units.js';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const dict = (v: unknown): Dict => (isDict(v) ? v : {});
/** One name or a list of names, each with its own path. */
function names(v: unknown, path: KeyPath): [string, KeyPath][] {
  if (typeof v === 'string') return [[v, path]];
  return list(v).flatMap((n, i): [string, KeyPath][] =>
    typeof n === 'string' ? [[n, [...path, i]]] : [],
  );
}

/**
 * Scenario hosts live in the server namespace, so their addresses come from its half of
 * the lab's ranges; anything else does not exist inside the lab.
 */
const SERVER_RANGES = { address: '198.19.0.0/16', address6: 'fd71:6c61:6200:2::/64' };
const serverRanges = new BlockList();
serverRanges.addSubnet('198.19.0.0', 16, 'ipv4');
serverRanges.addSubnet('fd71:6c61:6200:2::', 64, 'ipv6');

function inServerRange(address: string, key: 'address' | 'address6'): boolean {
  // Not an address at all: the schema says so.
  if (key === 'address' ? !isIPv4(address) : !isIPv6(address)) return true;
  try {
    return serverRanges.check(address, key === 'address' ? 'ipv4' : 'ipv6');
  } catch {
    return true; // not an address at all: the schema says so
  }
}

export function checkReferences(raw: unknown): UnlocatedProblem[] {
  const top = dict(raw);
  const problems: UnlocatedProblem[] = [];
  const problem = (path: KeyPath, message: string, atKey = false) =>
    problems.push({ path, message, atKey });
  const unknown = (what: string, section: string, name: string, known: string[]) =>
    `${what} '${name}' is not defined in ${section}${didYouMean(name, known)}`;

  const hosts = dict(top.hosts);
  const classes = dict(top.classes);
  const policies = dict(top.policies);
  const hostNames = [BUILTIN_HOST, ...Object.keys(hosts)];
  const classNames = Object.keys(classes);
  const policyNames = Object.keys(policies);

  // Hosts: a DNS name resolves to one host; an address belongs to one host.
  if (BUILTIN_HOST in hosts) {
    problem(
      ['hosts', BUILTIN_HOST],
      `'${BUILTIN_HOST}' is the lab's built-in host (${SERVER_ADDRESS}); choose another name`,
      true,
    );
  }
  const dnsOwner = new Map<string, string>();
  const addressOwner = new Map<string, string>([
    [SERVER_ADDRESS, BUILTIN_HOST],
    [SERVER_ADDRESS6, BUILTIN_HOST],
  ]);
  for (const [host, spec] of Object.entries(hosts)) {
    list(dict(spec).names).forEach((n, i) => {
      if (typeof n !== 'string') return;
      const owner = dnsOwner.get(n.toLowerCase());
      if (owner !== undefined)
        problem(['hosts', host, 'names', i], `'${n}' is already a name of host '${owner}'`);
      else dnsOwner.set(n.toLowerCase(), host);
    });
    for (const key of ['address', 'address6'] as const) {
      const a = dict(spec)[key];
      if (typeof a !== 'string') continue;
      if (!inServerRange(a, key)) {
        problem(
          ['hosts', host, key],
          `address ${a} is outside the lab: scenario hosts live in the server namespace, ${SERVER_RANGES[key]}`,
        );
        continue;
      }
      const owner = addressOwner.get(a);
      if (owner !== undefined)
        problem(['hosts', host, key], `address ${a} is already taken by host '${owner}'`);
      else addressOwner.set(a, host);
    }
  }

  // Classes: `hosts` keys name hosts.
  for (const [cls, spec] of Object.entries(classes)) {
    const matchers: [unknown, KeyPath][] = Array.isArray(spec)
      ? spec.map((m, i) => [m, ['classes', cls, i]])
      : [[spec, ['classes', cls]]];
    for (const [m, path] of matchers) {
      for (const [h, p] of names(dict(m).hosts, [...path, 'hosts'])) {
        if (!hostNames.includes(h)) problem(p, unknown('host', 'hosts', h, hostNames));
      }
    }
  }

  // Policies: `match.class` names classes; `trigger` only comes first.
  for (const [pol, spec] of Object.entries(policies)) {
    for (const key of ['class', 'except']) {
      for (const [c, p] of names(dict(dict(spec).match)[key], ['policies', pol, 'match', key])) {
        if (!classNames.includes(c)) problem(p, unknown('class', 'classes', c, classNames));
      }
    }
    list(dict(spec).actions).forEach((a, i) => {
      if (i > 0 && isDict(a) && 'trigger' in a) {
        problem(
          ['policies', pol, 'actions', i, 'trigger'],
          'trigger must be the first action: it gates the actions after it',
          true,
        );
      }
    });
  }

  // Timeline: sorted, inside the run, naming real policies.
  const durationParsed = parseDuration(top.duration);
  const duration =
    top.duration === undefined
      ? DEFAULTS.durationNs
      : durationParsed.ok
        ? durationParsed.value
        : undefined;
  const phases = new Set<string>();
  let previous: { at: number; text: string } | undefined;
  list(top.timeline).forEach((entry, i) => {
    const e = dict(entry);
    if (typeof e.phase === 'string') phases.add(e.phase);
    const at = parseDuration(e.at);
    if (at.ok) {
      if (previous && at.value < previous.at) {
        problem(
          ['timeline', i, 'at'],
          `the timeline must be sorted by at: ${String(e.at)} comes after ${previous.text}`,
        );
      }
      if (duration !== undefined && at.value >= duration) {
        problem(
          ['timeline', i, 'at'],
          `${String(e.at)} is not inside the run's duration of ${durationText(top.duration)}`,
        );
      }
      previous = { at: at.value, text: String(e.at) };
    }
    for (const key of ['enable', 'disable']) {
      for (const [name, p] of names(e[key], ['timeline', i, key])) {
        if (!policyNames.includes(name))
          problem(p, unknown('policy', 'policies', name, policyNames));
      }
    }
  });
  if (top.timeline === undefined) phases.add(DEFAULTS.phase);

  // Workloads: unique names, real hosts, inside the run.
  const workloads = new Map<string, { protocol: unknown; video: unknown; index: number }>();
  list(top.workloads).forEach((w, i) => {
    const d = dict(w);
    if (typeof d.name === 'string') {
      const earlier = workloads.get(d.name);
      if (earlier !== undefined)
        problem(
          ['workloads', i, 'name'],
          `workload name '${d.name}' is already used by workloads[${earlier.index}]`,
        );
      else workloads.set(d.name, { protocol: d.protocol, video: d.video, index: i });
    }
    if (typeof d.host === 'string' && !hostNames.includes(d.host)) {
      problem(['workloads', i, 'host'], unknown('host', 'hosts', d.host, hostNames));
    }
    for (const key of ['start', 'stop']) {
      const t = parseDuration(d[key]);
      if (t.ok && duration !== undefined && t.value > duration) {
        problem(
          ['workloads', i, key],
          `${String(d[key])} is not inside the run's duration of ${durationText(top.duration)}`,
        );
      }
    }
  });

  // Capture: its classes and workloads exist.
  const capture = dict(top.capture);
  for (const [c, p] of names(capture.classes, ['capture', 'classes'])) {
    if (!classNames.includes(c)) problem(p, unknown('class', 'classes', c, classNames));
  }
  for (const [w, p] of names(capture.workloads, ['capture', 'workloads'])) {
    if (!workloads.has(w)) problem(p, unknown('workload', 'workloads', w, [...workloads.keys()]));
  }

  // Ports: what one host's port serves must be servable together.
  const portUsers = list(top.workloads).flatMap((w, index) => {
    const d = dict(w);
    const ok = typeof d.name === 'string' && typeof d.host === 'string';
    return ok && typeof d.protocol === 'string'
      ? [
          {
            index,
            name: d.name as string,
            host: d.host as string,
            protocol: d.protocol,
            port: d.port,
            tls: d.tls,
          },
        ]
      : [];
  });
  // A webrtc call's TURN server holds a port of its host: UDP as udp-voice does, or TCP
  // (plain or TLS) as a workload that owns its connections does.
  const turnUsers = list(top.workloads).flatMap((w, index) => {
    const d = dict(w);
    if (d.protocol !== 'webrtc' || typeof d.name !== 'string') return [];
    if (typeof d.turn !== 'string') {
      for (const key of ['turn_port', 'turn_transport']) {
        if (d[key] !== undefined) problem(['workloads', index, key], `${key} needs turn: <host>`);
      }
      return [];
    }
    if (!hostNames.includes(d.turn)) {
      problem(['workloads', index, 'turn'], unknown('host', 'hosts', d.turn, hostNames));
      return [];
    }
    const transport = TURN_TRANSPORTS.find((t) => t === d.turn_transport) ?? 'udp';
    if (transport === 'tls' && list(dict(hosts[d.turn]).names).length === 0) {
      problem(
        ['workloads', index, 'turn_transport'],
        `turn_transport tls needs a DNS name of host '${d.turn}' (its certificate and the turns: URL name it); give it names`,
      );
    }
    const port = typeof d.turn_port === 'number' ? d.turn_port : turnPort(transport);
    const claims = [
      {
        transport: transport === 'udp' ? ('udp' as const) : ('tcp' as const),
        port,
        tls: transport === 'tls',
        service: 'turn',
      },
    ];
    return [{ index, name: d.name, host: d.turn, protocol: 'webrtc', port, claims }];
  });
  for (const p of portProblems([...portUsers, ...turnUsers])) {
    problem(['workloads', p.index], p.message);
  }

  // Expectations: a real workload, a metric it measures, a phase of the timeline.
  list(top.expect).forEach((line, i) => {
    const parsed = parseExpect(line);
    if (!parsed.ok) return; // the schema reports the syntax
    const x = parsed.value;
    const w = workloads.get(x.workload);
    if (w === undefined) {
      problem(['expect', i], unknown('workload', 'workloads', x.workload, [...workloads.keys()]));
    } else if (VOICE_METRICS.has(x.metric) && !VOICE_PROTOCOLS.has(String(w.protocol))) {
      problem(
        ['expect', i],
        `metric '${x.metric}' is measured only for udp-voice and webrtc workloads; '${x.workload}' is ${String(w.protocol)}`,
      );
    } else if (VIDEO_METRICS.has(x.metric) && !(w.protocol === 'webrtc' && w.video === true)) {
      problem(
        ['expect', i],
        `metric '${x.metric}' is measured only for webrtc workloads with video: true; '${x.workload}' ${w.protocol === 'webrtc' ? 'sends no video' : `is ${String(w.protocol)}`}`,
      );
    }
    if (x.phase !== null && !phases.has(x.phase)) {
      const where =
        top.timeline === undefined
          ? `(no timeline: the only phase is '${DEFAULTS.phase}')`
          : 'the timeline';
      problem(['expect', i], `phase '${x.phase}' is not in ${where}${didYouMean(x.phase, phases)}`);
    }
  });

  return problems;
}

function durationText(d: unknown): string {
  return typeof d === 'string' ? d : '60s (the default)';
}

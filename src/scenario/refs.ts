/**
 * Checks across sections: names refer to things that exist, the timeline is in order
 * and inside the run. They read the raw data defensively, so they run even when other
 * parts of the file fail the schema: a user sees every problem in one pass.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { BUILTIN_HOST, DEFAULTS, SERVER_ADDRESS, SERVER_ADDRESS6 } from './defaults.js';
import { appUseProblem } from './apps/index.js';
import { RESOLVER_ADDRESS, RESOLVER_ADDRESS6, RESOLVER_HOST } from './dns-names.js';
import {
  CONNECTION_METRICS,
  parseExpect,
  SESSION_METRICS,
  VIDEO_METRICS,
  VOICE_METRICS,
} from './expect.js';
import { portProblems, type RawWorkload } from './ports.js';
import {
  canMeasureVideo,
  measuresVideo,
  measuresVoice,
  protocolsWhere,
  sessionKind,
  traitsOf,
  type ProtocolName,
} from './protocols/index.js';
import type { ReferenceView } from './protocols/protocol.js';
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

/** What every check reads, and where each reports. */
interface Context {
  top: Dict;
  hosts: Dict;
  hostNames: string[];
  problem(path: KeyPath, message: string, atKey?: boolean): void;
  unknown(what: string, section: string, name: string, known: string[]): string;
}

/** A workload as far as the expectations need it: its protocol and keys, as written. */
interface WrittenWorkload {
  protocol: unknown;
  video: unknown;
  index: number;
  raw: Dict;
}

export function checkReferences(raw: unknown): UnlocatedProblem[] {
  const top = dict(raw);
  const problems: UnlocatedProblem[] = [];
  const hosts = dict(top.hosts);
  const cx: Context = {
    top,
    hosts,
    hostNames: [BUILTIN_HOST, RESOLVER_HOST, ...Object.keys(hosts)],
    problem: (path, message, atKey = false) => problems.push({ path, message, atKey }),
    unknown: (what, section, name, known) =>
      `${what} '${name}' is not defined in ${section}${didYouMean(name, known)}`,
  };
  const dnsOwner = checkHosts(cx);
  checkDns(cx, dnsOwner);
  checkClasses(cx);
  checkPolicies(cx);
  const { duration, phases } = checkTimeline(cx);
  const workloads = checkWorkloads(cx, duration);
  checkPorts(cx);
  checkCapture(cx, workloads);
  checkExpectations(cx, workloads, phases);
  return problems;
}

/**
 * Hosts: a DNS name resolves to one host; an address belongs to one host. Returns each
 * name's host (the resolver's names included).
 */
function checkHosts({ top, hosts, problem }: Context): Map<string, string> {
  for (const [builtin, address] of [
    [BUILTIN_HOST, SERVER_ADDRESS],
    [RESOLVER_HOST, RESOLVER_ADDRESS],
  ] as const) {
    if (builtin in hosts) {
      problem(
        ['hosts', builtin],
        `'${builtin}' is the lab's built-in host (${address}); choose another name`,
        true,
      );
    }
  }
  const dnsOwner = new Map<string, string>();
  list(dict(dict(top.dns).resolver).names).forEach((n) => {
    if (typeof n === 'string') dnsOwner.set(n.toLowerCase(), RESOLVER_HOST);
  });
  const addressOwner = new Map<string, string>([
    [SERVER_ADDRESS, BUILTIN_HOST],
    [SERVER_ADDRESS6, BUILTIN_HOST],
    [RESOLVER_ADDRESS, RESOLVER_HOST],
    [RESOLVER_ADDRESS6, RESOLVER_HOST],
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
  return dnsOwner;
}

/**
 * DNS: resolver rules share the timeline's names with policies; addresses given by host
 * name real hosts; a record may not give a host's name other addresses.
 */
function checkDns({ top, hostNames, problem, unknown }: Context, dnsOwner: Map<string, string>) {
  const dns = dict(top.dns);
  const rules = dict(dns.rules);
  const records = dict(dns.records);
  const policyNames = Object.keys(dict(top.policies));
  for (const rule of Object.keys(rules)) {
    if (policyNames.includes(rule)) {
      problem(
        ['dns', 'rules', rule],
        `'${rule}' is also a policy: the timeline could not tell them apart`,
        true,
      );
    }
  }
  const hostRefs: [unknown, KeyPath][] = [
    ...Object.entries(rules).map(([r, spec]): [unknown, KeyPath] => [
      dict(dict(spec).answer).host,
      ['dns', 'rules', r, 'answer', 'host'],
    ]),
    ...Object.entries(records).map(([n, spec]): [unknown, KeyPath] => [
      dict(spec).host,
      ['dns', 'records', n, 'host'],
    ]),
  ];
  for (const [h, path] of hostRefs) {
    if (typeof h === 'string' && !hostNames.includes(h)) {
      problem(path, unknown('host', 'hosts', h, hostNames));
    }
  }
  for (const [n, spec] of Object.entries(records)) {
    const owner = dnsOwner.get(n.toLowerCase());
    const r = dict(spec);
    if (
      owner !== undefined &&
      (r.a !== undefined || r.aaaa !== undefined || r.host !== undefined)
    ) {
      problem(
        ['dns', 'records', n],
        `'${n}' is a name of host '${owner}', which gives its addresses; a record may add only https`,
        true,
      );
    }
  }
}

/** Classes: `hosts` keys name hosts. */
function checkClasses({ top, hostNames, problem, unknown }: Context): void {
  for (const [cls, spec] of Object.entries(dict(top.classes))) {
    const matchers: [unknown, KeyPath][] = Array.isArray(spec)
      ? spec.map((m, i) => [m, ['classes', cls, i]])
      : [[spec, ['classes', cls]]];
    for (const [m, path] of matchers) {
      for (const [h, p] of names(dict(m).hosts, [...path, 'hosts'])) {
        if (!hostNames.includes(h)) problem(p, unknown('host', 'hosts', h, hostNames));
      }
    }
  }
}

/** Policies: `match.class` names classes; `trigger` only comes first. */
function checkPolicies({ top, problem, unknown }: Context): void {
  const classNames = Object.keys(dict(top.classes));
  for (const [pol, spec] of Object.entries(dict(top.policies))) {
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
}

/**
 * Timeline: sorted, inside the run, naming real policies. Returns the run's duration
 * (undefined when it does not parse) and the phases the timeline names.
 */
function checkTimeline({ top, problem, unknown }: Context): {
  duration: number | undefined;
  phases: Set<string>;
} {
  const policyNames = Object.keys(dict(top.policies));
  const ruleNames = Object.keys(dict(dict(top.dns).rules));
  const durationParsed = parseDuration(top.duration);
  const duration =
    top.duration === undefined
      ? DEFAULTS.durationNs
      : durationParsed.ok
        ? durationParsed.value
        : undefined;
  const phases = new Set<string>();
  let previous: { at: number; text: string; phase: unknown } | undefined;
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
      } else if (previous && at.value === previous.at) {
        // The earlier entry's phase would last no time at all: its expectations could never
        // be judged, and a run that did pass through it would call it "not reached".
        problem(
          ['timeline', i, 'at'],
          `${String(e.at)} is the instant of the entry before it (phase '${String(previous.phase)}'), which would last no time: give each phase an instant of its own, or merge the two entries`,
        );
      }
      if (duration !== undefined && at.value >= duration) {
        problem(
          ['timeline', i, 'at'],
          `${String(e.at)} is not inside the run's duration of ${durationText(top.duration)}`,
        );
      }
      previous = { at: at.value, text: String(e.at), phase: e.phase };
    }
    for (const key of ['enable', 'disable']) {
      for (const [name, p] of names(e[key], ['timeline', i, key])) {
        if (policyNames.includes(name) || ruleNames.includes(name)) continue;
        problem(
          p,
          ruleNames.length === 0
            ? unknown('policy', 'policies', name, policyNames)
            : unknown('policy or dns rule', 'policies or dns.rules', name, [
                ...policyNames,
                ...ruleNames,
              ]),
        );
      }
    }
  });
  if (top.timeline === undefined) phases.add(DEFAULTS.phase);
  return { duration, phases };
}

/** Workloads: unique names, real hosts, inside the run. Returns them by name. */
function checkWorkloads(
  { top, hostNames, problem, unknown }: Context,
  duration: number | undefined,
): Map<string, WrittenWorkload> {
  const workloads = new Map<string, WrittenWorkload>();
  list(top.workloads).forEach((w, i) => {
    const d = dict(w);
    if (typeof d.name === 'string') {
      const earlier = workloads.get(d.name);
      if (earlier !== undefined)
        problem(
          ['workloads', i, 'name'],
          `workload name '${d.name}' is already used by workloads[${earlier.index}]`,
        );
      else workloads.set(d.name, { protocol: d.protocol, video: d.video, index: i, raw: d });
    }
    const noUse = appUseProblem(d.app, d.use);
    if (noUse !== undefined) problem(['workloads', i, 'use'], noUse);
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
  return workloads;
}

/** Capture: the classes and workloads it keeps exist. */
function checkCapture(
  { top, problem, unknown }: Context,
  workloads: Map<string, WrittenWorkload>,
): void {
  const classNames = Object.keys(dict(top.classes));
  const capture = dict(top.capture);
  for (const [c, p] of names(capture.classes, ['capture', 'classes'])) {
    if (!classNames.includes(c)) problem(p, unknown('class', 'classes', c, classNames));
  }
  for (const [w, p] of names(capture.workloads, ['capture', 'workloads'])) {
    if (!workloads.has(w)) problem(p, unknown('workload', 'workloads', w, [...workloads.keys()]));
  }
}

/**
 * Ports: what one host's port serves must be servable together, the protocol's own ports
 * and those its keys claim on other hosts (a webrtc call's TURN server), whose references
 * its row checks.
 */
function checkPorts({ top, hosts, hostNames, problem, unknown }: Context): void {
  const view: ReferenceView = {
    hostNames,
    dnsNames: (host) => list(dict(hosts[host]).names),
    unknownHost: (name) => unknown('host', 'hosts', name, hostNames),
  };
  const written = list(top.workloads).flatMap((w, index) => {
    const d = dict(w);
    return typeof d.name === 'string' && typeof d.protocol === 'string'
      ? [{ index, d, name: d.name, protocol: d.protocol }]
      : [];
  });
  // A message workload's own port and each of its fallback chain's.
  const own = written.flatMap(({ index, d, name, protocol }): RawWorkload[] => {
    if (typeof d.host !== 'string') return [];
    const host = d.host;
    const chain = hasSession(protocol, d, 'messages') ? list(d.fallback).filter(isDict) : [];
    return [d, ...chain].map((step) => {
      const same = step === d || step.protocol === undefined;
      return {
        index,
        name,
        host,
        protocol: typeof step.protocol === 'string' ? step.protocol : protocol,
        port: step.port ?? (same ? d.port : undefined),
        tls: step.tls ?? (same ? d.tls : undefined),
      };
    });
  });
  // Claims on other hosts come after every workload's own: the later claim is the one
  // told of a conflict, and a host's own workloads keep the port they name.
  const other = written.flatMap(({ index, d, name, protocol }): RawWorkload[] => {
    const refs = traitsOf(protocol)?.references?.(d, view);
    for (const p of refs?.problems ?? []) problem(['workloads', index, p.key], p.message);
    return (refs?.claims ?? []).map((c) => ({
      index,
      name,
      host: c.host,
      protocol,
      claims: c.claims,
    }));
  });
  const users = [...own, ...other];
  for (const p of portProblems(users)) problem(['workloads', p.index], p.message);
}

/** Expectations: a real workload, a metric it measures, a phase of the timeline. */
function checkExpectations(
  { top, problem, unknown }: Context,
  workloads: Map<string, WrittenWorkload>,
  phases: Set<string>,
): void {
  list(top.expect).forEach((line, i) => {
    const parsed = parseExpect(line);
    if (!parsed.ok) return; // the schema reports the syntax
    const x = parsed.value;
    const w = workloads.get(x.workload);
    if (w === undefined) {
      problem(['expect', i], unknown('workload', 'workloads', x.workload, [...workloads.keys()]));
    } else {
      const why = unmeasured(x.metric, x.workload, w);
      if (why !== undefined) problem(['expect', i], why);
    }
    if (x.phase !== null && !phases.has(x.phase)) {
      const where =
        top.timeline === undefined
          ? `(no timeline: the only phase is '${DEFAULTS.phase}')`
          : 'the timeline';
      problem(['expect', i], `phase '${x.phase}' is not in ${where}${didYouMean(x.phase, phases)}`);
    }
  });
}

/** Why a workload does not measure a metric, from its protocol's traits; undefined if it does. */
function unmeasured(metric: string, name: string, w: WrittenWorkload): string | undefined {
  const protocol = String(w.protocol);
  if (SESSION_METRICS.has(metric) && !hasSession(protocol, w.raw)) {
    const kept = protocolsWhere((p) => sessionKind(p, {}) !== undefined).join(', ');
    return `metric '${metric}' is measured only for workloads that keep a connection or place calls (${kept}); '${name}' is ${protocol}`;
  }
  if (metric === 'failed' && w.raw.outbox === false) {
    return `metric 'failed' counts messages the outbox gave up; '${name}' has outbox: false`;
  }
  if (VOICE_METRICS.has(metric) && !measuresVoice(protocol)) {
    const voice = protocolsWhere(measuresVoice).join(' and ');
    return `metric '${metric}' is measured only for ${voice} workloads; '${name}' is ${protocol}`;
  }
  if (VIDEO_METRICS.has(metric) && !measuresVideo(protocol, w)) {
    const video = protocolsWhere(canMeasureVideo).join(' and ');
    const what = canMeasureVideo(protocol) ? 'sends no video' : `is ${protocol}`;
    return `metric '${metric}' is measured only for ${video} workloads with video: true; '${name}' ${what}`;
  }
  if (CONNECTION_METRICS.has(metric) && traitsOf(protocol)?.connects === false) {
    const open = protocolsWhere((p) => traitsOf(p)!.connects).join(', ');
    return `metric '${metric}' is measured from connections (${open}); '${name}' is ${protocol}, which opens none`;
  }
  return undefined;
}

/** Whether a workload as written keeps a connection or places calls (of `kind`, when given). */
function hasSession(protocol: unknown, raw: Dict, kind?: 'messages' | 'call'): boolean {
  if (typeof protocol !== 'string' || traitsOf(protocol) === undefined) return false;
  const has = sessionKind(protocol as ProtocolName, raw);
  return kind === undefined ? has !== undefined : has === kind;
}

function durationText(d: unknown): string {
  return typeof d === 'string' ? d : '60s (the default)';
}

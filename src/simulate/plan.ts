/**
 * What the twin runs for a compiled scenario: each workload's application as the lab's
 * agents would run it, from its protocol's traits (its traffic shape, its transport, what
 * its stacks put on the wire), the lab's TCP congestion control, and the lab's own path.
 * The format is the core's (`SimulationPlan` in src/native/index.ts).
 */
import { CLIENT } from '../addresses.js';
import type { PlanWorkload, SimulationPlan } from '../native/index.js';
import { drainNs } from '../run/drain.js';
import { intervalNs } from '../scenario/budget.js';
import type { CompiledConfig, CompiledWorkload } from '../scenario/compiled.js';
import { PROTOCOLS, chromiumUse, leftOutOfTwin, wireOf } from '../scenario/protocols/index.js';

export type TcpCongestionControl = 'cubic' | 'bbr';

/**
 * The lab's own path: the TUNs, the proxy's thread and the kernels add about 40 µs each
 * way (ping's median RTT through an unshaped lab is 0.10 ms, README), and a flow nothing
 * shapes moves at what the proxy and the agents keep up with: 2 Gbit/s stands for the
 * 1-4 Gbit/s one bulk transfer reached in the lab runs of test/simulate/agreement/, which
 * depends on the machine and its load (what each protocol's stacks add per message is
 * its row's `wire.stackNs`).
 */
export const LAB_DELAY_NS = 40_000;
export const LAB_RATE_BPS = 2e9;

/** Bytes TLS adds to each record it sends (header 5, AEAD tag 16, content type 1). */
export const TLS_RECORD_BYTES = 22;

const KIND = { messages: 'messages', window: 'transfers', frames: 'frames', rtp: 'rtp' } as const;

/** Byte counts of the stack with TLS's own added to each record that is sent at all. */
const withTls = (tls: boolean, pair: readonly [number, number]): [number, number] => {
  const rec = (n: number) => (tls && n > 0 ? n + TLS_RECORD_BYTES : n);
  return [rec(pair[0]), rec(pair[1])];
};

/** `address:port`, IPv6 in brackets. */
const hostPort = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

function planWorkload(config: CompiledConfig, w: CompiledWorkload): PlanWorkload {
  const p = PROTOCOLS[w.protocol];
  const wire = wireOf(w);
  const tls = w.tls && p.transport !== 'udp';
  return {
    name: w.name,
    kind: KIND[p.traffic],
    transport: p.transport,
    client: CLIENT.v4,
    server: hostPort(w.address, w.port),
    start_ns: w.start_ns,
    stop_ns: Math.min(w.stop_ns, config.duration_ns),
    interval_ns: Math.max(1, Math.round(w.frame_ns ?? intervalNs(w))),
    size_bytes: w.size_bytes,
    up: w.direction !== 'down',
    down: w.direction !== 'up',
    connections: w.connections,
    deadline_ns: w.deadline_ns,
    tls: tls ? { sni: w.server_name, alpn: [...wire.alpn] } : null,
    plain: tls ? null : wire.plain,
    opening: wire.opening.map((o) => withTls(tls, o)),
    framing: withTls(tls, wire.framing),
    reply: withTls(tls, wire.reply),
    split_hello: wire.splitHello === true && chromiumUse(w) === 'quic',
    stack_ns: wire.stackNs,
    relay:
      wire.relay === undefined || wire.relay === null
        ? null
        : {
            server: hostPort(wire.relay.address, wire.relay.port),
            transport: wire.relay.transport,
            tls_sni: wire.relay.tls_sni,
          },
  };
}

export function planFor(config: CompiledConfig, tcp: TcpCongestionControl): SimulationPlan {
  return {
    until_ns: config.duration_ns + drainNs(config),
    tcp,
    lab_delay_ns: LAB_DELAY_NS,
    lab_rate_bps: LAB_RATE_BPS,
    // The twin has no resolver and knows no program's traffic: lookup and command
    // workloads are left out (unmodelled.ts says so).
    workloads: config.workloads
      .filter((w) => !leftOutOfTwin(w))
      .map((w) => planWorkload(config, w)),
  };
}

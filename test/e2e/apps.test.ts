/**
 * Bring your own app: real servers and clients nobody here wrote (Debian's mosquitto and
 * its clients, Caddy and curl, prosody and a slixmpp client) run as `command` workloads,
 * and what the core measures passively of their flows is held against what the programs
 * themselves report: the clients' own timestamps against the flows' RTT, curl's TLS time
 * against the flows' ClientHello → first application data, the policer's delivered rate
 * against the flows' goodput, the chat client's reconnects against the flows' stalls.
 * One lab run each, seconds long.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlowEndLine, FlowLine, FlowSampleLine } from '../../src/record/flows.js';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { readSummary, tmpOut } from '../run/helpers.js';

const fixture = (name: string) => new URL(`./fixtures/${name}.yaml`, import.meta.url).pathname;
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const slixmpp = spawnSync('/usr/bin/python3', ['-c', 'import slixmpp']).status === 0;

function ndjson<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** The packets of a capture that a display filter keeps, a line each. */
function tshark(pcap: string, filter: string, extra: string[] = []): string[] {
  const r = spawnSync('tshark', ['-r', pcap, '-Y', filter, ...extra], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

const flowLines = (out: string) => ndjson<FlowLine>(join(out, 'flows.ndjson'));
const ends = (out: string) => flowLines(out).filter((l): l is FlowEndLine => l.ev === 'flow');
const phase = (s: RunSummary, name: string) => s.phases.find((p) => p.name === name)!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.skipIf(!isRoot || !has('mosquitto') || !has('mosquitto_pub'))('mosquitto over TLS', () => {
  it('under an SNI policer: flow goodput is the delivered rate, flow RTT the clients own latency', async () => {
    const out = tmpOut();
    const r = await qoslab(
      ['run', fixture('app-mqtt'), '--out', out, '--allow-commands', '--pcap'],
      90_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    const open = phase(s, 'open');
    const throttled = phase(s, 'throttled');
    const flows = ends(out).filter((f) => f.workload === 'mq');
    // The publisher's flow is the one that sends the most.
    const pub = flows.reduce((a, b) => (b.up.goodput_bytes > a.up.goodput_bytes ? b : a));
    const samples = flowLines(out).filter(
      (l): l is FlowSampleLine => l.ev === 'sample' && l.id === pub.id,
    );
    const mid = (l: FlowSampleLine) => (l.from + l.t) / 2;
    const inside = (l: FlowSampleLine, p: { start: number; end: number }) =>
      mid(l) >= p.start && mid(l) < p.end;

    // 1. While paced (open phase): each message's latency from publisher to subscriber, as
    // the clients stamp it (up 20 ms, down 20 ms), against the RTT of the publisher's
    // flow (its PUBLISH in, the broker's PUBACK out toward it), as the core measures it.
    const client = ndjson<{ ev: string; sent: number; t: number; paced: boolean }>(
      join(out, 'commands/mq/client.stdout'),
    );
    const paced = client.filter((e) => e.ev === 'recv' && e.paced).map((e) => e.t - e.sent);
    expect(paced.length).toBeGreaterThan(25);
    const openSamples = samples.filter((l) => inside(l, open));
    const rttN = openSamples.reduce((n, l) => n + l.up.rtt_n, 0);
    const rtt = openSamples.reduce((n, l) => n + l.up.rtt_sum_ns, 0) / rttN;
    const why = `client latency p50 ${median(paced) / 1e6} ms, flow RTT ${rtt / 1e6} ms over ${rttN} samples`;
    expect(rttN, why).toBeGreaterThan(10);
    expect(rtt, why).toBeGreaterThan(40e6);
    expect(Math.abs(median(paced) - rtt), why).toBeLessThan(Math.max(0.15 * rtt, 5e6));

    // 2. Flooding under the policer: the publisher flow's goodput against what the policer
    // let through upward (the uplink stage's IP bytes, every flow), over the same window.
    const datapath = ndjson<{ t: number; shaping: { links: { uplink: { bytes: number } } } }>(
      join(out, 'datapath.ndjson'),
    ).filter((d) => d.t > throttled.start + 0.5e9 && d.t <= Math.min(throttled.end, s.observed_ns));
    const first = datapath[0]!;
    const last = datapath.at(-1)!;
    const delivered =
      ((last.shaping.links.uplink.bytes - first.shaping.links.uplink.bytes) * 8e9) /
      (last.t - first.t);
    const window = samples.filter((l) => mid(l) > first.t && mid(l) <= last.t);
    const goodput = (window.reduce((n, l) => n + l.up.goodput_bytes, 0) * 8e9) / (last.t - first.t);
    const why2 = `goodput ${goodput / 1e3} kbit/s, the policer delivered ${delivered / 1e3} kbit/s`;
    expect(delivered, why2).toBeGreaterThan(0.6e6);
    expect(delivered, why2).toBeLessThan(1.15e6);
    expect(Math.abs(goodput - delivered) / delivered, why2).toBeLessThan(0.15);
    // The summary says the same per phase, and the lab's drops are the policer's.
    const scope = s
      .flows!.workloads.find((w) => w.name === 'mq')!
      .scopes.find((x) => x.phase === 'throttled')!;
    expect(scope.drops.police, JSON.stringify(scope)).toBeGreaterThan(0);
    const whole = s.flows!.workloads.find((w) => w.name === 'mq')!.scopes.at(-1)!;
    expect(whole.tls_handshake.count, JSON.stringify(whole)).toBe(2); // subscriber, publisher

    // 3. The capture: tshark finds both ClientHellos with the broker's name entering the
    // lab (a snap length shorter than the hello, 316 bytes here, hides it from tshark),
    // and the policer's drops commented as such, as many as the run counted.
    const pcap = join(out, 'capture.pcapng');
    const hellos = tshark(
      pcap,
      'frame.interface_name == "up-in" && tls.handshake.extensions_server_name == "mq.example.lab"',
    );
    expect(hellos).toHaveLength(2);
    const dropped = tshark(pcap, 'frame.comment contains "police (up)"');
    const policed = s.flows!.workloads.find((w) => w.name === 'mq')!.scopes.at(-1)!.drops.police;
    expect(dropped.length, `${policed} policed`).toBe(policed);
    // The publisher's retransmissions: segments entering the lab below the highest
    // sequence it had sent, counted from the capture, are the flow's.
    let highest = -1;
    let resent = 0;
    let resentBytes = 0;
    for (const line of tshark(
      pcap,
      `frame.interface_name == "up-in" && tcp.srcport == ${pub.client_port} && tcp.len > 0`,
      ['-T', 'fields', '-e', 'tcp.seq', '-e', 'tcp.len'],
    )) {
      const [seq, len] = line.split('\t').map(Number) as [number, number];
      if (highest >= 0 && seq < highest) {
        resent++;
        resentBytes += len;
      }
      highest = Math.max(highest, seq + len);
    }
    expect(resent).toBeGreaterThan(10);
    expect({ packets: resent, bytes: resentBytes }).toEqual({
      packets: pub.up.retransmits,
      bytes: pub.up.retransmit_bytes,
    });
  }, 120_000);
});

describe.skipIf(!isRoot || !has('caddy') || !has('curl'))('curl over HTTP/2 to Caddy', () => {
  it("the flows' TLS handshake is curl's time_appconnect - time_connect, within 10 %", async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('app-caddy'), '--out', out, '--allow-commands'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const curl = readFileSync(join(out, 'commands/web/client.stdout'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(curl).toHaveLength(5);
    expect(curl.every((c) => c[2] === '2')).toBe(true);
    const flows = ends(out)
      .filter((f) => f.workload === 'web')
      .sort((a, b) => a.first_ns - b.first_ns);
    expect(flows).toHaveLength(5);
    const offBy = flows.map((f, i) => {
      const own = (Number(curl[i]![1]) - Number(curl[i]![0])) * 1e9;
      const measured = f.tls!.app_data_ns! - f.tls!.client_hello_ns;
      const why = `connection ${i}: curl ${own / 1e6} ms, flow ${measured / 1e6} ms`;
      // TLS 1.3 over 30 ms each way: one round trip and Caddy's work.
      expect(measured, why).toBeGreaterThan(60e6);
      // And the TCP handshake before it: one round trip.
      expect(f.tcp!.handshake_ns!, why).toBeGreaterThan(60e6);
      expect(f.tcp!.handshake_ns!, why).toBeLessThan(80e6);
      return { off: Math.abs(measured - own) / own, why };
    });
    // curl's time also holds its own crypto (the key share before the hello, the
    // certificate check after), which a busy machine stretches for one connection now
    // and then (71.5 against 63.7 ms once, beside other builds): the median connection
    // agrees within 10 %, each within 25 %.
    const all = offBy.map((o) => o.why).join('; ');
    expect(median(offBy.map((o) => o.off)), all).toBeLessThan(0.1);
    for (const o of offBy) expect(o.off, o.why).toBeLessThan(0.25);
    const web = readSummary(out)
      .flows!.workloads.find((w) => w.name === 'web')!
      .scopes.at(-1)!;
    expect(web.tls_handshake.count).toBe(5);
  }, 90_000);
});

describe.skipIf(!isRoot || !has('prosody') || !slixmpp)('prosody and a slixmpp client', () => {
  it('under a 16 KB freeze: the flows stall, the client reconnects, no RST', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('app-xmpp'), '--out', out, '--allow-commands'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    const chat = s.flows!.workloads.find((w) => w.name === 'chat')!;
    const open = chat.scopes.find((x) => x.phase === 'open')!;
    const frozen = chat.scopes.find((x) => x.phase === 'frozen')!;
    const client = ndjson<{ ev: string; reconnects?: number; received?: number; sent?: number }>(
      join(out, 'commands/chat/client.stdout'),
    );
    const summary = client.find((e) => e.ev === 'summary')!;
    const why = JSON.stringify({ open, frozen, summary });
    // Open: one connection, logged in over STARTTLS (timed from its ClientHello), nothing stalls.
    expect(open.opened, why).toBe(1);
    expect(open.tls_handshake.count, why).toBe(1);
    expect(open.stalls, why).toBe(0);
    // Frozen: each connection stops after 16 KB from the server; the client notices by its
    // keepalive and connects again, and the core sees the stalls and the new flows.
    expect(frozen.stalls, why).toBeGreaterThanOrEqual(1);
    expect(frozen.opened, why).toBeGreaterThanOrEqual(2);
    expect(summary.reconnects!, why).toBeGreaterThanOrEqual(1);
    expect(frozen.opened, why).toBeLessThanOrEqual(summary.reconnects! + 1);
    expect(frozen.drops['drop-after'], why).toBeGreaterThan(0);
    // The freeze sends no RST (the client's own closes may).
    expect(frozen.resets.lab, why).toBe(0);
    expect(summary.received!, why).toBeLessThan(summary.sent!);
  }, 120_000);
});

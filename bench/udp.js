// UDP through the lab against the kernel's veth path, in one run: datagrams/s delivered
// at 100 B and 1200 B (iperf3 -u -b 0, so the sender overloads whichever path it is on),
// unimpaired and through a 20 ms delay line; then a 20 ms + 1 Gbit/s link with TCP and
// with UDP offered at 1 Gbit/s. Every datagram the receiver did not get is accounted for
// by where it was lost: the client TUN's queue (the kernel drops when the core does not
// read fast enough), the core's own drop counters, and the receiving socket's buffer.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { iperf, iperfUdp, median } from './measure.js';
import { compiled } from './scenario.js';
import { openLab, openVeth } from './paths.js';

const run = promisify(execFile);

export const SIZES = [100, 1200];

/** Row groups `--udp-rows` picks from (bench/run.js lists the same names). */
const ROWS = ['unimpaired', 'delay', 'delay-rate'];

/**
 * A 20 ms each way, 1 Gbit/s path has a 5 MB bandwidth-delay product, more than a new
 * namespace lets one TCP socket keep in flight (net.ipv4.tcp_wmem max 4 MB): with the
 * defaults iperf3 reads ~0.4 Gbit/s whatever the path (the core's thread was idle most of
 * the time), with 32 MB ~0.9-0.95. The row measures the lab, not the default window, so
 * both namespaces get room for the BDP.
 */
const TCP_BUFFERS = '4096 131072 33554432';
async function roomForBdp(path) {
  for (const ns of [path.clientNs, path.serverNs]) {
    for (const key of ['net.ipv4.tcp_wmem', 'net.ipv4.tcp_rmem']) {
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${TCP_BUFFERS}`]);
    }
  }
}

/** `ip -s` counters of `dev` in `ns`. */
async function linkStats(ns, dev) {
  const { stdout } = await run('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]);
  return JSON.parse(stdout)[0].stats64;
}

/** Udp RcvbufErrors of the namespace (datagrams the receiving socket had no room for). */
async function rcvbufErrors(ns) {
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']);
  const lines = stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/).map(Number);
  return values[names.indexOf('RcvbufErrors')];
}

/** Drops by reason over one measurement, from counters read before and after. */
async function snapshot(path) {
  const tun = path.clientTun ? await linkStats(path.clientNs, path.clientTun) : undefined;
  const c = path.counters?.();
  const shapingDrops = c?.shaping
    ? Object.values(c.shaping.drops ?? {}).reduce((a, b) => a + b, 0)
    : 0;
  return {
    tunQueue: tun ? tun.tx.dropped : 0,
    core: c ? Object.values(c.up.drops).reduce((a, b) => a + b, 0) + shapingDrops : 0,
    socket: await rcvbufErrors(path.serverNs),
  };
}

async function measure(path, opts) {
  const before = await snapshot(path);
  const r = await iperfUdp(path, opts);
  const after = await snapshot(path);
  const drops = {};
  for (const k of Object.keys(before)) drops[k] = after[k] - before[k];
  return { ...r, drops };
}

export async function runUdp({ mtu, seconds, reps, log, only = ROWS }) {
  const rows = [];
  const delay = await compiled(
    'version: 1\nname: bench-udp-delay\nnetwork:\n  uplink: { delay: 20ms }\n  downlink: { delay: 20ms }\n',
  );
  const delayRate = await compiled(
    'version: 1\nname: bench-udp-delay-rate\nnetwork:\n' +
      '  uplink: { delay: 20ms, rate: 1gbit, queue: 8MB }\n' +
      '  downlink: { delay: 20ms, rate: 1gbit, queue: 8MB }\n',
  );
  // veth is the baseline of every ratio: measured whenever a ratio row is.
  const ratioRows = only.includes('unimpaired') || only.includes('delay');
  const paths = [
    ['veth', () => openVeth(mtu), ratioRows],
    ['qoslab', () => openLab(mtu, true), only.includes('unimpaired')],
    [
      'qoslab delay 20ms',
      () => openLab(mtu, true, delay, 'qoslab delay 20ms'),
      only.includes('delay'),
    ],
  ].filter((p) => p[2]);
  for (let rep = 1; rep <= reps; rep++) {
    for (const [name, open] of paths) {
      const path = await open();
      try {
        for (const size of SIZES) {
          const r = await measure(path, { seconds, size, bitrate: '0' });
          const row = { part: 'udp', path: name, rep, size, ...r };
          log(
            `udp rep ${rep} ${name.padEnd(18)} ${String(size).padStart(4)} B  sent ${Math.round(r.sentPps)}/s delivered ${Math.round(r.deliveredPps)}/s  lost at: tun queue ${r.drops.tunQueue} core ${r.drops.core} socket ${r.drops.socket} (of ${r.lost})`,
          );
          rows.push(row);
        }
      } finally {
        await path.close();
      }
    }
  }
  if (!only.includes('delay-rate')) return rows;
  // 20 ms + 1 Gbit/s: TCP fills it, UDP is offered at the link rate.
  const path = await openLab(mtu, true, delayRate, 'qoslab delay 20ms rate 1g');
  try {
    await roomForBdp(path);
    const tcp = [];
    const udp = [];
    for (let rep = 1; rep <= reps; rep++) {
      tcp.push((await iperf(path, { seconds: seconds + 3, reverse: false, omit: 3 })).gbps);
      udp.push(await measure(path, { seconds, size: 1200, bitrate: '1G' }));
    }
    const tcpGbps = median(tcp);
    const udpGbps = median(udp.map((u) => (u.deliveredPps * 1200 * 8) / 1e9));
    log(
      `delay 20ms rate 1g: TCP ${tcpGbps.toFixed(3)} Gbit/s, UDP 1200 B ${udpGbps.toFixed(3)} Gbit/s`,
    );
    rows.push({ part: 'udp', metric: 'delay-rate', tcpGbps, udpGbps, udp });
  } finally {
    await path.close();
  }
  return rows;
}

export function formatUdp(rows) {
  const lines = [
    'UDP (iperf3 -u -b 0, datagrams/s delivered; medians)',
    '',
    `${'path'.padEnd(20)}${'size'.padStart(6)}${'delivered/s'.padStart(13)}${'ratio'.padStart(8)}${'sent/s'.padStart(11)}   lost at: tun queue / core / socket (of lost)`,
  ];
  const byPath = (name, size) => rows.filter((r) => r.path === name && r.size === size);
  const med = (rs, f) => median(rs.map(f));
  const ratios = {};
  for (const name of ['veth', 'qoslab', 'qoslab delay 20ms']) {
    for (const size of SIZES) {
      const rs = byPath(name, size);
      if (rs.length === 0) continue;
      const delivered = med(rs, (r) => r.deliveredPps);
      const ratio = delivered / med(byPath('veth', size), (r) => r.deliveredPps);
      ratios[`${name} ${size}`] = ratio;
      const d = (k) => Math.round(med(rs, (r) => r.drops[k]));
      lines.push(
        `${name.padEnd(20)}${`${size} B`.padStart(6)}${Math.round(delivered).toString().padStart(13)}${ratio.toFixed(2).padStart(7)}x${Math.round(
          med(rs, (r) => r.sentPps),
        )
          .toString()
          .padStart(
            11,
          )}   ${d('tunQueue')} / ${d('core')} / ${d('socket')} (${Math.round(med(rs, (r) => r.lost))})`,
      );
    }
  }
  lines.push('');
  for (const size of SIZES) {
    const r = ratios[`qoslab ${size}`];
    if (r !== undefined) {
      lines.push(
        `target UDP ${size} B >= 0.7x veth: ${r.toFixed(2)}x -> ${r >= 0.7 ? 'met' : 'MISSED'}`,
      );
    }
  }
  const dr = rows.find((r) => r.metric === 'delay-rate');
  if (dr) {
    lines.push(
      `target delay 20 ms + 1 Gbit/s, TCP >= 0.95 Gbit/s: ${dr.tcpGbps.toFixed(3)} -> ${dr.tcpGbps >= 0.95 ? 'met' : 'MISSED'}`,
    );
    lines.push(
      `target delay 20 ms + 1 Gbit/s, UDP 1200 B offered at 1 Gbit/s delivered >= 0.9 Gbit/s: ${dr.udpGbps.toFixed(3)} -> ${dr.udpGbps >= 0.9 ? 'met' : 'MISSED'}`,
    );
  }
  return lines;
}

// What the packet path costs in CPU: the forwarding thread's own CPU time
// (CLOCK_THREAD_CPUTIME_ID, which the thread reads after its work at most once a
// millisecond: the lab counters' threadCpuNs, kernel time of its TUN reads and writes
// included) per packet it read and per KB of IP bytes, for TCP and UDP, as fast as the
// sender can and at a fixed offered rate. Throughput ratios against veth hide a change
// that costs cycles as long as the 2 cores keep up; this does not. Plain forwarding and
// the classifying pipeline (the SNI-classified scenario of the lab part), each a lab of
// its own.
import { iperf, iperfUdp, median } from './measure.js';
import { compiled, SNI_CLASSIFIED } from './scenario.js';
import { openLab } from './paths.js';

/** The traffic of each row: iperf3 options. '0' is as fast as the sender can. */
export const LOADS = [
  { name: 'TCP up, saturating', tcp: true },
  { name: 'TCP up, 500 Mbit/s', tcp: true, bitrate: '500M' },
  { name: 'UDP 1200 B, saturating', size: 1200, bitrate: '0' },
  { name: 'UDP 1200 B, 200 Mbit/s', size: 1200, bitrate: '200M' },
  { name: 'UDP 100 B, saturating', size: 100, bitrate: '0' },
  { name: 'UDP 100 B, 20 Mbit/s', size: 100, bitrate: '20M' },
];

/** The thread's CPU time and what it read, both directions (a TCP run has its ACKs). */
function reading(path) {
  const c = path.counters();
  return {
    cpuNs: c.threadCpuNs,
    packets: c.up.packets + c.down.packets,
    bytes: c.up.bytes + c.down.bytes,
    at: performance.now(),
  };
}

async function measure(path, load, seconds) {
  const before = reading(path);
  const r = load.tcp
    ? await iperf(path, { seconds, reverse: false, bitrate: load.bitrate })
    : await iperfUdp(path, { seconds, size: load.size, bitrate: load.bitrate });
  const after = reading(path);
  const cpu = after.cpuNs - before.cpuNs;
  const packets = after.packets - before.packets;
  const bytes = after.bytes - before.bytes;
  return {
    cpuNs: cpu,
    packets,
    bytes,
    nsPerPacket: packets > 0 ? cpu / packets : null,
    nsPerKB: bytes > 0 ? (cpu / bytes) * 1000 : null,
    // The share of one core the thread used over the measurement (iperf3's start and
    // end included, so a little under the steady state).
    core: cpu / ((after.at - before.at) * 1e6),
    gbps: load.tcp ? r.gbps : (r.deliveredPps * load.size * 8) / 1e9,
  };
}

export async function runCpu({ mtu, seconds, reps, log }) {
  const sni = await compiled(SNI_CLASSIFIED);
  const labs = [
    ['qoslab', () => openLab(mtu, true)],
    ['qoslab sni-classified', () => openLab(mtu, true, sni, 'qoslab sni-classified', ['throttle'])],
  ];
  const rows = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const [name, open] of labs) {
      const path = await open();
      try {
        for (const load of LOADS) {
          const m = await measure(path, load, seconds);
          rows.push({ part: 'cpu', path: name, load: load.name, rep, ...m });
          log(
            `cpu rep ${rep} ${name.padEnd(22)} ${load.name.padEnd(24)} ${fmt(m.nsPerPacket)} ns/packet ${fmt(m.nsPerKB)} ns/KB  ${(m.core * 100).toFixed(0)} % of a core  ${m.gbps.toFixed(3)} Gbit/s`,
          );
        }
      } finally {
        await path.close();
      }
    }
  }
  return rows;
}

function fmt(v) {
  return v === null ? 'n/a' : v.toFixed(0);
}

export function formatCpu(rows) {
  const lines = [
    'packet path CPU (the forwarding thread, CLOCK_THREAD_CPUTIME_ID; medians; a packet is one',
    'TUN read, a GSO super-packet counts once; KB of IP bytes, both directions)',
    '',
    `${'path'.padEnd(23)}${'load'.padEnd(25)}${'ns/packet'.padStart(10)}${'ns/KB'.padStart(8)}${'core'.padStart(7)}${'Gbit/s'.padStart(9)}`,
  ];
  for (const name of [...new Set(rows.map((r) => r.path))]) {
    for (const load of LOADS) {
      const rs = rows.filter((r) => r.path === name && r.load === load.name);
      if (rs.length === 0) continue;
      const med = (f) => median(rs.map(f).filter((v) => v !== null));
      lines.push(
        `${name.padEnd(23)}${load.name.padEnd(25)}${fmt(med((r) => r.nsPerPacket)).padStart(10)}${fmt(med((r) => r.nsPerKB)).padStart(8)}${`${(med((r) => r.core) * 100).toFixed(0)} %`.padStart(7)}${med(
          (r) => r.gbps,
        )
          .toFixed(3)
          .padStart(9)}`,
      );
    }
  }
  return lines;
}

// The shaper in real time, in the lab: achieved rate against configured from 64 kbit/s
// to 1 Gbit/s (the server TUN's byte counter while iperf3 fills a shaped uplink), and the delay error of a
// each way (ping RTT minus 8 ms minus the unimpaired lab's median RTT). Unlike the
// virtual-time rows, these include the timers, the TUNs and the kernel.
import { linkRate, median, pingTimes, quantile } from './measure.js';
import { openLab } from './paths.js';
import { compiled } from './scenario.js';

export const RATES = [
  ['64k', 64e3],
  ['128k', 128e3],
  ['1m', 1e6],
  ['10m', 10e6],
  ['100m', 100e6],
  ['1g', 1e9],
];

async function withLab(mtu, scenario, name, fn) {
  const path = await openLab(mtu, true, scenario, name);
  try {
    return await fn(path);
  } finally {
    await path.close();
  }
}

export async function runShaped({ mtu, seconds, pings, log }) {
  const rows = [];
  for (const [label, rate] of RATES) {
    // Queue: a quarter second at the rate, at least 32 packets, so TCP can fill the link.
    const queue = Math.max(32 * mtu, Math.round((rate / 8) * 0.25));
    const scenario = await compiled(
      `version: 1\nname: bench-rate-${label}\nnetwork:\n  uplink: { rate: ${label}bit, queue: ${queue}B }\n`,
    );
    // Slow rates need longer to average out TCP's start.
    const secs = rate < 1e6 ? Math.max(seconds, 10) : seconds;
    // IP bits/s released onto the server's TUN while iperf3 saturates the uplink.
    const achieved = await withLab(
      mtu,
      scenario,
      `rate ${label}`,
      async (path) => (await linkRate(path, { seconds: secs, omit: 2, iface: path.serverTun })).bps,
    );
    const row = {
      part: 'shaped',
      metric: 'rate',
      label,
      configured_bps: rate,
      achieved_bps: achieved,
      ratio: achieved / rate,
    };
    log(
      `rate ${label.padEnd(5)} achieved ${(achieved / 1e6).toFixed(4)} Mbit/s  ratio ${row.ratio.toFixed(4)}`,
    );
    rows.push(row);
  }
  const base = median(
    await withLab(mtu, undefined, 'unimpaired', (path) => pingTimes(path, pings)),
  );
  const delayScenario = await compiled(
    'version: 1\nname: bench-delay\nnetwork:\n  uplink: { delay: 4ms }\n  downlink: { delay: 4ms }\n',
  );
  // 4 ms each way: ping prints RTTs under 10 ms to 0.001 ms but longer ones to 0.1 ms,
  // too coarse for a 0.1 ms target; the timer error does not depend on the delay's size.
  const rtts = await withLab(mtu, delayScenario, 'delay 4ms', (path) => pingTimes(path, pings));
  const errors = rtts.map((r) => r - 8 - base);
  const delay = {
    part: 'shaped',
    metric: 'delay-error',
    configured_ms: 8,
    base_rtt_ms: base,
    samples: errors.length,
    p50_ms: quantile(errors, 0.5),
    p99_ms: quantile(errors, 0.99),
    abs_p99_ms: quantile(errors.map(Math.abs), 0.99),
  };
  rows.push(delay);
  return rows;
}

export function formatShaped(rows) {
  const lines = [
    'shaped lab (real time)                 configured      achieved     error   target',
  ];
  for (const r of rows.filter((x) => x.metric === 'rate')) {
    const err = (r.ratio - 1) * 100;
    lines.push(
      `rate ${r.label.padEnd(34)}${(r.configured_bps / 1e6).toFixed(3).padStart(10)} Mb${(r.achieved_bps / 1e6).toFixed(3).padStart(11)} Mb${`${err.toFixed(2)}%`.padStart(10)}   <= 1%  ${Math.abs(err) <= 1 ? 'met' : 'MISSED'}`,
    );
  }
  const d = rows.find((x) => x.metric === 'delay-error');
  if (d) {
    lines.push(
      `delay 4 ms each way: RTT - 8 ms - base (${d.base_rtt_ms.toFixed(3)} ms), ${d.samples} pings: ` +
        `p50 ${d.p50_ms.toFixed(3)} ms, p99 ${d.p99_ms.toFixed(3)} ms (|error| p99 ${d.abs_p99_ms.toFixed(3)} ms; target <= 0.1 ms: ${d.abs_p99_ms <= 0.1 ? 'met' : 'MISSED'})`,
    );
  }
  return lines;
}

// Measurements between two network namespaces with iperf3 and ping.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const run = promisify(execFile);

/** Start `iperf3 -s` in the server namespace and wait until it listens. */
async function startIperfServer(ns) {
  const server = spawn('ip', ['netns', 'exec', ns, 'iperf3', '-s', '-1'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'ss', '-Htln', 'sport = :5201']);
    if (stdout.trim()) return server;
    await sleep(20);
  }
  server.kill();
  throw new Error(`iperf3 server in ${ns} did not start listening`);
}

/**
 * TCP throughput in Gbit/s at the receiver; `reverse` measures server → client (down);
 * `bitrate` (iperf3 -b, e.g. '200M') paces the sender instead of letting it saturate.
 * @returns {Promise<{gbps: number, retransmits: number}>}
 */
export async function iperf(path, { seconds, reverse, omit = 0, bitrate }) {
  const server = await startIperfServer(path.serverNs);
  try {
    const args = [
      'netns',
      'exec',
      path.clientNs,
      'iperf3',
      '-J',
      '-c',
      path.serverAddr,
      '-t',
      String(seconds),
    ];
    if (reverse) args.push('-R');
    if (omit > 0) args.push('-O', String(omit));
    if (bitrate !== undefined) args.push('-b', bitrate);
    const { stdout } = await run('ip', args, {
      timeout: (seconds + 20) * 1000,
      maxBuffer: 1 << 24,
    });
    const end = JSON.parse(stdout).end;
    return {
      gbps: end.sum_received.bits_per_second / 1e9,
      retransmits: end.sum_sent.retransmits ?? 0,
    };
  } finally {
    server.kill();
  }
}

/**
 * UDP from client to server: `size`-byte datagrams at `bitrate` (iperf3 -b; '0' is as
 * fast as the sender can). Delivered counts what the receiver got, by bytes.
 * @returns {Promise<{sentPps: number, deliveredPps: number, lost: number}>}
 */
export async function iperfUdp(path, { seconds, size, bitrate }) {
  const server = await startIperfServer(path.serverNs);
  try {
    const args = ['netns', 'exec', path.clientNs, 'iperf3', '-J', '-c', path.serverAddr];
    args.push('-u', '-b', bitrate, '-l', String(size), '-t', String(seconds));
    const { stdout } = await run('ip', args, {
      timeout: (seconds + 20) * 1000,
      maxBuffer: 1 << 24,
    });
    const end = JSON.parse(stdout).end;
    const sent = end.sum_sent.packets;
    const delivered = Math.round(end.sum_received.bytes / size);
    return {
      sentPps: sent / end.sum_sent.seconds,
      deliveredPps: delivered / end.sum_received.seconds,
      lost: sent - delivered,
    };
  } finally {
    server.kill();
  }
}

/** Bytes received so far by `iface` in the network namespace of process `pid`. */
function rxBytes(pid, iface) {
  const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith(`${iface}:`));
  if (!line) throw new Error(`no interface ${iface} in the namespace of process ${pid}`);
  return Number(line.split(':')[1].trim().split(/\s+/)[0]);
}

/**
 * The IP bit rate that reaches `iface` (the server's TUN: what the shaper released
 * towards the server) while iperf3 keeps the uplink saturated, from the kernel's own
 * receive counter rather than from iperf3's report. iperf3's receiver total does not
 * match the window it divides by when a deep queue sits on the path: at 1 Mbit/s with
 * a 48 KB (0.4 s) queue it reports ~25 KB more than the link delivers (+3.9% over 5 s,
 * +1.6% over 12 s) while this counter shows the link at 1.000 Mbit/s. The
 * counter is sampled every `everyMs`; the rate is taken between the first and the last
 * change seen within [start + omit, start + omit + seconds] (the link is busy, a
 * standing queue ahead of it, the whole time), so both ends sit on packet arrivals.
 * @returns {Promise<{bps: number, bytes: number, seconds: number}>}
 */
export async function linkRate(path, { seconds, omit = 0, iface, everyMs = 2 }) {
  const server = await startIperfServer(path.serverNs);
  const samples = [];
  let last = -1;
  let failed;
  const sample = () => {
    let bytes;
    try {
      bytes = rxBytes(server.pid, iface);
    } catch (error) {
      // iperf3 -s -1 exits once the test is over, taking its /proc entry with it.
      if (error.code !== 'ENOENT') failed = error;
      return clearInterval(timer);
    }
    if (bytes !== last) {
      samples.push([performance.now(), bytes]);
      last = bytes;
    }
  };
  let timer;
  try {
    sample();
    timer = setInterval(sample, everyMs);
    const start = performance.now();
    await run(
      'ip',
      [
        'netns',
        'exec',
        path.clientNs,
        'iperf3',
        '-c',
        path.serverAddr,
        '-t',
        String(seconds),
        ...(omit > 0 ? ['-O', String(omit)] : []),
      ],
      { timeout: (seconds + omit + 20) * 1000, maxBuffer: 1 << 24 },
    );
    clearInterval(timer);
    if (failed) throw failed;
    const from = start + omit * 1000;
    const to = from + seconds * 1000;
    const inWindow = samples.filter(([t]) => t >= from && t <= to);
    if (inWindow.length < 3) throw new Error(`too few packets reached ${iface} to measure`);
    const [t0, b0] = inWindow[0];
    const [t1, b1] = inWindow[inWindow.length - 1];
    const secs = (t1 - t0) / 1000;
    return { bps: ((b1 - b0) * 8) / secs, bytes: b1 - b0, seconds: secs };
  } finally {
    clearInterval(timer);
    server.kill();
  }
}

/** Round-trip times in ms of `count` pings at 10 ms intervals (after a warm-up). */
export async function pingTimes(path, count) {
  const base = ['netns', 'exec', path.clientNs, 'ping', '-n', '-W', '1'];
  await run('ip', [...base, '-c', '2', path.serverAddr]);
  const { stdout } = await run(
    'ip',
    [...base, '-c', String(count), '-i', '0.01', path.serverAddr],
    {
      timeout: (count * 0.01 + 30) * 1000,
    },
  );
  return [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

/** Median round-trip time in ms of `count` pings at 10 ms intervals (after one warm-up). */
export async function pingMedian(path, count) {
  const base = ['netns', 'exec', path.clientNs, 'ping', '-n', '-W', '1'];
  await run('ip', [...base, '-c', '2', path.serverAddr]);
  const { stdout } = await run('ip', [...base, '-c', String(count), '-i', '0.01', path.serverAddr]);
  const times = [...stdout.matchAll(/time=([\d.]+) ms/g)]
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (times.length < count / 2) throw new Error(`ping lost too many packets:\n${stdout}`);
  return median(times);
}

/** The q-quantile (0..1) of values, nearest rank. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

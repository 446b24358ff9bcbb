// Measurements between two network namespaces with iperf3 and ping.
import { execFile, spawn } from 'node:child_process';
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
 * TCP throughput in Gbit/s at the receiver; `reverse` measures server → client (down).
 * @returns {Promise<{gbps: number, retransmits: number}>}
 */
export async function iperf(path, { seconds, reverse, omit = 0 }) {
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

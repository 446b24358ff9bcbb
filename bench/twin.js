// The twin's speed: `qoslab simulate` of 60-second library scenarios, wall time of the
// whole command (load, the twin, summarising its events, printing) against the target of
// 2 s for a 60 s scenario. Runs without root. Each scenario uses BBR and CUBIC in turn.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/qoslab.js', import.meta.url));
const TARGET_S = 2;
const SCENARIOS = [
  'messengers',
  'ru-2025-messenger-calls',
  'ru-2021-twitter-sni-policer',
  'ru-2025-foreign-hosting-freeze',
  'ru-2022-tspu-quic-v1-drop',
];

export function runTwin() {
  const rows = [];
  for (const scenario of SCENARIOS) {
    for (const tcp of ['bbr', 'cubic']) {
      const started = process.hrtime.bigint();
      execFileSync(process.execPath, [bin, 'simulate', scenario, '--tcp', tcp, '--json'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        maxBuffer: 1 << 30,
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rows.push({ bench: 'twin', scenario, tcp, seconds, target: TARGET_S });
    }
  }
  return rows;
}

export function formatTwin(rows) {
  const lines = ['twin: `qoslab simulate` of a 60 s scenario (wall time, target <= 2 s)'];
  for (const r of rows) {
    const met = r.seconds <= r.target ? 'met' : 'MISSED';
    lines.push(
      `  ${r.scenario.padEnd(32)} ${r.tcp.padEnd(6)} ${r.seconds.toFixed(2).padStart(6)} s  ${met}`,
    );
  }
  return lines;
}

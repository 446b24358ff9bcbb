// The core benchmark: native/core/examples/core_bench.rs in virtual time (pipeline cost,
// SNI classification, memory per flow, fuzz, rate and delay accuracy). Runs without root;
// the binary prints one JSON object per measurement, formatted here as a table.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const manifest = fileURLToPath(new URL('../native/Cargo.toml', import.meta.url));

const titles = {
  pipeline_ns_per_packet: 'pipeline cost',
  classify_ns: 'classify',
  memory_bytes_per_flow: 'memory',
  fuzz_packets_per_s: 'fuzz',
  rate_ratio: 'rate',
  delay_error_ms: 'delay error',
};

/**
 * Build and run the core benchmark; resolves to its measurements (one object each).
 * Cargo's build output goes to stderr.
 */
export function runCore({ fuzzPackets } = {}) {
  const args = ['run', '--quiet', '--release', '--example', 'core_bench'];
  args.push('--manifest-path', manifest, '--', '--json');
  if (fuzzPackets !== undefined) args.push('--fuzz-packets', String(fuzzPackets));
  return new Promise((resolve, reject) => {
    const child = spawn('cargo', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`core_bench failed (${signal ?? `exit ${code}`})`));
        return;
      }
      const rows = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line));
      if (rows.length === 0) reject(new Error('core_bench printed no measurements'));
      else resolve(rows);
    });
  });
}

function formatValue(v, unit) {
  if (v === null) return 'n/a';
  if (unit === 'achieved/configured') return v.toFixed(6);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : String(Number(v.toPrecision(6)));
}

/** The "core (virtual time)" table: measurement, value, unit, target, met/MISSED. */
export function formatCore(rows) {
  const table = rows.map((r) => [
    `${titles[r.metric] ?? r.metric}: ${r.label}`,
    formatValue(r.value, r.unit),
    // `before`: the same row measured before a change, for comparison (see the row's source).
    r.before === undefined ? '' : formatValue(r.before, r.unit),
    r.unit,
    r.target ?? '',
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const head = ['core (virtual time)', 'value', 'before', 'unit', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (row) =>
    row
      .map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const missed = rows.filter((r) => r.met === false).length;
  const withTarget = rows.filter((r) => r.met !== null).length;
  return [
    line(head),
    ...table.map(line),
    '',
    `${withTarget - missed} of ${withTarget} core targets met` +
      (missed ? ` (${missed} MISSED)` : '') +
      '; virtual time: no timer error in the rate and delay rows',
  ];
}

// `npm run soak`: the same `qoslab run` again and again, each expectation's measured value
// per run and how many runs passed: every expectation judged and held (exit 0 with some
// `not measured` is unjudged, not a pass), with the lab's own stalls of each run. Opt-in, not part of `npm test`: a library scenario's
// cited band must hold run after run on this machine, not once. The default is the one the
// goodput definition was judged by: ru-2021-twitter-sni-policer --duration 30s, 20 runs.
// Needs root (labs); about 40 s a run. Writes NDJSON to results/soak/.
//
//   node bench/soak.js [--scenario NAME] [--duration 30s] [--runs 20] [--first 1]
//
// --first numbers the runs (run i of a longer series made one at a time).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'ru-2021-twitter-sni-policer' },
    duration: { type: 'string', default: '30s' },
    runs: { type: 'string', default: '20' },
    first: { type: 'string', default: '1' },
  },
});
const runs = Number(opts.runs);
const first = Number(opts.first);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(first) || first < 1) {
  console.error('soak: --runs and --first must be positive integers');
  process.exit(2);
}

const CLI = fileURLToPath(new URL('../bin/qoslab.js', import.meta.url));
const outDir = new URL('../results/soak/', import.meta.url);
mkdirSync(outDir, { recursive: true });
const outFile = new URL(
  `${opts.scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`,
  outDir,
);

/** An expectation's measured value as a person reads it. */
function shown(e) {
  if (e.measured === null) return 'nothing';
  if (e.kind === 'rate') return `${(e.measured / 1e3).toFixed(1)} kbit/s`;
  if (e.kind === 'ratio') return `${(e.measured * 100).toFixed(1)} %`;
  if (e.kind === 'duration') return `${(e.measured / 1e6).toFixed(1)} ms`;
  return String(e.measured);
}

/** A run passed when it judged every expectation and each held; exit 0 alone is not that. */
const verdictOf = (exit, expectations) =>
  exit !== 0 && exit !== 1 && exit !== 5
    ? 'broken'
    : expectations.some((e) => e.outcome === 'fail')
      ? 'failed'
      : expectations.length > 0 && expectations.every((e) => e.outcome === 'ok')
        ? 'passed'
        : 'unjudged';

const tally = { passed: 0, failed: 0, unjudged: 0, broken: 0 };
for (let i = first; i < first + runs; i++) {
  const tmp = mkdtempSync(join(tmpdir(), 'qoslab-soak-'));
  const out = join(tmp, 'run');
  const r = spawnSync(
    process.execPath,
    [CLI, 'run', opts.scenario, '--duration', opts.duration, '--out', out, '--quiet'],
    { encoding: 'utf8' },
  );
  let summary;
  try {
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  } catch {
    summary = undefined;
  }
  rmSync(tmp, { recursive: true, force: true });
  const expectations = summary?.expectations ?? [];
  const verdict = verdictOf(r.status, expectations);
  tally[verdict]++;
  // The lab's own stalls: what a run on a loaded machine had to tell from the network.
  const stall = summary?.instrument?.lab_stall;
  const lab = stall && { count: stall.count, total_ns: stall.total_ns, max_ns: stall.max_ns };
  appendFileSync(
    outFile,
    `${JSON.stringify({ run: i, exit: r.status, verdict, lab_stall: lab ?? null, expectations: expectations.map((e) => ({ text: e.text, outcome: e.outcome, measured: e.measured, cause: e.cause ?? null })) })}\n`,
  );
  const cells = expectations.map((e) => `${e.outcome}: ${shown(e)}`);
  const stalls = lab ? `  [lab stalled ${lab.count}x, ${(lab.total_ns / 1e6).toFixed(0)} ms]` : '';
  console.log(`run ${i}: exit ${r.status} ${verdict}  ${cells.join('  |  ')}${stalls}`);
  for (const e of expectations.filter((x) => x.cause)) console.log(`  ${e.text}: ${e.cause}`);
  if (summary === undefined) console.log(r.stderr.trim().split('\n').slice(-3).join('\n'));
}
const parts = Object.entries(tally).filter(([k, n]) => k === 'passed' || n > 0);
console.log(
  `${parts.map(([k, n]) => `${n} ${k}`).join(', ')} of ${runs} runs (${opts.scenario} --duration ${opts.duration})`,
);
console.log(`NDJSON: ${fileURLToPath(outFile)}`);
process.exit(tally.passed === runs ? 0 : 1);

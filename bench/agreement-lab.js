// `npm run agreement:lab`: the lab side of the twin's agreement test. Runs every scenario
// of test/simulate/agreement/scenarios/ in the lab, `--reps` times each (seeds 1..reps),
// and writes what each run measured, per workload and phase, to
// test/simulate/agreement/lab.json, dated, with the kernel and its TCP congestion control
// (a lab's namespaces inherit the host's). test/simulate/agreement.test.ts then checks
// `simulate` against these numbers without a lab. Needs root (a lab) and takes about
// ten minutes per repetition; on a shared machine hold the lab lock around it. Refresh
// the file when the lab or a fixture changes, and commit it with the change.
//
// The twin has no resolver (its clients connect without looking names up), so the lab
// runs each fixture with hosts files (`dns.resolver.hosts-file: true`, as every lab did
// before it had a resolver): a copy beside the fixture (its trace paths stay relative),
// removed after its runs. lab.json records the fixture's own hash.
//
//   npm run agreement:lab -- --reps 3 [--only name,name]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { agreementRows } from '../dist/simulate/agreement.js';

const { values: opts } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'test/simulate/agreement');
const fixtures = join(dir, 'scenarios');
const only = opts.only?.split(',').filter((n) => n !== '');
const names = readdirSync(fixtures)
  .filter((f) => f.endsWith('.yaml') && !f.startsWith('.'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .filter((n) => only === undefined || only.includes(n))
  .sort();
const reps = Number(opts.reps);
const outFile = opts.out ?? join(dir, 'lab.json');

const read = (path) => readFileSync(path, 'utf8').trim();
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const git = (...args) => {
  try {
    return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
};

/** What a run measured that the agreement test compares, and its expectations. */
function measured(summary) {
  const expectations = summary.expectations.map((e) => ({
    text: e.text,
    outcome: e.outcome,
    measured: e.measured,
  }));
  return { status: summary.status, rows: agreementRows(summary.workloads), expectations };
}

/** The fixture as the lab runs it: names from hosts files, no lookup on the wire. */
function withHostsFiles(text) {
  const doc = parse(text);
  doc.dns = { ...doc.dns, resolver: { ...doc.dns?.resolver, 'hosts-file': true } };
  return stringify(doc);
}

const work = mkdtempSync(join(tmpdir(), 'qoslab-agreement-'));
const scenarios = {};
try {
  for (const name of names) {
    const file = join(fixtures, `${name}.yaml`);
    const labFile = join(fixtures, `.lab-${name}.yaml`);
    writeFileSync(labFile, withHostsFiles(readFileSync(file, 'utf8')));
    const runs = [];
    for (let seed = 1; seed <= reps; seed++) {
      const out = join(work, `${name}-${seed}`);
      const started = Date.now();
      const r = spawnSync(
        process.execPath,
        [
          join(root, 'bin/qoslab.js'),
          'run',
          labFile,
          '--seed',
          String(seed),
          '--out',
          out,
          '--quiet',
        ],
        { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
      );
      // 0: every expectation held, 1: one failed; both measured.
      if (r.status !== 0 && r.status !== 1) {
        throw new Error(`${name} seed ${seed}: qoslab run exited ${r.status}`);
      }
      const summary = JSON.parse(read(join(out, 'summary.json')));
      runs.push({
        seed,
        exit: r.status,
        seconds: (Date.now() - started) / 1e3,
        ...measured(summary),
      });
      process.stdout.write(`${name} seed ${seed}: exit ${r.status}\n`);
    }
    rmSync(labFile, { force: true });
    scenarios[name] = {
      measured: new Date().toISOString().slice(0, 10),
      commit: git('rev-parse', '--short', 'HEAD'),
      kernel: read('/proc/sys/kernel/osrelease'),
      tcp_congestion_control: read('/proc/sys/net/ipv4/tcp_congestion_control'),
      sha256: sha256(file),
      runs,
    };
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  for (const f of readdirSync(fixtures)) if (f.startsWith('.lab-')) rmSync(join(fixtures, f));
}

let previous = {};
try {
  previous = JSON.parse(read(outFile)).scenarios ?? {};
} catch {
  // No table yet, or --out names a new file.
}
// Each scenario carries when, where and with which TCP it was measured: --only refreshes
// some and keeps the others.
const table = { scenarios: { ...previous, ...scenarios } };
writeFileSync(outFile, JSON.stringify(table, null, 1) + '\n');
process.stdout.write(`wrote ${outFile}\n`);

/**
 * The library's regression suite: every shipped scenario runs in the lab in its short form
 * (./short-form.ts), must exit 0, and every expectation it keeps must hold. The
 * expectations state what each scenario's sources measured, so this is the check that the
 * library still reproduces its sources — and, since a scenario qoslab cannot carry exits
 * 2 or 3, that every file in scenarios/ runs. The labs are independent namespaces and
 * mostly wait on timers, so up to vitest's maxConcurrency (5) run side by side: the whole
 * library takes about four minutes instead of twenty. A run the instrument reports as
 * starved (./gate.ts) is measured again alone; what is still starved then is listed, and
 * fails the suite only beyond 5 % of the library's judged expectations. At the end it prints each
 * expectation beside what was measured (./table.ts), also written to
 * $QOSLAB_LIBRARY_TABLE when set. Hold /tmp/qoslab-lab.lock around it like any lab test;
 * QOSLAB_LIBRARY_ONLY=name,name runs a subset while iterating, and
 * QOSLAB_LIBRARY_SEEDS=1,2,3 runs each scenario once per seed and adds the spread of each
 * expectation's measured value over the seeds (what a two-sided bound must hold).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { libraryNames, listLibrary, loadScenario } from '../../src/scenario/library.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { readSummary } from '../run/helpers.js';
import { LabGate } from './gate.js';
import { shortForm } from './short-form.js';
import { libraryTable, spreadTable, type ScenarioRow } from './table.js';

const only = process.env.QOSLAB_LIBRARY_ONLY?.split(',').filter((n) => n !== '');
const names = (await libraryNames()).filter((n) => only === undefined || only.includes(n));
const seeds = process.env.QOSLAB_LIBRARY_SEEDS?.split(',')
  .filter((s) => s !== '')
  .map(Number);
/** Each scenario once (its own seed), or once per seed asked for. */
const cases: [string, number | undefined][] = names.flatMap((n) =>
  seeds === undefined ? [[n, undefined]] : seeds.map((s): [string, number] => [n, s]),
);
const marks = new Map((await listLibrary()).map((e) => [e.name, e.provenance]));
const rows: ScenarioRow[] = [];
const gate = new LabGate();
/** An expectation the instrument's own stalls or an agent's limit left unjudged. */
const starved = (e: { outcome: string; cause?: string | null }) =>
  e.outcome === 'not measured' && /stalled|agent-limited/.test(e.cause ?? '');
/**
 * Expectations still starved when their scenario ran alone: the instrument could not judge
 * them on this machine. They are listed, not failed, unless they grow past
 * MAX_STARVED_SHARE of what the library judged: then the machine cannot test the library.
 */
const starvedAlone: string[] = [];
let judgedCount = 0;
const MAX_STARVED_SHARE = 0.05;

describe.skipIf(!isRoot)('every library scenario runs and reproduces its sources', () => {
  afterAll(() => {
    if (starvedAlone.length > 0) {
      console.log(
        `\nNot judged even alone (the instrument starved), ${starvedAlone.length} of ${starvedAlone.length + judgedCount}:\n  ${starvedAlone.join('\n  ')}`,
      );
      const share = starvedAlone.length / (starvedAlone.length + judgedCount);
      if (share > MAX_STARVED_SHARE) {
        throw new Error(
          `${(share * 100).toFixed(1)} % of the library's expectations were not judged for the instrument's own stalls (at most ${MAX_STARVED_SHARE * 100} %): this machine is too loaded to test the library`,
        );
      }
    }
    if (rows.length === 0) return;
    let table = libraryTable(rows);
    if (seeds !== undefined) table += `\nOver seeds ${seeds.join(', ')}:\n\n${spreadTable(rows)}`;
    console.log(`\nThe library, expectation by expectation:\n\n${table}`);
    const file = process.env.QOSLAB_LIBRARY_TABLE;
    if (file !== undefined && file !== '') writeFileSync(file, table);
  });

  it.concurrent.for(cases)('%s seed %s', { timeout: 300_000 }, async ([name, seed], { expect }) => {
    const { compiled } = await loadScenario(name);
    const short = shortForm(compiled);
    const out = join(tmpDir('qoslab-library-'), name);
    const args = ['run', name, '--phase', short.phase, '--duration', `${short.durationNs / 1e6}ms`];
    // The library's own bring-your-own-app scenarios run programs (mosquitto, prosody).
    if (compiled.workloads.some((w) => w.command != null)) args.push('--allow-commands');
    if (seed !== undefined) args.push('--seed', String(seed));
    const started = Date.now();
    const measure = async (folder: string) => {
      const r = await qoslab(
        [...args, '--out', folder, '--quiet'],
        short.durationNs / 1e6 + 90_000,
      );
      // Exit 2 (cannot be run) or 3 (no lab) leaves no summary: the exit code says why.
      const found = r.code !== 2 && r.code !== 3 ? readSummary(folder).expectations : [];
      return { r, expectations: found };
    };
    let { r, expectations } = await gate.withShared(() => measure(out));
    // Five labs on two cores can starve the instrument; it then says so (`not measured`,
    // the lab stalled or an agent was limited) rather than judge. Such a run is measured
    // again with the machine to itself; its verdicts are the ones checked.
    if (expectations.some(starved)) {
      console.log(`${name}: the instrument was starved beside other labs; measuring it alone`);
      ({ r, expectations } = await gate.withAlone(() => measure(`${out}-alone`)));
    }
    rows.push({
      name,
      seed,
      marks: marks.get(name) ?? [],
      expectations,
      exitCode: r.code,
      seconds: (Date.now() - started) / 1e3,
    });
    judgedCount += expectations.filter((e) => e.outcome === 'ok' || e.outcome === 'fail').length;
    for (const e of expectations.filter(starved))
      starvedAlone.push(`${name}: ${e.text}: ${e.cause}`);
    // `not reached`: about a phase past the short form's end, so not checked here; starved
    // alone: counted above, against the library's share.
    const failed = expectations
      .filter((e) => e.outcome !== 'ok' && e.outcome !== 'not reached' && !starved(e))
      .map((e) => `${e.text}: ${e.outcome} (measured ${e.measured})`);
    expect({ code: r.code, failed }, `qoslab ${args.join(' ')}\n${r.stderr}`).toEqual({
      code: 0,
      failed: [],
    });
    expect(expectations.filter((e) => e.outcome === 'ok').length).toBeGreaterThan(0);
  });
});

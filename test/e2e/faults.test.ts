/**
 * Fault injection: agents killed or stopped mid-run, the run interrupted once, twice and
 * three times, the run itself SIGKILLed. Each case checks the status, the exit code, the
 * events, and that no number counts the fault as network behaviour. Labs: root only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentFaultEvent } from '../../src/record/events.js';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import {
  fixture,
  missingFiles,
  namespacesOf,
  readEvents,
  readSummary,
  sleep,
  startQoslab,
  tmpOut,
} from '../run/helpers.js';

const SCENARIO = fixture('faults');

/** The pid of a run's agent: a node process reading `<run tmp>/<role>.json`, the run's own child. */
function agentPid(runPid: number, role: 'client' | 'server'): number {
  const marker = `${os.tmpdir()}/qoslab-run-${runPid}.`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const config = argv.find((a) => a.startsWith(marker));
    if (config?.endsWith(`/${role}.json`) && argv.some((a) => a.endsWith('agent/main.js'))) {
      if (!argv[0]!.endsWith('ip')) return Number(entry);
    }
  }
  throw new Error(`no ${role} agent of run ${runPid}`);
}

const both = (s: RunSummary, workload: string, phase: string | null) =>
  s.workloads
    .find((w) => w.name === workload)!
    .scopes.find((x) => x.phase === phase)!
    .directions.find((d) => d.dir === 'both')!;

const outcome = (s: RunSummary, text: string) =>
  s.expectations.find((e) => e.text.startsWith(text))?.outcome;

/** Start the fault scenario; resolves ~`afterMs` after t0 (the first progress line). */
async function started(out: string, afterMs: number) {
  const run = startQoslab(['run', SCENARIO, '--out', out], /phase first/);
  await run.matched;
  await sleep(afterMs);
  return run;
}

/** What a run that lost an agent must say: failed, exit 4, not measured, nothing lost. */
function expectFaultHandled(out: string, code: number | null, stderr: string) {
  expect(code, stderr).toBe(4);
  expect(missingFiles(out)).toEqual([]);
  const s = readSummary(out);
  expect(s.status).toBe('failed');
  expect(s.exit_code).toBe(4);
  expect(s.ok).toBe(false);
  expect(s.faults).toHaveLength(1);
  const fault = readEvents(out).filter((e): e is AgentFaultEvent => e.ev === 'agent');
  expect(fault).toEqual(s.faults);
  // Observation ends when the agent was last alive, not at the planned end.
  expect(s.observed_ns).toBe(s.faults[0]!.t);
  expect(s.observed_ns).toBeGreaterThan(1e9);
  expect(s.observed_ns).toBeLessThan(5e9);
  // The dead agent's silence is no loss: everything judged in the first phase arrived,
  // and nothing after it is judged (a frame sent then would otherwise be "lost").
  const ws = both(s, 'ws', 'first');
  expect(ws.counted).toBeGreaterThan(0);
  expect(ws.delivery).toBe(1);
  const voice = both(s, 'voice', 'first');
  expect(voice.voice!.loss).toBeLessThan(0.02);
  // The second phase began after the death: never watched, it has no numbers at all.
  const voiceScopes = s.workloads.find((w) => w.name === 'voice')!.scopes;
  expect(voiceScopes.map((x) => x.phase)).toEqual(['first', null]);
  const all = s.workloads.find((w) => w.name === 'ws')!.scopes.find((x) => x.phase === null)!;
  expect(all.failures).toBe(0);
  // The trap: a dead agent must not make "voice.loss > 10%" pass.
  expect(outcome(s, 'voice.loss > 10%')).toBe('not measured');
  // The fault fell inside the first phase, so that phase was not wholly observed either.
  expect(outcome(s, 'ws.delivery >= 99%')).toBe('not measured');
  expect(namespacesOf(s.lab_id)).toEqual([]);
  return s;
}

describe.skipIf(!isRoot)('fault injection (a lab per case)', () => {
  let baseline: RunSummary;

  // The reference run, also the check that a longer --duration extends the last phase
  // (a cheap stand-in for `messengers --duration 120s`).
  beforeAll(async () => {
    const out = tmpOut();
    const r = await qoslab(['run', SCENARIO, '--out', out, '--duration', '13s'], 60_000);
    // No loss in a clean lab: the trap expectation fails, as it should.
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /--duration 13 s is longer than the scenario \(10 s\): phase 'second' and the workloads running at its end continue until 13 s/,
    );
    baseline = readSummary(out);
    expect(baseline.status).toBe('completed');
    // The phase begins when the run applied it: just after its planned 5 s.
    expect(baseline.phases.at(-1)).toMatchObject({ name: 'second', end: 13e9 });
    expect(baseline.phases.at(-1)!.start).toBeGreaterThanOrEqual(5e9);
    expect(baseline.phases.at(-1)!.start).toBeLessThan(5.1e9);
    const lastSend = Math.max(
      ...readEvents(out).flatMap((e) => (e.ev === 'send' && e.w === 'ws' ? [e.t] : [])),
    );
    expect(lastSend).toBeGreaterThan(12.5e9);
    expect(outcome(baseline, 'voice.loss > 10%')).toBe('fail');
  }, 60_000);

  it('a shorter --duration is announced; the phase cut off is not reached, not failed', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', SCENARIO, '--out', out, '--duration', '3s'], 40_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--duration 3 s cuts the scenario \(10 s\)/);
    expect(r.stderr).toMatch(/phase 'second' \(from 5 s\) is not reached/);
    const s = readSummary(out);
    expect(s.status).toBe('completed');
    expect(outcome(s, 'ws.delivery >= 99%')).toBe('ok');
    expect(outcome(s, 'voice.loss > 10%')).toBe('not reached');
    expect(r.stdout).toMatch(/--   voice\.loss > 10% during second +\(not reached/);
  }, 40_000);

  for (const role of ['client', 'server'] as const) {
    it(`the ${role} agent killed mid-run: failed, exit 4, the window after it not measured`, async () => {
      const out = tmpOut();
      const run = await started(out, 2500);
      process.kill(agentPid(run.child.pid!, role), 'SIGKILL');
      const r = await run.done;
      expect(r.stderr).toMatch(
        new RegExp(`qoslab: the ${role} agent was killed by SIGKILL at [\\d.]+ s; the run stops`),
      );
      const s = expectFaultHandled(out, r.code, r.stderr);
      expect(s.faults[0]).toMatchObject({ role, state: 'exited', signal: 'SIGKILL' });
      expect(r.stdout).toMatch(/--   voice\.loss > 10% during second +\(not measured/);
    }, 40_000);
  }

  it('a stalled agent (SIGSTOP) is a fault too', async () => {
    const out = tmpOut();
    const run = await started(out, 2500);
    process.kill(agentPid(run.child.pid!, 'client'), 'SIGSTOP');
    const r = await run.done;
    expect(r.stderr).toMatch(/qoslab: the client agent went silent at [\d.]+ s/);
    const s = expectFaultHandled(out, r.code, r.stderr);
    expect(s.faults[0]).toMatchObject({ role: 'client', state: 'stalled', code: null });
  }, 40_000);

  for (const times of [1, 2, 3]) {
    it(`SIGINT ×${times}: interrupted, exit 130, a summary, goodput over the time observed`, async () => {
      const out = tmpOut();
      const run = await started(out, 3500);
      for (let i = 0; i < times; i++) {
        run.child.kill('SIGINT');
        await sleep(150);
      }
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(missingFiles(out)).toEqual([]);
      const s = readSummary(out);
      expect(s.status).toBe('interrupted');
      expect(s.exit_code).toBe(130);
      expect(s.faults).toEqual([]);
      expect(readEvents(out).some((e) => e.ev === 'agent')).toBe(false);
      expect(s.observed_ns).toBeLessThan(5e9);
      expect(outcome(s, 'voice.loss > 10%')).toBe('not reached');
      // Rates divide by the time observed: the first phase's goodput is the full run's.
      const ws = both(s, 'ws', 'first').goodput_bps!;
      const full = both(baseline, 'ws', 'first').goodput_bps!;
      expect(Math.abs(ws / full - 1)).toBeLessThan(0.05);
      expect(both(s, 'ws', 'first').delivery).toBe(1);
      expect(namespacesOf(s.lab_id)).toEqual([]);
    }, 40_000);
  }

  it('SIGKILL of the run: cleanup removes its lab and temporary folder, report says failed', async () => {
    const out = tmpOut();
    const run = await started(out, 2500);
    const pid = run.child.pid!;
    const tmp = readdirSync(os.tmpdir()).filter((n) => n.startsWith(`qoslab-run-${pid}.`));
    expect(tmp).toHaveLength(1);
    run.child.kill('SIGKILL');
    await run.done;
    expect(readSummary(out).status).toBe('running');

    const c = await qoslab(['cleanup']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain(join(os.tmpdir(), tmp[0]!));
    // Match this run's line: cleanup also reports any other dead run it finds.
    const labId = new RegExp(`removed run ([0-9a-f]+) \\(pid ${pid} is gone\\)`).exec(c.stdout);
    expect(labId, c.stdout).not.toBeNull();
    expect(namespacesOf(labId![1]!)).toEqual([]);
    expect(existsSync(join(os.tmpdir(), tmp[0]!))).toBe(false);

    const r = await qoslab(['report', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    expect(s.status).toBe('failed');
    expect(s.exit_code).toBe(4);
    expect(s.error).toMatch(/killed before it finished/);
    expect(outcome(s, 'voice.loss > 10%')).toBe('not reached');
    // Observed until the last event: what was judged all arrived.
    expect(both(s, 'ws', 'first').delivery).toBe(1);
  }, 40_000);
});

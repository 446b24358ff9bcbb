/**
 * The instrument's own limits, injected into real labs, and what the results then say:
 * the orchestrator stopped for 2 s (Ctrl-Z, then fg), the forwarding thread starved by a
 * CPU hog on its core, a workload faster than one message per millisecond, and a
 * --duration that ends the run before the phase every expectation is about. Labs: root
 * only; each case is one short run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LabStallEvent } from '../../src/record/events.js';
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

const outcomes = (dir: string) =>
  readSummary(dir).expectations.map((e) => [e.text, e.outcome, e.cause]);

/** The forwarding thread of a run (its name starts with ql-fwd-), as a thread id. */
function forwardingThread(pid: number): number {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    if (comm.startsWith('ql-fwd-')) return Number(tid);
  }
  throw new Error(`no forwarding thread in process ${pid}`);
}

describe.skipIf(!isRoot)('the instrument tells its own limits from the network', () => {
  it('the orchestrator stopped for 2 s: a lab stall, never a network verdict', async () => {
    const out = tmpOut();
    const run = startQoslab(['run', fixture('stall'), '--out', out], /phase first/);
    await run.matched;
    await sleep(1500);
    // Ctrl-Z and fg: the whole process stops, the core's forwarding thread with it; the
    // agents (process groups of their own) go on sending into the TUN queues.
    run.child.kill('SIGSTOP');
    await sleep(2000);
    run.child.kill('SIGCONT');
    const r = await run.done;
    // Before: exit 1 with websocket p99 2.14 s, MOS 2.01, and no warning; a 5 s stop was
    // blamed on "the server agent went silent" and "the client agent went silent".
    expect(r.stderr).not.toMatch(/went silent/);
    expect(missingFiles(out)).toEqual([]);
    const s = readSummary(out);
    expect(s).toMatchObject({ status: 'completed', faults: [] });
    const stalls = readEvents(out).filter((e): e is LabStallEvent => e.ev === 'lab_stall');
    const longest = (source: string) =>
      Math.max(0, ...stalls.filter((e) => e.source === source).map((e) => e.dur_ns));
    // Both the core's watchdog and the orchestrator's loop saw the stop.
    expect(longest('core')).toBeGreaterThan(1.9e9);
    expect(longest('core')).toBeLessThan(2.6e9);
    expect(longest('orchestrator')).toBeGreaterThan(1.9e9);
    expect(s.instrument!.lab_stall.max_ns).toBeGreaterThanOrEqual(longest('core'));
    // The stop alone, or with the loaded machine's other stalls in the same window.
    const stop = String.raw`(2\.\d\d s at [\d.]+ s|\d+ times, [\d.]+ s in all \(the longest 2\.\d\d s at [\d.]+ s\))`;
    const cause = new RegExp(
      String.raw`^the lab stalled ${stop} \(this expectation tolerates [\d.]+ ms\)$`,
    );
    const [p99, mos, delivery] = s.expectations;
    // The stop held messages for 2 s: p99 < 50ms failed, and the stall may be why.
    expect([p99!.text, p99!.outcome]).toEqual([
      'ws.latency.p99 < 50ms during first',
      'not measured',
    ]);
    expect(p99!.cause).toMatch(cause);
    // A MOS or a delivery that held with the stop in it would hold without it: judged.
    // One that failed may be the stop's doing, or the loaded machine's other stalls in
    // phase second (26 of them, 974 ms, in one run here): not measured. Never a failure.
    for (const e of [mos!, delivery!]) {
      if (e.outcome === 'ok') expect(e.cause).toBeNull();
      else
        expect([e.text, e.outcome, e.cause]).toEqual([
          e.text,
          'not measured',
          expect.stringMatching(/^the lab stalled .* \(this expectation tolerates [\d.]+ ms\)$/),
        ]);
    }
    const unmeasured = s.expectations.filter((e) => e.outcome === 'not measured').length;
    expect(r.code, r.stderr).toBe(unmeasured === 3 ? 5 : 0);
    // One warning per distinct cause (a stricter bound counts more of the small stalls).
    const warned = [
      ...r.stdout.matchAll(
        /^warning: the lab stalled (.*): (\d+) expectations? over that time (?:is|are) not measured$/gm,
      ),
    ];
    expect(warned.reduce((n, m) => n + Number(m[2]), 0)).toBe(unmeasured);
    expect(warned.some((m) => new RegExp(`^${stop}$`).test(m[1]!))).toBe(true);
    expect(namespacesOf(s.lab_id)).toEqual([]);
  }, 60_000);

  it('a forwarding thread starved by a CPU hog on its core: the lab stalled, not the network', async () => {
    const out = tmpOut();
    const run = startQoslab(['run', fixture('stall'), '--out', out], /phase first/);
    await run.matched;
    const pid = run.child.pid!;
    const cpu = '0';
    let hog: ChildProcess | undefined;
    try {
      // The thread and a busy loop of real-time priority on one core, for 1.5 s: the kernel
      // leaves the thread 5 % of each second (sched_rt_runtime_us), as a busy runner's
      // noisy neighbour does, harder. `timeout` runs one priority above the loop, so it
      // ends it on time even if this test dies (at the loop's own priority it never ran).
      spawnSync('taskset', ['-p', '-c', cpu, String(forwardingThread(pid))]);
      hog = spawn(
        'taskset',
        [
          '-c',
          cpu,
          'chrt',
          '-f',
          '51',
          'timeout',
          '-s',
          'KILL',
          '1.5',
          'chrt',
          '-f',
          '50',
          'sh',
          '-c',
          'while :; do :; done',
        ],
        { stdio: 'ignore' },
      );
      await new Promise((r) => hog!.on('exit', r));
    } finally {
      if (hog?.exitCode === null) hog.kill('SIGKILL');
    }
    const r = await run.done;
    const s = readSummary(out);
    expect(s.status, r.stderr).toBe('completed');
    const core = readEvents(out).filter(
      (e): e is LabStallEvent => e.ev === 'lab_stall' && e.source === 'core',
    );
    expect(core.reduce((n, e) => n + e.dur_ns, 0)).toBeGreaterThan(300e6);
    expect(s.instrument!.lab_stall.count).toBeGreaterThan(0);
    // The latency bound of 50 ms tolerates 5 ms: what the starvation held up is the lab's.
    const first = s.expectations.find((e) => e.text.startsWith('ws.latency.p99'))!;
    expect(first.outcome).toBe('not measured');
    expect(first.cause).toMatch(/^the lab stalled /);
    expect(r.stdout).toMatch(/warning: the lab stalled /);
  }, 60_000);

  it('every: 200us sends its whole plan, and the summary says so', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('pace-200us'), '--out', out], 60_000);
    const s = readSummary(out);
    const all = s.workloads[0]!.scopes.find((x) => x.phase === null)!;
    // 3 s at 200 us: 15,000 (one message per timer turn sent about 9,700 of 12,000 in 6 s
    // at 500 us). A machine too busy to keep up must say agent-limited, never pass quietly.
    expect(all.pacing!.planned).toBe(15_000);
    if (all.pacing!.agent_limited) {
      expect(r.code, r.stderr).toBe(5);
      expect(s.notes!.join('\n')).toMatch(/fast was agent-limited/);
    } else {
      expect(r.code, r.stderr).toBe(0);
      expect(all.pacing!.sent).toBeGreaterThanOrEqual(0.99 * 15_000);
    }
    expect(r.stdout).toMatch(/^fast +main +15000 +\d+ +/m);
  }, 60_000);

  it('--duration before the first phase it checks: nothing judged, exit 5, JUnit and Markdown say so', async () => {
    const out = tmpOut();
    const junit = join(out, '..', 'junit.xml');
    const md = join(out, '..', 'summary.md');
    const r = await qoslab(
      [
        'run',
        fixture('late-phase'),
        '--out',
        out,
        '--duration',
        '2s',
        '--junit',
        junit,
        '--summary-md',
        md,
      ],
      60_000,
    );
    expect(r.code, r.stderr).toBe(5);
    expect(outcomes(out)).toEqual([
      [
        'ws.latency.p50 > 40ms during throttled',
        'not reached',
        "the run ended at 2 s, before phase 'throttled'",
      ],
      [
        'ws.delivery >= 99% during throttled',
        'not reached',
        "the run ended at 2 s, before phase 'throttled'",
      ],
    ]);
    expect(readFileSync(junit, 'utf8')).toMatch(
      /<testcase name="expectations judged"[^>]*><error message="nothing was judged: 2 not reached: the run tested nothing" type="unjudged">/,
    );
    expect(readFileSync(md, 'utf8')).toMatch(
      /^### ⚠️ qoslab run: late-phase\n\nnothing was judged: 2 not reached/,
    );
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('>nothing judged</span>');
    // An exploratory run may opt out.
    const allowed = await qoslab(
      ['run', fixture('late-phase'), '--out', tmpOut(), '--duration', '2s', '--allow-unjudged'],
      60_000,
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(
      /nothing was judged: 2 not reached \(allowed: --allow-unjudged\): exit 0 as asked/,
    );
  }, 90_000);
});

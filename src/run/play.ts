/**
 * The run itself, once the session is open: one start instant t0 for both agents and the
 * timeline, lab counters each second, progress, the planned length, then a drain so the
 * last messages are judged too. Agents are supervised throughout: a dead or silent one
 * ends the run at once (run/supervise.ts).
 */
import { phaseAt, type Phase } from '../metrics/index.js';
import { TimelinePlayer } from '../orchestrate/timeline.js';
import type { AgentFaultEvent, PhaseEvent } from '../record/events.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { drainNs } from './drain.js';
import type { FlowLog } from './flow-log.js';
import { budgetText, type EventRecorder } from './recorder.js';
import type { Progress, LiveTally } from './progress.js';
import type { ResultFiles } from './results.js';
import type { RunSession } from './session.js';
import { SelfWatch } from './self-watch.js';
import { sleep } from './sleep.js';
import { Supervisor } from './supervise.js';

/** A lab stall this long is said on the terminal when it happens, not only in the summary. */
const ANNOUNCE_STALL_NS = 100e6;

export interface PlayContext {
  compiled: CompiledConfig;
  phases: Phase[];
  session: RunSession;
  files: ResultFiles;
  recorder: EventRecorder;
  tally: LiveTally;
  progress: Progress;
  err: NodeJS.WritableStream;
}

/** The clock of a started run: ns since t0. */
export class RunClock {
  readonly t0 = process.hrtime.bigint();
  now(): number {
    return Number(process.hrtime.bigint() - this.t0);
  }
}

/**
 * Start the agents at t0 and play the scenario's length plus the drain (or until the
 * session's stop signal). Calls `onStart` with the clock as soon as t0 is fixed, so the
 * caller knows how long was observed however this ends.
 */
export async function play(ctx: PlayContext, onStart: (clock: RunClock) => FlowLog): Promise<void> {
  const { compiled, phases, session, files, recorder, tally, progress, err } = ctx;
  const lab = session.lab!;
  const clock = new RunClock();
  const faulted = new AbortController();
  const stop = AbortSignal.any([session.stop, faulted.signal, recorder.full]);
  recorder.full.addEventListener('abort', () => {
    progress.done();
    err.write(`qoslab: ${budgetText(recorder)}; the run stops\n`);
  });
  const onFault = (fault: AgentFaultEvent) => {
    if (faulted.signal.aborted) return; // the first fault stops the run; later ones follow from it
    recorder.record(fault);
    progress.done();
    err.write(
      `qoslab: ${fault.detail}; the run stops: nothing after ${(fault.t / 1e9).toFixed(1)} s is measured\n`,
    );
    faulted.abort();
  };
  const supervisor = new Supervisor(session.agents, clock.t0, onFault);
  let announcedUntil = -Infinity;
  const watch = new SelfWatch(lab, clock.t0, (e) => {
    recorder.record(e);
    // A stall the user may have caused (Ctrl-Z) or must know of is said at once, once
    // (the core and the orchestrator both see a stop of the process).
    if (e.dur_ns >= ANNOUNCE_STALL_NS && e.t >= announcedUntil) {
      announcedUntil = e.t + e.dur_ns;
      progress.done();
      err.write(
        `qoslab: warning: the lab stalled ${(e.dur_ns / 1e9).toFixed(2)} s at ${(e.t / 1e9).toFixed(1)} s (${e.source === 'core' ? 'its forwarding thread' : 'the qoslab process'} did not run); what it held up is not measured\n`,
      );
    }
  });
  for (const a of session.agents) a.send({ cmd: 'start', t0: String(clock.t0) });
  session.commands?.startClients(clock.t0, onFault);
  const flows = onStart(clock);
  supervisor.start();
  watch.start();
  const shaping = compiled.policies.length > 0;
  const timeline = new TimelinePlayer(compiled.timeline, {
    apply: (active, dnsActive) => {
      if (shaping) lab.setActivePolicies(active);
      lab.setResolverRules(dnsActive);
    },
    onPhase: (change) => {
      recorder.record({ ev: 'phase', phase: change.phase, t: change.appliedNs });
      // The flows' samples end here, so none spans two phases.
      flows.take(lab.flows());
    },
    now: () => process.hrtime.bigint(),
  });
  if (phases[0]?.start === 0 && phases[0].name !== compiled.timeline[0]?.phase) {
    const e: PhaseEvent = { ev: 'phase', phase: phases[0].name, t: 0 };
    recorder.record(e);
  }
  const timers: NodeJS.Timeout[] = [];
  try {
    timeline.start(clock.t0);
    timers.push(
      setInterval(() => {
        const counters = lab.counters();
        if (counters !== undefined) files.datapath.write({ t: clock.now(), ...counters });
        flows.take(lab.flows());
        watch.poll();
        files.checkFolder();
      }, 1000),
    );
    const draw = () =>
      progress.update(
        tally.lines(
          phaseAt(phases, clock.now()),
          Math.min(clock.now(), compiled.duration_ns),
          compiled.duration_ns,
        ),
        clock.now(),
      );
    timers.push(setInterval(draw, 250));
    draw();

    await sleep(compiled.duration_ns / 1e6, stop);
    if (!stop.aborted) await sleep(drainNs(compiled) / 1e6, stop);
    if (!faulted.signal.aborted) draw();
    progress.done();
  } finally {
    watch.stop();
    supervisor.stop();
    for (const t of timers) clearInterval(t);
    timeline.stop();
  }
}

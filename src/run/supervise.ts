/**
 * Watches the agents while a run plays. An agent that exits, or writes nothing (not even
 * its heartbeat) for STALL_MS, is a fault: from the moment it was last alive nothing can
 * be measured, so the run stops there instead of scoring its silence as network loss.
 *
 * The watcher checks its own lateness first: when the orchestrator itself was stopped
 * (Ctrl-Z, SIGSTOP) the agents' lines wait unread in their pipes, and a 5 s stop read as
 * "the server agent went silent" and "the client agent went silent" although both had
 * written all along. Silence then counts from when the orchestrator was back.
 */
import { BROWSER_DIED_EXIT, type AgentFaultEvent } from '../record/events.js';
import type { AgentProcess } from './agents.js';

/** Agents write a heartbeat every 500 ms (agent/main.ts); six missed ones is a stall. */
export const STALL_MS = 3000;
const CHECK_MS = 250;
/** A check this much later than planned means the orchestrator itself was not running. */
const OWN_STALL_MS = 500;

const MS = 1_000_000n;

export class Supervisor {
  private timer: NodeJS.Timeout | undefined;
  private active = true;
  private readonly faulted = new Set<AgentProcess>();
  private lastCheck = 0n;
  /** When the orchestrator last came back from a stall of its own. */
  private resumedAt = 0n;

  constructor(
    private readonly agents: AgentProcess[],
    private readonly t0: bigint,
    private readonly onFault: (fault: AgentFaultEvent) => void,
  ) {}

  start(): void {
    // An agent stopped before t0 would not count: alive as of now.
    const now = process.hrtime.bigint();
    for (const a of this.agents) {
      if (a.lastHeard < now) a.lastHeard = now;
      void a.exited.then(() => this.check());
    }
    this.timer = setInterval(() => this.check(), CHECK_MS);
  }

  /** Stop watching (before the orchestrator stops the agents itself). */
  stop(): void {
    this.active = false;
    clearInterval(this.timer);
  }

  private check(): void {
    if (!this.active) return;
    const now = process.hrtime.bigint();
    if (this.lastCheck !== 0n && now - this.lastCheck > BigInt(CHECK_MS + OWN_STALL_MS) * MS) {
      this.resumedAt = now;
    }
    this.lastCheck = now;
    for (const a of this.agents) {
      if (this.faulted.has(a) || a.stopping) continue;
      const heardOrBack = a.lastHeard > this.resumedAt ? a.lastHeard : this.resumedAt;
      const fault = a.ending
        ? this.exited(a, a.ending)
        : now - heardOrBack > BigInt(STALL_MS) * MS
          ? this.stalled(a, now)
          : undefined;
      if (fault === undefined) continue;
      this.faulted.add(a);
      this.onFault(fault);
    }
  }

  private rel(at: bigint): number {
    return Math.max(0, Number(at - this.t0));
  }

  private exited(a: AgentProcess, end: NonNullable<AgentProcess['ending']>): AgentFaultEvent {
    const how =
      end.signal !== null
        ? `agent was killed by ${end.signal}`
        : end.code === BROWSER_DIED_EXIT
          ? // The agent stops itself then: what it measured would read as a silent network.
            `agent's Chromium (a workload's WebRTC or QUIC stack) died`
          : `agent exited with code ${end.code}`;
    // The last line it wrote is when it was last known to be measuring.
    const t = this.rel(a.lastHeard < end.at ? a.lastHeard : end.at);
    return {
      ev: 'agent',
      role: a.role,
      state: 'exited',
      t,
      code: end.code,
      signal: end.signal,
      detail: `the ${a.role} ${how} at ${(this.rel(end.at) / 1e9).toFixed(1)} s`,
    };
  }

  private stalled(a: AgentProcess, now: bigint): AgentFaultEvent {
    const t = this.rel(a.lastHeard);
    return {
      ev: 'agent',
      role: a.role,
      state: 'stalled',
      t,
      code: null,
      signal: null,
      detail: `the ${a.role} agent went silent at ${(t / 1e9).toFixed(1)} s (nothing for ${(Number(now - a.lastHeard) / 1e9).toFixed(1)} s)`,
    };
  }
}

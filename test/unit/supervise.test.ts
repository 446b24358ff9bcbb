/**
 * The agents' supervisor tells the orchestrator's own stall from an agent's silence: when
 * the orchestrator's loop did not run for longer than the silence limit, the agents'
 * lines waited unread, and neither agent went silent.
 */
import { describe, expect, it } from 'vitest';
import type { AgentFaultEvent } from '../../src/record/events.js';
import type { AgentProcess } from '../../src/run/agents.js';
import { STALL_MS, Supervisor } from '../../src/run/supervise.js';

/** An agent as the supervisor sees it; `beat` is a heartbeat line being read. */
function fakeAgent(role: 'client' | 'server') {
  const agent = {
    role,
    lastHeard: process.hrtime.bigint(),
    ending: undefined,
    stopping: false,
    exited: new Promise<number>(() => {}),
  };
  return {
    agent: agent as unknown as AgentProcess,
    beat: () => (agent.lastHeard = process.hrtime.bigint()),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Block this event loop, as a stopped orchestrator is blocked. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // nothing runs meanwhile: no timer, no pipe read
  }
}

describe('Supervisor', () => {
  it('does not blame the agents for a stall of the orchestrator itself', async () => {
    const a = fakeAgent('client');
    const b = fakeAgent('server');
    const faults: AgentFaultEvent[] = [];
    const s = new Supervisor([a.agent, b.agent], process.hrtime.bigint(), (f) => faults.push(f));
    let beats = setInterval(() => (a.beat(), b.beat()), 100);
    s.start();
    try {
      await sleep(300);
      clearInterval(beats);
      block(STALL_MS + 500);
      // The supervisor's first check after the stall runs before the agents' waiting
      // lines are read (which order the loop takes depends on where it was stopped).
      await sleep(300);
      beats = setInterval(() => (a.beat(), b.beat()), 100);
      await sleep(300);
      expect(faults).toEqual([]);
    } finally {
      clearInterval(beats);
      s.stop();
    }
  }, 10_000);

  it('still finds an agent that went silent while the orchestrator ran', async () => {
    const a = fakeAgent('client');
    const b = fakeAgent('server');
    const faults: AgentFaultEvent[] = [];
    const s = new Supervisor([a.agent, b.agent], process.hrtime.bigint(), (f) => faults.push(f));
    // Only the server's lines arrive.
    const beats = setInterval(() => b.beat(), 100);
    s.start();
    try {
      await sleep(STALL_MS + 600);
      expect(faults.map((f) => [f.role, f.state])).toEqual([['client', 'stalled']]);
    } finally {
      clearInterval(beats);
      s.stop();
    }
  }, 10_000);
});

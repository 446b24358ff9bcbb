/**
 * Plan budgets (scenario/budget.ts, simulate/budget.ts): a plan that cannot be run or
 * simulated in bounded memory is refused before anything grows, with the limit named;
 * the library's plans are far inside them.
 */
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/scenario/errors.js';
import { intervalNs, MAX_PLANNED_MESSAGES, plannedMessages } from '../../src/scenario/budget.js';
import { libraryNames, loadScenario } from '../../src/scenario/library.js';
import { checkScenario } from '../../src/scenario/prepare.js';
import { MAX_SIMULATED_PACKETS, plannedPackets } from '../../src/simulate/budget.js';
import { simulateScenario } from '../../src/simulate/simulate.js';

const scenario = (workload: string, duration = '5s') => `version: 1
duration: ${duration}
hosts:
  chat: { names: [chat.example.lab] }
workloads:
  - { name: ws, host: chat, protocol: websocket, ${workload} }
`;

function check(text: string) {
  return checkScenario(text, 'b.yaml', { path: '/nowhere/b.yaml', name: 'b' });
}
const problems = (text: string) => {
  const r = check(text);
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe('the run budget: planned messages', () => {
  it("counts per connection and direction, over the workload's time in the run", () => {
    const r = check(scenario('every: 100ms, connections: 3, start: 1s, stop: 3s'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const w = r.prepared.compiled.workloads[0]!;
    expect(intervalNs(w)).toBe(100e6);
    expect(plannedMessages(w, 5e9)).toBe(20 * 2 * 3);
  });

  it('refuses every: 1ns at validate, located at every: an agent sends nowhere near that', () => {
    // The agents' speed (scenario/pace-limit.ts) is checked first, per workload; the run's
    // budget only for a plan an agent could send.
    expect(problems(scenario('every: 1ns'))).toEqual([
      `b.yaml:6:57  workloads[0].every  asks 1.00e+3 million messages a second per direction of its agent; an agent sends about 10,000 a second, and qoslab refuses plans over 100,000 (a longer interval, a larger size, or fewer connections)`,
    ]);
    expect(problems(scenario('rate: 1000gbit, size: 200B'))[0]).toMatch(
      /^b\.yaml:6:\d+  workloads\[0\]\.rate  asks 625 million messages a second/,
    );
  });

  it('refuses a plan an agent could send but a run cannot hold, located at every', () => {
    expect(problems(scenario('every: 10us', '6s'))).toEqual([
      `b.yaml:6:57  workloads[0].every  the run plans 1,200,000 messages, more than a run holds (at most 1,000,000: each is kept in memory and in events.ndjson); 'ws' alone sends 1,200,000 (1 connection × 2 directions, one every 10us for 6s); send less often or run shorter`,
    ]);
  });

  it('refuses a week of messages every 100 ms, and accepts the budget exactly', () => {
    expect(problems(scenario('every: 100ms', '168h'))[0]).toMatch(/plans 12,096,000 messages/);
    // 1 000 000 messages: 500 000 each way, one every 10 ms for 5000 s.
    expect(problems(scenario('every: 10ms', '5000s'))).toEqual([]);
    expect(problems(scenario('every: 10ms', '5001s'))[0]).toMatch(/plans 1,000,200 messages/);
  });

  it('holds every library scenario with room to spare', async () => {
    for (const name of await libraryNames()) {
      const { compiled } = await loadScenario(name);
      const total = compiled.workloads.reduce(
        (n, w) => n + plannedMessages(w, compiled.duration_ns),
        0,
      );
      expect(total, name).toBeLessThan(MAX_PLANNED_MESSAGES / 10);
    }
  });
});

describe('the simulate budget: packets', () => {
  it('bounds what the twin sends, handshakes and ACKs included', () => {
    const r = check(scenario('every: 100ms'));
    if (!r.ok) throw new Error('valid');
    const compiled = r.prepared.compiled;
    const planned = plannedPackets(compiled, compiled.workloads[0]!);
    const report = simulateScenario(compiled, 'cubic');
    // 100 messages of one segment each, their ACKs, a connection's set-up.
    expect(report.packets).toBeGreaterThan(100);
    expect(report.packets).toBeLessThanOrEqual(planned);
  });

  it('refuses a bulk download simulated for two hours before simulating, naming the limit', () => {
    const r = check(
      scenario('every: 1s')
        .replace('protocol: websocket, every: 1s', 'protocol: bulk, size: 1MB')
        .replace('duration: 5s', 'duration: 2h'),
    );
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    const t0 = performance.now();
    expect(() => simulateScenario(r.prepared.compiled, 'cubic')).toThrow(
      new RegExp(
        `at most ${MAX_SIMULATED_PACKETS.toLocaleString('en-US')}: each costs time, each message and transfer memory\\); 'ws' alone`,
      ),
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('holds every library scenario', async () => {
    for (const name of await libraryNames()) {
      const { compiled } = await loadScenario(name);
      const total = compiled.workloads.reduce((n, w) => n + plannedPackets(compiled, w), 0);
      expect(total, name).toBeLessThan(MAX_SIMULATED_PACKETS);
    }
  });
});

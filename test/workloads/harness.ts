import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { AgentConfig } from '../../src/agent/config.js';
import type { AgentEvent, MeasureEvent } from '../../src/record/events.js';
import { AgentProcess } from '../../src/run/agents.js';
import { makeLabPki } from '../../src/orchestrate/pki.js';
import type { CompiledWorkload } from '../../src/scenario/compiled.js';
import { now } from '../../src/workloads/clock.js';
import type { AgentContext } from '../../src/workloads/types.js';
import { compileSession } from '../../src/scenario/session.js';

/** A compiled workload on loopback (server 127.0.0.1 / ::1, name localhost). */
export function loopbackWorkload(
  w: Partial<CompiledWorkload> & Pick<CompiledWorkload, 'name' | 'protocol' | 'port'>,
): CompiledWorkload {
  const tls = w.tls ?? true;
  // The session (keepalive, reconnect, outbox, chain) a scenario gets by default.
  const session = compileSession({ protocol: w.protocol }, { port: w.port, tls });
  return {
    host: 'local',
    server_name: 'localhost',
    address: '127.0.0.1',
    address6: '::1',
    tls: true,
    interval_ns: 100e6,
    rate_bps: null,
    size_bytes: 200,
    // Loopback delivers in milliseconds; a short deadline lets most of a 2.5 s run be judged.
    deadline_ns: 1e9,
    direction: 'both',
    connections: 1,
    start_ns: 0,
    stop_ns: 2e9,
    codec: null,
    frame_ns: null,
    app: null,
    use: null,
    ...session,
    ...w,
  };
}

/**
 * Both agents as plain processes on this machine's loopback (no namespaces, no root):
 * the workload code end to end, with the real event stream.
 */
export async function runOnLoopback(
  workloads: CompiledWorkload[],
  runMs: number,
  extra: Partial<AgentConfig> = {},
): Promise<{ events: MeasureEvent[]; observedEnd: number; stderr: string }> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-test-'));
  const pki = await makeLabPki([['localhost']], 'test');
  const events: MeasureEvent[] = [];
  let stderr = '';
  const agents: AgentProcess[] = [];
  try {
    for (const role of ['server', 'client'] as const) {
      const config: AgentConfig = {
        role,
        workloads,
        seed: 1,
        caPem: pki.caPem,
        certs: pki.certs,
        ipv6: true,
        ...extra,
      };
      const path = join(tmp, `${role}.json`);
      writeFileSync(path, JSON.stringify(config));
      const onEvent = (e: AgentEvent) => {
        if (e.ev === 'log') stderr += `[${role}] ${e.msg}\n`;
        else if (e.ev !== 'ready') events.push(e);
      };
      const a = new AgentProcess(
        role,
        null,
        path,
        {},
        onEvent,
        (l) => (stderr += `[${role}] ${l}\n`),
      );
      agents.push(a);
      await Promise.race([
        a.ready,
        a.exited.then((c) => Promise.reject(new Error(`${role} exited ${c}: ${stderr}`))),
      ]);
    }
    const t0 = process.hrtime.bigint();
    for (const a of agents) a.send({ cmd: 'start', t0: String(t0) });
    await new Promise((r) => setTimeout(r, runMs));
    const observedEnd = Number(process.hrtime.bigint() - t0);
    for (const a of [...agents].reverse()) await a.stop(4000);
    return { events, observedEnd, stderr };
  } finally {
    for (const a of agents) a.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** An agent context for driving a hub or a protocol's server directly: no events kept. */
export function quietContext(workloads: CompiledWorkload[]): AgentContext {
  return {
    workloads,
    seed: 1,
    t0: now(),
    emit: () => {},
    signal: new AbortController().signal,
    caPem: '',
    spki: [],
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { readSummary, tmpOut } from '../run/helpers.js';

// A webrtc call with `turn`: coturn on the relay host's address in the server namespace,
// the caller restricted to relay candidates. 8 s of unimpaired lab (~16 s with the lab
// and both browsers).
const fixture = new URL('./fixtures/webrtc-turn.yaml', import.meta.url).pathname;

describe.skipIf(!isRoot)('webrtc calls through a real TURN server (coturn)', () => {
  it('connects over a relay candidate, coturn allocates, no audio is lost', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture, '--out', out, '--quiet'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const s: RunSummary = readSummary(out);
    const all = s.workloads.find((w) => w.name === 'call')!.scopes.find((p) => p.phase === null)!;
    // The caller's selected pair starts at its relay candidate (getStats), once.
    expect(all.protocols).toEqual({ 'udp relay': 1 });
    expect(all.failures).toBe(0);
    expect(all.connect.p50!).toBeLessThan(5e9);
    const why = JSON.stringify(all.directions.map((d) => d.rtc));
    for (const d of ['up', 'down'] as const) {
      const a = all.directions.find((x) => x.dir === d)!.rtc!.audio!;
      expect(a.packets_received, why).toBeGreaterThan(150);
      expect(a.loss, why).toBeLessThanOrEqual(0.005);
    }
    // coturn itself logged the allocation the caller made, on the relay host's address
    const compiled = JSON.parse(readFileSync(join(out, 'compiled.json'), 'utf8')) as {
      hosts: { name: string; address: string }[];
    };
    const relay = compiled.hosts.find((h) => h.name === 'relay')!.address;
    // (agent logs go to stderr, not to the measurements)
    expect(r.stderr).toContain(`[server] turnserver udp ${relay}:3478: allocation 1\n`);
  }, 90_000);
});

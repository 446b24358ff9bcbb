import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { readSummary, tmpOut } from '../run/helpers.js';

// Messengers' fallback when a censor blocks UDP calls: the caller reaches its TURN server
// over TCP (or TLS) and the relay carries the call. One run of 16 s with every UDP packet
// between client and server blackholed and three calls: over TURN/TCP, TURN/TLS and
// TURN/UDP (~25 s with the lab and both browsers).
const fixture = new URL('./fixtures/webrtc-turn-tcp.yaml', import.meta.url).pathname;

function all(s: RunSummary, name: string) {
  return s.workloads.find((w) => w.name === name)!.scopes.find((p) => p.phase === null)!;
}

describe.skipIf(!isRoot)('webrtc calls relayed over TURN/TCP and TURN/TLS', () => {
  it('connect through a relay over TCP and TLS with UDP blocked; the UDP relay fails', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture, '--out', out, '--quiet'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    for (const [name, via] of [
      ['tcp-call', 'tcp'],
      ['tls-call', 'tls'],
    ] as const) {
      const call = all(s, name);
      const why = JSON.stringify({ name, call });
      // The caller's selected pair starts at a relay candidate reached over `via`, once.
      expect(call.protocols, why).toEqual({ [`${via} relay`]: 1 });
      expect(call.failures, why).toBe(0);
      expect(call.connect.p50!, why).toBeLessThan(5e9);
      for (const d of ['up', 'down'] as const) {
        const a = call.directions.find((x) => x.dir === d)!.rtc!.audio!;
        // ~50 Opus packets a second each way for the 10-14 s the call is up, none lost:
        // TCP retransmits what the lab would lose, and this lab loses nothing on TCP.
        expect(a.packets_received, why).toBeGreaterThan(300);
        expect(a.loss, why).toBeLessThanOrEqual(0.005);
      }
    }
    // Over UDP the caller gathers no relay candidate: the call never connects and the
    // failure (10 s after it was placed) is counted.
    const udp = all(s, 'udp-call');
    expect(udp.connect.count, JSON.stringify(udp)).toBe(0);
    expect(udp.failures, JSON.stringify(udp)).toBeGreaterThanOrEqual(1);
    // coturn itself logged the allocations, each on its own listener of the relay host.
    const compiled = JSON.parse(readFileSync(join(out, 'compiled.json'), 'utf8')) as {
      hosts: { name: string; address: string }[];
    };
    const relay = compiled.hosts.find((h) => h.name === 'relay')!.address;
    expect(r.stderr).toContain(`[server] turnserver tcp ${relay}:3478: allocation 1\n`);
    expect(r.stderr).toContain(`[server] turnserver tls ${relay}:5349: allocation 1\n`);
  }, 90_000);
});

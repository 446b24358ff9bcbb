/**
 * Every registered protocol proves its row's `loopback` case across a clear lab: one
 * `qoslab run` with a workload per protocol (a port each, as the golden registry
 * scenario has), each judged by what its row says it measures. A new protocol is in this
 * run by being in the registry; a trait its agent does not live up to fails here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { DirectionStats, RunSummary, ScopeStats } from '../../src/record/summary.js';
import { PROTOCOL_NAMES, PROTOCOLS } from '../../src/scenario/protocols/index.js';
import type { Measures } from '../../src/scenario/protocols/protocol.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { readSummary, tmpOut } from '../run/helpers.js';

/**
 * 12 s: Chromium's call and page connect 1-3 s in on a loaded machine, and message
 * deadlines (5 s by default) leave the first 7 s judged.
 */
const DURATION = '12s';

function scenario(): string {
  const workloads = PROTOCOL_NAMES.filter((p) => PROTOCOLS[p].agent === true).map(
    (protocol, i) => ({
      ...PROTOCOLS[protocol].loopback,
      name: protocol,
      host: 'peer',
      protocol,
      port: 20000 + i,
    }),
  );
  return stringify({
    version: 1,
    name: 'every-protocol',
    duration: DURATION,
    // A DNS name: TLS workloads and Chromium's QUIC origin need one.
    hosts: { peer: { names: ['peer.example.lab'] } },
    workloads,
  });
}

interface Judged {
  scope: ScopeStats;
  both: DirectionStats;
  dirs: DirectionStats[];
}

/** What a clear lab must show, by what a protocol measures. */
const PROOF: Record<Measures, (w: Judged, why: string) => void> = {
  messages: ({ both, dirs }, why) => {
    expect(both.counted, why).toBeGreaterThan(10);
    for (const d of dirs) expect(d.delivery, `${why} ${d.dir}`).toBe(1);
  },
  'voice-frames': ({ both, dirs }, why) => {
    expect(both.counted, why).toBeGreaterThan(100);
    for (const d of dirs) {
      expect(d.delivery, `${why} ${d.dir}`).toBe(1);
      expect(d.voice?.loss, `${why} ${d.dir}`).toBe(0);
    }
    expect(both.voice!.mos, why).toBeGreaterThan(4);
  },
  transfers: ({ scope, both }, why) => {
    expect(both.counted, why).toBeGreaterThan(1);
    expect(both.delivery, why).toBe(1);
    expect(both.goodput_bps, why).toBeGreaterThan(0);
    expect(scope.stalled.count, why).toBe(0);
  },
  'webrtc-stats': ({ both }, why) => {
    expect(both.rtc?.audio?.packets_received, why).toBeGreaterThan(100);
    expect(both.voice!.loss, why).toBeLessThanOrEqual(0.005);
  },
};

describe.skipIf(!isRoot)('every registered protocol on a clear lab', () => {
  it('delivers its loopback case as its row says it measures', async () => {
    const dir = tmpDir('qoslab-protocols-');
    const file = join(dir, 'every-protocol.yaml');
    writeFileSync(file, scenario());
    const out = tmpOut();
    const r = await qoslab(['run', file, '--out', out, '--quiet'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const s: RunSummary = readSummary(out);
    const run = PROTOCOL_NAMES.filter((p) => PROTOCOLS[p].agent === true);
    expect(s.workloads.map((w) => w.name)).toEqual(run);
    for (const w of s.workloads) {
      const scope = w.scopes.find((x) => x.phase === null)!;
      const both = scope.directions.find((d) => d.dir === 'both')!;
      const dirs = scope.directions.filter((d) => d.dir !== 'both');
      const measures = PROTOCOLS[w.protocol as keyof typeof PROTOCOLS].measures;
      const why = `${w.name} (${measures}): ${JSON.stringify(both)}`;
      expect(scope.failures, why).toBe(0);
      expect(dirs.length, why).toBeGreaterThan(0);
      PROOF[measures]({ scope, both, dirs }, why);
      // Its `connects` trait, both ways: a connecting protocol recorded its connections;
      // one that opens none (a DNS lookup, voice frames on an unconnected socket) none.
      const connects = PROTOCOLS[w.protocol as keyof typeof PROTOCOLS].connects;
      if (connects) expect(scope.connect.count, why).toBeGreaterThan(0);
      else expect(scope.connect.count, why).toBe(0);
    }
  }, 150_000);
});

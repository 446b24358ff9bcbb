import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { readSummary, tmpOut } from '../run/helpers.js';

// A video call (Opus + VP8 between two headless Chromiums) whose UDP is blackholed for
// 3 s and then restored (~25 s with the lab and both browsers). What a measurement must
// not get wrong here: the stacks' own RTP loss counts nothing during the cut (the
// receiver sees no gap until packets return, and counts it then, in the next phase), and
// Chromium's freeze counter waits for the next frame.
const fixture = new URL('./fixtures/webrtc-video.yaml', import.meta.url).pathname;

function both(s: RunSummary, phase: string) {
  const scope = s.workloads.find((w) => w.name === 'call')!.scopes.find((p) => p.phase === phase)!;
  return scope.directions.find((d) => d.dir === 'both')!;
}

describe.skipIf(!isRoot)('a webrtc video call cut for 3 s', () => {
  it('reads the cut as no frames, no delivery and no voice; the picture and the call come back', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture, '--out', out, '--quiet'], 120_000);
    // The fixture's own expectations: >= 10 frames/s clear, < 3 frames/s cut.
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    const why = JSON.stringify(s.workloads[0]!.scopes.map((p) => [p.phase, p.directions.at(-1)]));
    const clear = both(s, 'clear');
    const cut = both(s, 'cut');
    const restored = both(s, 'restored');
    expect(clear.rtc!.video!.video!.frames_decoded, why).toBeGreaterThan(40);
    expect(clear.delivery!, why).toBeGreaterThan(0.99);
    // Next to nothing: the samples at the switches are taken by the agents' own timers,
    // a few ms off the instant the run applied the policy (one loaded CI run counted a
    // frame in flight at the cut; another, sampling 5 ms late, the burst after the restore).
    expect(cut.rtc!.video!.video!.frames_per_second!, why).toBeLessThan(3);
    // Sent by the peers, never received: not "0 % lost" as the receivers' RTP count says.
    expect(cut.sent, why).toBeGreaterThan(300);
    expect(cut.delivery!, why).toBeLessThan(0.2);
    for (const d of ['up', 'down'] as const) {
      const dir = s.workloads[0]!.scopes.find((p) => p.phase === 'cut')!.directions.find(
        (x) => x.dir === d,
      )!;
      expect(dir.voice!.loss, why).toBeGreaterThan(0.8);
      expect(dir.voice!.mos, why).toBeLessThan(2);
    }
    // Back: video decodes again, and Chromium books the freeze (at least the cut's 3 s)
    // once the next frame arrives; the late-counted RTP gap does not lower delivery here.
    expect(restored.rtc!.video!.video!.frames_decoded, why).toBeGreaterThan(20);
    expect(restored.rtc!.video!.video!.freeze_count, why).toBeGreaterThanOrEqual(1);
    expect(restored.rtc!.video!.video!.freeze_ns, why).toBeGreaterThanOrEqual(3e9);
    expect(restored.delivery!, why).toBeGreaterThan(0.98);
  }, 120_000);
});

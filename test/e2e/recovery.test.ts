import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MeasureEvent } from '../../src/record/events.js';
import type { RunSummary } from '../../src/record/summary.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { readSummary, tmpOut } from '../run/helpers.js';

// Connections that die without closing, as apps live with them: a freeze the app must
// notice by itself, a path that disappears and comes back, a call whose UDP is blackholed,
// in real labs. Four labs run at once (they mostly wait on timers): ~100 s in all, the
// 90 s run of the freeze the longest. QOSLAB_SOAK=1 also compares a 30 s and a 120 s run
// (about two and a half minutes more).
const fixture = (name: string) => new URL(`./fixtures/${name}.yaml`, import.meta.url).pathname;

async function run(name: string, extra: string[] = []) {
  const out = tmpOut();
  const r = await qoslab(['run', fixture(name), '--out', out, '--quiet', ...extra], 240_000);
  expect(r.code, r.stderr).toBe(0);
  const events = readFileSync(join(out, 'events.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MeasureEvent);
  return { summary: readSummary(out), events };
}

const pct = (r: number | null | undefined) => (r == null ? '-' : `${(r * 100).toFixed(1)} %`);

function whole(s: RunSummary, name: string) {
  const scope = s.workloads.find((w) => w.name === name)!.scopes.find((p) => p.phase === null)!;
  return { scope, both: scope.directions.find((d) => d.dir === 'both')! };
}

/** Delivery of `app` and `plain` in a run of the freeze scenario of `seconds`. */
async function frozen(seconds: number) {
  const { summary, events } = await run('freeze-recover', ['--duration', `${seconds}s`]);
  return {
    app: whole(summary, 'app'),
    plain: whole(summary, 'plain'),
    detects: events.filter((e) => e.ev === 'detect' && e.w === 'app'),
  };
}

function agreesAcrossLengths(short: Awaited<ReturnType<typeof frozen>>, long: typeof short) {
  const why = JSON.stringify({ short: short.app.both.delivery, long: long.app.both.delivery });
  // The app's delivery is the network's, not the run's length: within 5 points...
  expect(Math.abs(short.app.both.delivery! - long.app.both.delivery!), why).toBeLessThanOrEqual(
    0.05,
  );
  // ...while a socket that never notices reads less the longer it runs.
  expect(short.plain.both.delivery! - long.plain.both.delivery!).toBeGreaterThan(0.1);
}

describe.skipIf(!isRoot)('connections that die without closing', () => {
  // One set of labs, several claims about them.
  let runs: Promise<
    [
      Awaited<ReturnType<typeof frozen>>,
      Awaited<ReturnType<typeof frozen>>,
      Awaited<ReturnType<typeof run>>,
      Awaited<ReturnType<typeof run>>,
    ]
  >;
  beforeAll(() => {
    runs = Promise.all([frozen(30), frozen(90), run('outbox-return'), run('webrtc-fallback')]);
    // Each test awaits it; an unhandled rejection here would be reported twice.
    runs.catch(() => {});
  });

  it('a freeze is detected within the keepalive and reconnected, and delivery does not depend on run length', async () => {
    const [short, long] = await runs;
    for (const [seconds, f] of [
      [30, short],
      [90, long],
    ] as const) {
      console.log(
        `freeze ${seconds} s: app delivery ${pct(f.app.both.delivery)}, ${f.app.scope.reconnects} reconnects, ` +
          `detected ${f.detects.map((d) => (d.ev === 'detect' ? (d.silent_ns / 1e9).toFixed(1) : '')).join('/')} s after the last frame, ` +
          `recovered within ${(f.app.scope.session!.recover.max! / 1e9).toFixed(1)} s; plain delivery ${pct(f.plain.both.delivery)}`,
      );
      // Each freeze noticed: at most a ping interval plus its timeout (1 + 1 s) after the
      // last frame, plus the check's quarter second.
      expect(f.detects.length).toBeGreaterThanOrEqual(2);
      for (const d of f.detects) {
        expect(d.ev === 'detect' && d.cause).toBe('keepalive');
        expect(d.ev === 'detect' && d.silent_ns).toBeLessThanOrEqual(2.5e9);
      }
      expect(f.app.scope.reconnects).toBeGreaterThanOrEqual(f.detects.length);
      expect(f.app.scope.session!.recover.max!).toBeLessThan(4e9);
      expect(f.plain.scope.reconnects).toBe(0);
    }
    agreesAcrossLengths(short, long);
  }, 360_000);

  it('an outbox delivers every message of every protocol once the path returns, none twice', async () => {
    const [, , outbox] = await runs;
    for (const name of ['ws', 'h2', 'lp', 'mq', 'tf']) {
      const sends = outbox.events.filter((e) => e.ev === 'send' && e.w === name);
      const recvs = outbox.events.filter((e) => e.ev === 'recv' && e.w === name);
      const key = (e: MeasureEvent) =>
        e.ev === 'send' || e.ev === 'recv' ? `${e.dir} ${e.c} ${e.seq}` : '';
      const arrived = new Map<string, number>();
      for (const r of recvs) arrived.set(key(r), (arrived.get(key(r)) ?? 0) + 1);
      const missing = sends.filter((s) => !arrived.has(key(s))).map(key);
      const twice = [...arrived].filter(([, n]) => n > 1).map(([k]) => k);
      // What the session did, for a failure to tell its story (connects, detects, fails).
      const story = outbox.events
        .filter((e) => e.w === name && (e.ev === 'connect' || e.ev === 'detect' || e.ev === 'fail'))
        .map((e) => `${e.ev}@${(e.t / 1e9).toFixed(2)}`)
        .join(' ');
      const why = `${name}: ${sends.length} sent, missing ${missing.slice(0, 5)}, twice ${twice.slice(0, 5)}; ${story}`;
      expect(sends.length, why).toBeGreaterThan(200); // 10 a second each way for 15 s
      expect(missing, why).toEqual([]);
      expect(twice, why).toEqual([]);
      // The cut was noticed, and what had been written into it went again.
      const s = whole(outbox.summary, name).scope.session!;
      expect(s.detects, why).toBeGreaterThanOrEqual(1);
      expect(s.retries, why).toBeGreaterThan(0);
      expect(s.gave_up, why).toBe(0);
      console.log(`outbox ${why}; ${s.detects} detects, ${s.retries} resends`);
    }
  }, 360_000);

  it('a call moves from direct to TURN/TCP when UDP is blackholed, and sounds again', async () => {
    const [, , , call] = await runs;
    const c = whole(call.summary, 'call').scope.session!;
    const connects = call.events.filter((e) => e.ev === 'connect' && e.w === 'call');
    const why = JSON.stringify({ session: c, connects });
    expect(
      connects.map((e) => e.ev === 'connect' && e.transport),
      why,
    ).toEqual(['direct', 'turn-tcp:443']);
    expect(c.ended_on, why).toBe('turn-tcp:443');
    // No media for 3 s, TURN/UDP given a call attempt's 8 s, then TURN/TCP connecting:
    // within the trigger, the attempt, the sampling second and a relayed connect.
    expect(c.recover.max!, why).toBeLessThan(3e9 + 8e9 + 1e9 + 4e9);
    expect(c.detects, why).toBe(1);
    const mos = (phase: string) =>
      call.summary.workloads[0]!.scopes.find((s) => s.phase === phase)!.directions.find(
        (d) => d.dir === 'both',
      )!.voice!.mos;
    expect(mos('open'), why).toBeGreaterThan(3.5);
    expect(mos('relayed'), why).toBeGreaterThan(3.5);
    expect(mos('blocked'), why).toBeLessThan(mos('relayed'));
    console.log(
      `call: ${connects.map((e) => (e.ev === 'connect' ? e.transport : '')).join(' -> ')}, recovered in ` +
        `${(c.recover.max! / 1e9).toFixed(1)} s; MOS open ${mos('open')?.toFixed(2)}, blocked ` +
        `${mos('blocked')?.toFixed(2)}, relayed ${mos('relayed')?.toFixed(2)}`,
    );
  }, 360_000);

  it.skipIf(process.env.QOSLAB_SOAK !== '1')(
    'soak: a 30 s and a 120 s run of the freeze agree within 5 points',
    async () => {
      const [short, long] = await Promise.all([frozen(30), frozen(120)]);
      agreesAcrossLengths(short, long);
    },
    400_000,
  );
});

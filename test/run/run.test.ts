import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { CLI, isRoot, qoslab } from '../helpers/cli.js';
import {
  fixture,
  missingFiles,
  namespacesOf,
  readSummary,
  startQoslab,
  tmpOut,
} from './helpers.js';

describe('qoslab run (no lab needed)', () => {
  it('rejects workloads that cannot share a port, located, with exit 2', async () => {
    const file = new URL(
      '../scenario/fixtures/broken/workload-port-conflict.yaml',
      import.meta.url,
    );
    const r = await qoslab(['run', file.pathname, '--out', tmpOut()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /workload-port-conflict\.yaml:12:\d+ +workloads\[4\] +'quic' \(http3\) needs udp port 443 of host 'whatsapp', which 'call' already serves/,
    );
  });

  it('names the programs a scenario needs and the machine lacks, before any lab (exit 3, JUnit)', () => {
    const out = tmpOut();
    const junit = `${out}.junit.xml`;
    const r = spawnSync(
      process.execPath,
      [CLI, 'run', 'ru-2022-tspu-quic-v1-drop', '--out', out, '--junit', junit],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: '/nonexistent', QOSLAB_CHROMIUM: '/nonexistent/chromium' },
      },
    );
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      "qoslab: scenario 'ru-2022-tspu-quic-v1-drop' needs programs this machine does not have",
    );
    expect(r.stderr).toMatch(
      /^ {2}- caddy \(the HTTP\/3 server of http3 workloads\): command not found: caddy; needed by /m,
    );
    expect(r.stderr).toMatch(
      /^ {2}- chromium \(.*\): command not found: \/nonexistent\/chromium; needed by /m,
    );
    expect(r.stderr).toContain('install: apt-get install caddy chromium');
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(junit, 'utf8')).toContain('needs programs this machine does not have');
  });

  it('rejects a bad --duration with exit 2', async () => {
    const r = await qoslab(['run', fixture('all-protocols'), '--duration', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--duration must be a positive duration/);
  });
});

// These build real labs: root only (CI runs as root). One at a time: the machine is small.
describe.skipIf(!isRoot)('qoslab run across a lab', () => {
  it('delivers every message of every protocol across an unimpaired lab and writes all results', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('all-protocols'), '--out', out, '--json'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    expect(missingFiles(out)).toEqual([]);
    const summary = readSummary(out);
    expect(JSON.parse(r.stdout)).toEqual(summary);
    expect(summary.status).toBe('completed');
    for (const w of summary.workloads) {
      const all = w.scopes.find((s) => s.phase === null)!;
      const both = all.directions.find((d) => d.dir === 'both')!;
      expect([w.name, both.counted > 0, both.delivery, all.failures]).toEqual([w.name, true, 1, 0]);
    }
    expect(summary.expectations).toMatchObject([{ ok: true, measured: 1 }]);
    expect(namespacesOf(summary.lab_id)).toEqual([]);
  });

  it('exits 1 when an expectation fails, and shows the measured value', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('failing-expect'), '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/ok +ws\.delivery >= 99% +\(measured 100%\)/);
    expect(r.stdout).toMatch(/FAIL ws\.latency\.p50 < 1us +\(measured [\d.]+ (us|ms)\)/);
    expect(readSummary(out).ok).toBe(false);
  });

  it('stops on SIGINT: status interrupted, valid summary, exit 130, no lab left', async () => {
    const out = tmpOut();
    const run = startQoslab(['run', fixture('long'), '--out', out], /phase first/);
    await run.matched;
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(missingFiles(out)).toEqual([]);
    const summary = readSummary(out);
    expect(summary.status).toBe('interrupted');
    expect(summary.observed_ns).toBeLessThan(30e9);
    const ws = summary.workloads.find((w) => w.name === 'ws')!;
    expect(ws.scopes.find((s) => s.phase === 'first')!.directions.at(-1)!.sent).toBeGreaterThan(0);
    expect(summary.lab_id).toMatch(/^[0-9a-f]+$/);
    expect(namespacesOf(summary.lab_id)).toEqual([]);
  });

  it('runs the default scenario: in the throttled phase the throttled apps suffer, the state app does not, told per app', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', '--duration', '40s', '--out', out], 150_000);
    expect([0, 1]).toContain(r.code);
    expect(missingFiles(out)).toEqual([]);
    const summary = readSummary(out);
    expect(summary.status).toBe('completed');
    expect(summary.duration_ns).toBe(40e9);
    expect(summary.phases.map((p) => p.name)).toEqual(['baseline', 'throttled']);
    const scope = (workload: string, phase: string) =>
      summary.workloads.find((w) => w.name === workload)!.scopes.find((s) => s.phase === phase)!;
    const both = (workload: string, phase: string) =>
      scope(workload, phase).directions.find((d) => d.dir === 'both')!;
    // Every workload comes from its app's profile.
    expect(summary.workloads.map((w) => [w.name, w.app, w.use])).toEqual([
      ['wa-text', 'whatsapp', 'text'],
      ['wa-photo', 'whatsapp', 'media'],
      ['wa-call', 'whatsapp', 'call'],
      ['tg-text', 'telegram', 'text'],
      ['tg-call', 'telegram', 'call'],
      ['max-text', 'max', 'text'],
      ['max-call', 'max', 'call'],
    ]);
    // Throttled: WhatsApp's photos slow to the shaper, its calls and Telegram's sound poor;
    // the state app's calls do not, and its text is always connected.
    expect(both('wa-photo', 'throttled').goodput_bps!).toBeLessThan(
      both('wa-photo', 'baseline').goodput_bps! / 2,
    );
    expect(both('wa-call', 'throttled').voice!.mos).toBeLessThan(3);
    expect(both('tg-call', 'throttled').voice!.mos).toBeLessThan(3);
    expect(both('max-call', 'throttled').voice!.mos).toBeGreaterThan(3.5);
    expect(both('max-text', 'throttled').delivery).toBe(1);
    expect(scope('max-text', 'throttled').session!.connecting).toBe(0);
    for (const app of ['wa-call', 'tg-call', 'max-call']) {
      expect(scope(app, 'baseline').session!.setup.connected, app).toBe(1);
    }
    // The terminal says it in the users' terms, one row per app and phase.
    expect(r.stdout).toMatch(/what users lived with:\nAPP +PHASE +MSG P50/);
    expect(r.stdout).toMatch(/^whatsapp +throttled /m);
    expect(r.stdout).toMatch(/^max +throttled /m);
  }, 150_000);
});

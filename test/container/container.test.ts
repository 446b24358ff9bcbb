import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/cli.js';

/**
 * The image in a real container runtime, with exactly the `docker run` flags README "CI
 * and containers" documents (read from the README itself). Opt-in: QOSLAB_TEST_CONTAINER=1
 * (root, Debian's docker.io installed). It starts its own dockerd on a private socket and
 * data root and stops it by PID afterwards; with no image registry reachable it builds
 * the base image with scripts/container/make-base-image.sh. Measured here on 2 cores: base
 * image about 2 min (debootstrap), image about 2 min 45 s (mostly the Rust build), the
 * tests 20 s; later runs reuse both images.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const enabled = isRoot && process.env.QOSLAB_TEST_CONTAINER === '1';
const SOCKET = '/run/qoslab-docker.sock';
const IMAGE = 'qoslab:test';
const env = { ...process.env, DOCKER_HOST: `unix://${SOCKET}` };
let dockerd: ChildProcess | undefined;
let tmp = '';

function docker(args: string[], timeout = 120_000) {
  return spawnSync('docker', args, { env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
}

function readmeFlags(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## CI and containers'));
  const line = /^docker run .*$/m.exec(section)?.[0] ?? '';
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  // `docker run FLAGS... qoslab ARGS`: the flags, without the results mount (the test's own).
  const flags = words.slice(2, words.indexOf('qoslab'));
  const v = flags.indexOf('-v');
  if (v >= 0) flags.splice(v, 2);
  return flags;
}

const FLAGS = readmeFlags();

/** `docker run` with the documented flags (minus `drop`), results in tmp. */
function qoslabIn(args: string[], extra: string[] = [], drop?: string) {
  const flags = [...FLAGS];
  if (drop !== undefined) flags.splice(flags.indexOf(drop) - 1, 2);
  return docker(['run', ...flags, ...extra, '-v', `${tmp}:/results`, IMAGE, ...args], 180_000);
}

async function startDockerd(): Promise<void> {
  if (docker(['version'], 10_000).status === 0) return;
  dockerd = spawn(
    'dockerd',
    [
      '-H',
      `unix://${SOCKET}`,
      '--data-root',
      '/var/lib/qoslab-docker',
      '--exec-root',
      '/run/qoslab-docker-exec',
      '--pidfile',
      '/run/qoslab-docker.pid',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (docker(['version'], 10_000).status === 0) return;
  }
  throw new Error('dockerd did not start in 30 s');
}

describe.skipIf(!enabled)('the container image (QOSLAB_TEST_CONTAINER=1)', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-container-'));
    chmodSync(tmp, 0o777);
    copyFileSync(join(ROOT, 'test/sweep/fixtures/sweep-small.yaml'), join(tmp, 'short.yaml'));
    await startDockerd();
    if (docker(['image', 'inspect', 'node:20-bookworm-slim'], 10_000).status !== 0) {
      const base = spawnSync('sh', [join(ROOT, 'scripts/container/make-base-image.sh')], {
        env,
        encoding: 'utf8',
        timeout: 900_000,
      });
      expect(base.status, base.stdout + base.stderr).toBe(0);
    }
    const build = spawnSync('docker', ['build', '--network', 'host', '-t', IMAGE, ROOT], {
      env,
      encoding: 'utf8',
      timeout: 1_500_000,
      maxBuffer: 64 << 20,
    });
    expect(build.status, build.stdout.slice(-3000) + build.stderr.slice(-3000)).toBe(0);
  }, 2_400_000);

  afterAll(() => {
    if (dockerd?.pid !== undefined) process.kill(dockerd.pid, 'SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('documents least privilege: all capabilities dropped, three added, a read-only root', () => {
    expect(FLAGS).toEqual(
      expect.arrayContaining(['--cap-drop', 'ALL', '--read-only', '--device', '/dev/net/tun']),
    );
    expect(FLAGS.filter((f, i) => FLAGS[i - 1] === '--cap-add')).toEqual([
      'NET_ADMIN',
      'SYS_ADMIN',
      'NET_BIND_SERVICE',
    ]);
  });

  it('doctor passes with exactly the documented flags', () => {
    const r = qoslabIn(['doctor']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+network namespaces/m);
  });

  it('shell -- ping reaches the server (NET_RAW added for ping, as documented)', () => {
    const r = qoslabIn(
      ['shell', '--', 'ping', '-c', '2', '-W', '2', 'server.lab'],
      ['--cap-add', 'NET_RAW'],
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 packets transmitted, 2 received/);
  });

  it('a short run exits 0 and its results are on the host', () => {
    const r = qoslabIn([
      'run',
      '/results/short.yaml',
      '--duration',
      '2s',
      '--out',
      '/results/run',
      '--quiet',
      '--junit',
      '/results/junit.xml',
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(tmp, 'run', 'summary.json'), 'utf8')) as {
      status: string;
    };
    expect(summary.status).toBe('completed');
    expect(existsSync(join(tmp, 'junit.xml'))).toBe(true);
    expect(statSync(join(tmp, 'run', 'report.html')).size).toBeGreaterThan(1000);
  });

  for (const cap of ['NET_ADMIN', 'SYS_ADMIN', 'NET_BIND_SERVICE']) {
    it(`without ${cap}: doctor and run exit 3 naming CAP_${cap}`, () => {
      const d = qoslabIn(['doctor'], [], cap);
      expect(d.status).toBe(3);
      expect(d.stdout).toMatch(new RegExp(`FAIL privileges\\s+missing .*CAP_${cap}`));
      const r = qoslabIn(
        ['run', '/results/short.yaml', '--duration', '2s', '--out', `/results/no-${cap}`],
        [],
        cap,
      );
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(`CAP_${cap}`);
    });
  }
});

import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isRoot, pidsWith, qoslab, qoslabUntil, resourcesOf } from '../helpers/cli.js';

// These tests build real labs: they need root (CI runs as root).
const e2e = describe.skipIf(!isRoot);

/** A client command that reports the run id first, so the test can look for leftovers. */
const SHOW_ID = 'echo "run-id=$QOSLAB_RUN_ID";';
const runIdIn = (text: string) => /run-id=([0-9a-f]{6})/.exec(text)?.[1] ?? 'no-id-printed';

/** A sleep whose command line is unique to this test run, to find it in the process table. */
const uniqueSleep = () => `sleep ${3000 + Math.floor(Math.random() * 600)}.${process.pid}`;

e2e('qoslab shell', () => {
  it('carries ping over IPv4 and IPv6 and removes the lab afterwards', async () => {
    const r = await qoslab([
      'shell',
      '--',
      'sh',
      '-c',
      `${SHOW_ID} ping -4 -c 3 -i 0.2 -W 2 server.lab && ping -6 -c 3 -i 0.2 -W 2 server.lab`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /3 packets transmitted, 3 received.*\n[\s\S]*3 packets transmitted, 3 received/,
    );
    expect(r.stdout).toContain('198.19.0.1');
    expect(r.stdout).toContain('fd71:6c61:6200:2::1');
    expect(resourcesOf(runIdIn(r.stdout))).toEqual([]);
  });

  it.each([['4'], ['6']])(
    'carries iperf3 TCP over IPv%s with the server command prefixed',
    async (family) => {
      const r = await qoslab([
        'shell',
        '--server',
        'iperf3 -s -1',
        '--',
        'sh',
        '-c',
        `${SHOW_ID} iperf3 -${family} -c server.lab -t 2`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/sender/);
      expect(r.stdout).toMatch(/\[server\] .*Server listening on 5201/);
      expect(r.stdout).toMatch(/\[server\] .*receiver/);
      expect(resourcesOf(runIdIn(r.stdout))).toEqual([]);
    },
  );

  it('a server command that exits before it listens: exit 3, its output shown, no client', async () => {
    const r = await qoslab([
      'shell',
      '--server',
      'echo boom >&2; exit 5',
      '--',
      'sh',
      '-c',
      'echo CLIENT-RAN',
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('[server] boom');
    expect(r.stderr).toMatch(/the server command exited with code 5 before it listened/);
    expect(r.stdout).not.toContain('CLIENT-RAN');
  });

  it('a server command that never listens: exit 3 after --ready-timeout', async () => {
    const r = await qoslab([
      'shell',
      '--server',
      uniqueSleep(),
      '--ready-timeout',
      '1',
      '--',
      'sh',
      '-c',
      'echo CLIENT-RAN',
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/did not listen within 1\.0 s/);
    expect(r.stdout).not.toContain('CLIENT-RAN');
  });

  it('says nothing about a server command that qoslab stopped itself', async () => {
    // iperf3 -s serves forever: qoslab ends it after the client; its exit is no news.
    const r = await qoslab([
      'shell',
      '--server',
      'iperf3 -s',
      '--',
      'sh',
      '-c',
      'iperf3 -c server.lab -t 1 >/dev/null && echo CLIENT-DONE',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('CLIENT-DONE');
    expect(r.stdout).toMatch(/\[server\] .*Server listening on 5201/);
    expect(r.stdout + r.stderr).not.toMatch(/\[server\] exited/);
  });

  it("passes the client command's exit code through", async () => {
    const r = await qoslab(['shell', '--', 'sh', '-c', 'exit 7']);
    expect(r.code).toBe(7);
  });

  it('gives each namespace only lo and its TUN, with every route into the TUN', async () => {
    const show = (side: string, n: string) =>
      `echo "== ${side} links"; ip ${n} -br link show; echo "== ${side} routes"; ` +
      `ip ${n} route show; ip ${n} -6 route show;`;
    const r = await qoslab([
      'shell',
      '--',
      'sh',
      '-c',
      `${SHOW_ID} ${show('client', '')} ${show('server', '-n "$QOSLAB_SERVER_NS"')} echo "== env"; ` +
        'env | grep ^QOSLAB_ | sort',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const sections = new Map<string, string[]>();
    let current = '';
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('== ')) sections.set((current = line.slice(3)), []);
      else if (line.trim().length > 0) sections.get(current)?.push(line);
    }
    const section = (name: string) => sections.get(name) ?? [];
    for (const [side, tun] of [
      ['client', 'qlc0'],
      ['server', 'qls0'],
    ] as const) {
      const links = section(`${side} links`).map((l) => l.split(/\s+/)[0]);
      expect(links.sort(), side).toEqual(['lo', tun].sort());
      const routes = section(`${side} routes`);
      // default (v4), default (v6) and the v6 address route at least.
      expect(routes.length, side).toBeGreaterThanOrEqual(2);
      for (const route of routes) expect(route, side).toContain(`dev ${tun}`);
    }
    const env = section('env');
    expect(env).toContain('QOSLAB_CLIENT_ADDR=198.18.0.1');
    expect(env).toContain('QOSLAB_SERVER_ADDR=198.19.0.1');
    expect(env).toContain('QOSLAB_CLIENT_ADDR6=fd71:6c61:6200:1::1');
    expect(env).toContain('QOSLAB_SERVER_ADDR6=fd71:6c61:6200:2::1');
  });

  it.each([['SIGINT'], ['SIGTERM']] as const)(
    '%s during shell exits 130 and leaves nothing behind',
    async (sig) => {
      const serverSleep = uniqueSleep();
      const clientSleep = uniqueSleep();
      const run = await qoslabUntil(
        [
          'shell',
          '--ready-timeout',
          '0',
          '--server',
          serverSleep,
          '--',
          'sh',
          '-c',
          `${SHOW_ID} ${clientSleep}`,
        ],
        /run-id=([0-9a-f]{6})/,
      );
      const id = run.match[1]!;
      expect(resourcesOf(id).length).toBeGreaterThan(0);
      run.child.kill(sig);
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(resourcesOf(id)).toEqual([]);
      expect(pidsWith(serverSleep)).toEqual([]);
      expect(pidsWith(clientSleep)).toEqual([]);
    },
  );

  it('after SIGKILL, `qoslab cleanup` removes namespaces, files and processes', async () => {
    const serverSleep = uniqueSleep();
    const run = await qoslabUntil(
      [
        'shell',
        '--ready-timeout',
        '0',
        '--server',
        serverSleep,
        '--',
        'sh',
        '-c',
        `${SHOW_ID} sleep 60`,
      ],
      /run-id=([0-9a-f]{6})/,
    );
    const id = run.match[1]!;
    // The server command starts just before the client; make sure it is there to be orphaned.
    for (let i = 0; i < 50 && pidsWith(serverSleep).length === 0; i++) await sleep(20);
    run.child.kill('SIGKILL');
    await run.done;
    expect(resourcesOf(id)).toContain(`netns qls-${id}`);
    expect(pidsWith(serverSleep).length).toBeGreaterThan(0);

    const dry = await qoslab(['cleanup', '--dry-run']);
    expect(dry.stdout).toContain(`would remove run ${id}`);
    expect(resourcesOf(id)).toContain(`netns qls-${id}`);

    const r = await qoslab(['cleanup']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed run ${id}`);
    expect(resourcesOf(id)).toEqual([]);
    expect(pidsWith(serverSleep)).toEqual([]);
  });

  it('cleanup leaves a live lab and unmarked ql namespaces alone', async () => {
    const stranger = `qlz-${process.pid}`;
    spawnSync('ip', ['netns', 'add', stranger]);
    try {
      const run = await qoslabUntil(
        ['shell', '--', 'sh', '-c', `${SHOW_ID} sleep 30`],
        /run-id=([0-9a-f]{6})/,
      );
      const id = run.match[1]!;
      const r = await qoslab(['cleanup']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`left run ${id} alone`);
      expect(r.stdout).toContain(stranger);
      expect(resourcesOf(id)).toContain(`netns qlc-${id}`);
      expect(resourcesOf(stranger)).toEqual([`netns ${stranger}`]);
      run.child.kill('SIGTERM');
      expect((await run.done).code).toBe(130);
      expect(resourcesOf(id)).toEqual([]);
    } finally {
      spawnSync('ip', ['netns', 'delete', stranger]);
    }
  });

  it('runs two labs at once without collisions', async () => {
    const one = () =>
      qoslab([
        'shell',
        '--server',
        'iperf3 -s -1',
        '--',
        'sh',
        '-c',
        `${SHOW_ID} iperf3 -c server.lab -t 2`,
      ]);
    const [a, b] = await Promise.all([one(), one()]);
    for (const r of [a, b]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/receiver/);
    }
    expect(runIdIn(a.stdout)).not.toBe(runIdIn(b.stdout));
    expect(resourcesOf(runIdIn(a.stdout))).toEqual([]);
    expect(resourcesOf(runIdIn(b.stdout))).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, isRoot, qoslab } from '../helpers/cli.js';

/**
 * Run the CLI as root stripped of every capability: what a container without --cap-add
 * gets. (Still uid 0, so it can read the checkout wherever CI cloned it; `nobody` could
 * not read a checkout inside a 0700 directory.)
 */
function unprivileged(args: string[]) {
  return spawnSync(
    'setpriv',
    [
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      process.execPath,
      CLI,
      ...args,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
}

describe.skipIf(!isRoot)('qoslab doctor', () => {
  it('passes every required check as root', async () => {
    const r = await qoslab(['doctor']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('All required checks passed');
    for (const name of [
      'privileges',
      '/dev/net/tun',
      'TUN devices',
      'iproute2',
      'network namespaces',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^ok\\s+${name.replace('/', '\\/')}\\s`, 'm'));
    }
  });

  it('reports JSON with every check', async () => {
    const r = await qoslab(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'linux',
        'node',
        'native core',
        'privileges',
        'TUN devices',
        'UDP offload',
        'rootless',
        'caddy',
        'coturn',
        'chromium',
        'dig',
      ]),
    );
  });

  it('fails with exit 3 and a fix when unprivileged', () => {
    const r = unprivileged(['doctor']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/^FAIL\s+privileges\s+missing CAP_NET_ADMIN, CAP_SYS_ADMIN/m);
    expect(r.stdout).toMatch(/fix: run qoslab as root/);
    expect(r.stdout).toContain('cannot host a lab');
  });

  it('makes `shell` exit 3 with the same advice and no stack trace when unprivileged', () => {
    const r = unprivileged(['shell', '--', 'true']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('qoslab: this machine cannot host a qoslab lab');
    expect(r.stderr).toContain('privileges: missing CAP_NET_ADMIN');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

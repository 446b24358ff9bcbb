import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot } from '../helpers/cli.js';
import { namespacesOf, readSummary } from '../run/helpers.js';

/**
 * Rootless mode as an ordinary user: an unused uid (no account needed) via setpriv, which
 * drops every capability. /dev/net/tun is 0600 on this machine; the test makes it 0666
 * (what most distributions ship) and restores its mode afterwards.
 *
 * The scenario is test/sweep/fixtures/sweep-small.yaml, not link-lossy-wifi: the library
 * file's two workloads clash on port 443 and `run` rejects it (exit 2) until that is fixed.
 */
const UID = 40123;
const SCENARIO = fileURLToPath(new URL('../sweep/fixtures/sweep-small.yaml', import.meta.url));
const TUN = '/dev/net/tun';
let tunMode = 0;
let tmp = '';
let createdEtcNetns = false;

/** `setpriv` as the test uid: a process without capabilities, as a login would have. */
const SETPRIV = ['--reuid', String(UID), '--regid', String(UID), '--clear-groups'];

function asUser(args: string[], timeout = 90_000) {
  return spawnSync('setpriv', [...SETPRIV, process.execPath, CLI, ...args], {
    encoding: 'utf8',
    timeout,
    cwd: tmp || undefined,
  });
}

/** The user must be able to read the checkout (CI may clone under a 0700 directory). */
function checkoutReadable(): boolean {
  if (!isRoot) return false;
  const read = `require('fs').readFileSync(${JSON.stringify(CLI)})`;
  return spawnSync('setpriv', [...SETPRIV, process.execPath, '-e', read]).status === 0;
}

const runnable = checkoutReadable();
if (isRoot && !runnable) console.warn(`rootless test skipped: uid ${UID} cannot read ${CLI}`);

describe.skipIf(!runnable)('rootless mode (an ordinary user)', () => {
  beforeAll(() => {
    // The documented one-time setup (`sudo mkdir /etc/netns`); a fresh machine may lack it.
    createdEtcNetns = !existsSync('/etc/netns');
    if (createdEtcNetns) mkdirSync('/etc/netns');
    tunMode = statSync(TUN).mode & 0o777;
    tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-rootless-'));
    chownSync(tmp, UID, UID);
  });

  afterAll(() => {
    chmodSync(TUN, tunMode);
    try {
      if (createdEtcNetns) rmdirSync('/etc/netns');
    } catch {
      // Not empty: a root lab started meanwhile owns entries there now.
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('doctor names the missing condition and its fix, exit 3', () => {
    chmodSync(TUN, 0o600);
    const r = asUser(['doctor']);
    expect(r.status, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(
      /^warn rootless: \/dev\/net\/tun for this user\s+not readable and writable \(EACCES\)$/m,
    );
    expect(r.stdout).toContain('fix: sudo chmod 0666 /dev/net/tun');
    expect(r.stdout).toMatch(/^ok\s+rootless: user namespaces\s+enabled/m);
    // run says the same: its advice lists the unmet rootless condition, not only "meet them".
    const run = asUser(['run', SCENARIO, '--duration', '1s', '--out', join(tmp, 'no-tun')]);
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toMatch(
      /^ {2}- rootless: \/dev\/net\/tun for this user: not readable and writable \(EACCES\) — fix: sudo chmod 0666/m,
    );
  });

  it('with /dev/net/tun accessible: doctor passes inside its own user namespace', () => {
    chmodSync(TUN, 0o666);
    const r = asUser(['doctor']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+rootless\s+active: a user namespace made by qoslab/m);
    expect(r.stdout).toMatch(/^ok\s+network namespaces\s/m);
  });

  it('`qoslab run` exits 0 and its results belong to the user; nothing is left on the host', () => {
    chmodSync(TUN, 0o666);
    const out = join(tmp, 'run');
    const r = asUser(['run', SCENARIO, '--duration', '2s', '--out', out, '--quiet']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const f of ['summary.json', 'events.ndjson', 'report.html']) {
      expect(statSync(join(out, f)).uid, f).toBe(UID);
    }
    // The lab's namespaces lived in a private /run/netns: the host's has none of them
    // (other labs may come and go on a shared machine, so only this lab's names count).
    const labId = readSummary(out).lab_id;
    expect(labId).toMatch(/^[0-9a-f]+$/);
    expect(namespacesOf(labId)).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyOfRun } from '../report/helpers.js';
import { CLI, isRoot } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** PUID/PGID hand what a command made to that user (src/run/owner.ts); no lab needed. */
function qoslabAs(env: Record<string, string>, args: string[], wrap: string[] = []) {
  const [cmd, ...pre] = wrap.length > 0 ? wrap : [process.execPath];
  const argv = wrap.length > 0 ? [...pre, process.execPath, CLI, ...args] : [CLI, ...args];
  return spawnSync(cmd!, argv, { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe.skipIf(!isRoot)('PUID/PGID', () => {
  it('hands the folders and files a command made to that user, and only those', () => {
    const run = copyOfRun();
    const out = tmpDir('qoslab-owner-');
    mkdirSync(join(out, 'ci'));
    const r = qoslabAs({ PUID: '40123', PGID: '40124' }, [
      'report',
      run,
      '--csv',
      join(out, 'ci', 'rows.csv'),
      '--junit',
      join(out, 'ci', 'junit.xml'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['rows.csv', 'junit.xml']) {
      expect(statSync(join(out, 'ci', f))).toMatchObject({ uid: 40123, gid: 40124 });
    }
    // The folder it was given, and the run folder it rewrote, stay whose they were.
    expect(statSync(join(out, 'ci')).uid).toBe(0);
    expect(statSync(join(run, 'summary.json')).uid).toBe(0);
  });

  it('refuses a PUID that is not a number, and one it cannot honour without CAP_CHOWN', () => {
    const bad = qoslabAs({ PUID: 'me' }, ['scenarios']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("PUID must be a numeric user or group id, got 'me'");
    const noChown = qoslabAs(
      { PUID: '40123' },
      ['scenarios'],
      ['setpriv', '--bounding-set', '-chown', '--'],
    );
    expect(noChown.status, noChown.stderr).toBe(2);
    expect(noChown.stderr).toContain('needs CAP_CHOWN');
    expect(noChown.stderr).toContain('--cap-add CHOWN');
  });
});

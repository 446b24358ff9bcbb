/**
 * What docs/security.md promises about files a case cannot judge from its output alone:
 * a shared run folder cannot put markup into report.html, a scenario's URLs are never
 * fetched, and an --out through a link says where the results really went.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cpSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareSubfolders } from '../../src/run/out-path.js';
import { qoslab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { RUN_BASIC } from '../report/helpers.js';
import { qoslabMeasured } from './measure.js';

const INJECTED = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

describe('a run folder from elsewhere', () => {
  it('cannot put markup or script into report.html', async () => {
    const run = join(tmpDir('qoslab-markup-'), 'run');
    cpSync(RUN_BASIC, run, { recursive: true });
    const compiled = JSON.parse(readFileSync(join(run, 'compiled.json'), 'utf8')) as {
      name: string;
    };
    compiled.name = INJECTED;
    writeFileSync(join(run, 'compiled.json'), JSON.stringify(compiled));
    const scenario = readFileSync(join(run, 'scenario.yaml'), 'utf8');
    writeFileSync(
      join(run, 'scenario.yaml'),
      scenario.replace(/^description:.*$/m, `description: '${INJECTED}'`),
    );
    const r = await qoslab(['report', run]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });
});

describe('a scenario naming URLs', () => {
  it('makes validate and simulate fetch nothing (sources, $schema)', async () => {
    let requests = 0;
    const server = createServer((_, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    try {
      const dir = tmpDir('qoslab-urls-');
      const file = join(dir, 'urls.yaml');
      writeFileSync(
        file,
        `$schema: ${url}\nversion: 1\nname: urls\nduration: 2s\nsources:\n  - { cite: a source, url: '${url}' }\n` +
          'hosts:\n  chat: { names: [chat.example.lab] }\n' +
          'workloads:\n  - { name: ws, host: chat, protocol: websocket, every: 100ms }\n',
      );
      for (const command of ['validate', 'simulate']) {
        const r = await qoslab([command, file]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
      }
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });
});

describe('an --out that is a symbolic link', () => {
  it('is followed, and merge says where the results really went', async () => {
    const root = tmpDir('qoslab-out-link-');
    const sweep = join(root, 'sweep');
    const rep = join(sweep, 'c0', 'rep-0');
    mkdirSync(rep, { recursive: true });
    const summary = JSON.parse(readFileSync(join(RUN_BASIC, 'summary.json'), 'utf8')) as {
      seed: number;
    };
    writeFileSync(join(rep, 'summary.json'), JSON.stringify({ ...summary, seed: 1 }));
    writeFileSync(
      join(sweep, 'sweep.json'),
      JSON.stringify({
        format: 1,
        kind: 'qoslab-sweep',
        scenario: 'report-basic',
        fingerprint: 'f00d',
        axes: [],
        repeat: 1,
        base_seed: 1,
        duration_ns: 4e9,
        cells: [{ index: 0, id: 'c0', params: {} }],
        runs_total: 1,
      }),
    );
    const real = join(root, 'real');
    mkdirSync(real);
    symlinkSync(real, join(root, 'link'));
    const r = await qoslab(['merge', sweep, '--out', join(root, 'link')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `--out ${join(root, 'link')} is (or goes through) a symbolic link: results are written to ${realpathSync(real)}`,
    );
    expect(readFileSync(join(real, 'merged.json'), 'utf8')).toMatch(/"kind": "qoslab-merge"/);
  });
});

describe('files the user names', () => {
  it('--csv and --junit replace a link at their name; $GITHUB_STEP_SUMMARY must not be one', async () => {
    const root = tmpDir('qoslab-user-files-');
    const run = join(root, 'run');
    cpSync(RUN_BASIC, run, { recursive: true });
    const victim = join(root, 'victim');
    writeFileSync(victim, 'precious\n');
    for (const name of ['out.csv', 'junit.xml', 'step.md']) symlinkSync(victim, join(root, name));
    const r = await qoslab([
      'report',
      run,
      '--csv',
      join(root, 'out.csv'),
      '--junit',
      join(root, 'junit.xml'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(root, 'out.csv')).isFile()).toBe(true);
    expect(readFileSync(join(root, 'junit.xml'), 'utf8')).toMatch(/^<\?xml/);
    const step = await qoslabMeasured(['report', run, '--summary-md'], {
      cwd: root,
      env: { ...process.env, GITHUB_STEP_SUMMARY: join(root, 'step.md') },
      timeoutMs: 30_000,
    });
    expect(step.code).toBe(2);
    expect(step.stderr).toMatch(
      /step\.md: is a symbolic link; qoslab appends only to a regular file/,
    );
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it("a sweep's own subfolders are made real, and one that is a link is refused", () => {
    const root = tmpDir('qoslab-subfolders-');
    expect(prepareSubfolders(root, ['c0', 'rep-0'])).toBe(join(root, 'c0', 'rep-0'));
    expect(lstatSync(join(root, 'c0', 'rep-0')).isDirectory()).toBe(true);
    symlinkSync('/etc', join(root, 'c1'));
    expect(() => prepareSubfolders(root, ['c1', 'rep-0'])).toThrow(
      /folder '.*c1': is a symbolic link; qoslab writes only into folders it can see are real/,
    );
  });
});

/**
 * The CI-secret test (issue 19): a job runs a scenario from a pull request with a secret
 * in its environment. A scenario pointing any file field at /proc/self/environ is refused
 * by every command before anything runs, and the secret appears in no output; a run that
 * does go ahead (its trace in its own folder) writes the secret into none of its files.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/cli.js';
import { MARKER } from './cases.js';
import { qoslabMeasured } from './measure.js';

const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-ci-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, CI_SECRET_TOKEN: MARKER };
const cli = (args: string[], timeoutMs = 30_000) =>
  qoslabMeasured(args, { cwd: dir, env, timeoutMs });

const scenario = (o: { uplink?: string; downlink?: string; action?: string }) => `version: 1
name: ci-secret
duration: 2s
network:
  uplink: { trace: '${o.uplink ?? 'link.trace'}', delay: 5ms }
  downlink: { trace: '${o.downlink ?? 'link.trace'}', delay: 5ms }
hosts:
  chat: { names: [chat.example.lab] }
policies:
  p:
    actions:
      - trace: { file: '${o.action ?? 'link.trace'}', direction: down }
workloads:
  - { name: ws, host: chat, protocol: websocket, every: 200ms, size: 200B }
`;

writeFileSync(
  join(dir, 'link.trace'),
  Array.from({ length: 100 }, (_, i) => `${i + 1}\n`).join(''),
);
const FIELDS = ['uplink', 'downlink', 'action'] as const;
for (const field of FIELDS) {
  writeFileSync(join(dir, `environ-${field}.yaml`), scenario({ [field]: '/proc/self/environ' }));
}
writeFileSync(join(dir, 'clean.yaml'), scenario({}));

/** Every file below `d`, with its text. */
function filesBelow(d: string): [string, string][] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory()
      ? filesBelow(p)
      : [[p, readFileSync(p, 'latin1')] as [string, string]];
  });
}

describe('a file field at /proc/self/environ, with a secret in the environment', () => {
  const cases = FIELDS.flatMap((field) =>
    (['validate', 'simulate', 'run'] as const).map((command) => ({ field, command })),
  );
  it.each(cases)(
    '$field, $command: refused, the secret in no output, no run folder',
    async ({ field, command }) => {
      const out = join(dir, `out-${field}-${command}`);
      const r = await cli([
        command,
        join(dir, `environ-${field}.yaml`),
        ...(command === 'run' ? ['--out', out] : []),
      ]);
      const output = r.stdout + r.stderr;
      expect(r.code, output).toBe(2);
      expect(output).toMatch(
        /trace file '\/proc\/self\/environ' is under \/proc, which a scenario may never name/,
      );
      expect(output).not.toContain(MARKER);
      expect(existsSync(out)).toBe(false);
    },
  );
});

describe.skipIf(!isRoot)('a run with a secret in the environment', () => {
  it('writes it into no file and no output; nor does report', async () => {
    const out = join(dir, 'run');
    const r = await cli(['run', join(dir, 'clean.yaml'), '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const rep = await cli(['report', out, '--csv', join(out, 'summary.csv')]);
    expect(rep.code, rep.stderr).toBe(0);
    const files = filesBelow(out);
    expect(files.map(([p]) => p.slice(out.length + 1)).sort()).toEqual(
      expect.arrayContaining([
        'compiled.json',
        'env.json',
        'events.ndjson',
        'report.html',
        'scenario.yaml',
        'summary.csv',
        'summary.json',
      ]),
    );
    for (const [path, text] of files) expect(text.includes(MARKER), path).toBe(false);
    for (const o of [r.stdout, r.stderr, rep.stdout, rep.stderr]) expect(o).not.toContain(MARKER);
  });
});

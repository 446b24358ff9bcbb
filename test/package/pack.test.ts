import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/cli.js';

/**
 * What `npm pack` ships is what a user installs: pack the checkout (already built by
 * `pretest`), install the tarball into an empty directory from the npm cache, and run
 * the installed CLI from there, far from the checkout.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let tmp: string;
let tarball: string;
let files: string[];
let bin: string;

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-pack-'));
  // --ignore-scripts: `prepare` would rebuild what pretest has just built.
  const packed = JSON.parse(
    sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT),
  ) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, packed[0]!.filename);
  files = packed[0]!.files.map((f) => f.path);
  const app = join(tmp, 'app');
  sh('mkdir', ['-p', app], tmp);
  writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}\n');
  // The dependencies come from the npm cache that `npm ci` filled (the registry only for a miss).
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
  bin = join(app, 'node_modules', '.bin', 'qoslab');
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships the CLI, the compiled code, the native core, scenarios, schema and README', () => {
    for (const f of [
      'bin/qoslab.js',
      'dist/cli/main.js',
      'dist/agent/main.js',
      'dist/index.d.ts',
      'native/qoscore.linux-x64-gnu.node',
      'scenarios/messengers.yaml',
      'schema/scenario.schema.json',
      'README.md',
      'package.json',
    ]) {
      expect(files, f).toContain(f);
    }
    // Sources, tests and the Rust tree stay out of the package.
    expect(files.filter((f) => /^(src|test|native\/core|native\/node)\//.test(f))).toEqual([]);
  });

  it('installed from the tarball, validates library scenarios and files', () => {
    const lib = spawnSync(bin, ['validate', 'messengers', 'link-lossy-wifi'], {
      cwd: tmp,
      encoding: 'utf8',
    });
    expect(lib.status, lib.stderr).toBe(0);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: x\nnetwork:\n  uplink:\n    rate: 128kbps\n');
    const r = spawnSync(bin, ['validate', bad], { cwd: tmp, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/bad\.yaml:4:\d+\s+network\.uplink\.rate/);
  });

  it('installed from the tarball, finds its native core in doctor', () => {
    const r = spawnSync(bin, ['doctor'], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toMatch(/^ok\s+native core\s+qoslab-core /m);
    if (isRoot) expect(r.status, r.stdout).toBe(0);
  });
});

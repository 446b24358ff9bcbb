import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/cli.js';

/**
 * What a release publishes is what a user installs: `npm run package` (the main tarball
 * and one per built core, napi-rs style) from the checkout that `pretest` built, installed
 * into an empty project of its own, from the npm cache, with no Rust toolchain on PATH,
 * and run from there, far from the checkout.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
/** node and the system's tools, nothing of rustup's or cargo's. */
const PATH = [
  dirname(process.execPath),
  '/usr/local/sbin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
].join(':');
const env = { ...process.env, PATH };
let tmp: string;
let app: string;
let tarballs: string[];

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npx qoslab ARGS` in the project that installed it. */
function npxQoslab(args: string[], timeout = 60_000) {
  return spawnSync('npx', ['--no-install', 'qoslab', ...args], {
    cwd: app,
    env,
    encoding: 'utf8',
    timeout,
  });
}

const tarFiles = (tgz: string) => sh('tar', ['tzf', tgz], tmp).split('\n').filter(Boolean);

beforeAll(() => {
  tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-pack-'));
  tarballs = JSON.parse(
    sh(process.execPath, [join(ROOT, 'scripts/package/pack.mjs'), '--out', tmp, '--json'], ROOT),
  ) as string[];
  app = join(tmp, 'app');
  mkdirSync(app);
  // A host project with a version of its own: --version must not print it.
  writeFileSync(join(app, 'package.json'), '{"name":"app","version":"9.9.9","private":true}\n');
  // qoslab and this machine's core (npm refuses another platform's package named outright);
  // the dependencies come from the npm cache that `npm ci` filled (the registry only for a miss).
  const mine = tarballs.filter((t) => !/qoslab-linux-(?!x64-gnu)[\w-]+-\d/.test(t));
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...mine], app);
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm run package', () => {
  // The arm64 core is there when scripts/container/build-arm64-core.sh cross-built it.
  const arm64 = existsSync(join(ROOT, 'native/qoscore.linux-arm64-gnu.node'));
  const platforms = ['linux-x64-gnu', ...(arm64 ? ['linux-arm64-gnu'] : [])];
  const tarball = (name: string) => tarballs.find((t) => t.endsWith(`/${name}-${VERSION}.tgz`))!;

  it('packs qoslab without a native core, naming each platform package as optional dependency', () => {
    expect(tarballs.map((t) => t.slice(tmp.length + 1)).sort()).toEqual(
      [`qoslab-${VERSION}.tgz`, ...platforms.map((p) => `qoslab-${p}-${VERSION}.tgz`)].sort(),
    );
    expect(tarballs[0]).toBe(tarball('qoslab'));
    const files = tarFiles(tarballs[0]!);
    for (const f of [
      'bin/qoslab.js',
      'libexec/qoslab-chromium',
      'dist/cli/main.js',
      'dist/agent/main.js',
      'dist/index.d.ts',
      'scenarios/messengers.yaml',
      'schema/scenario.schema.json',
      'README.md',
      'LICENSE',
      'package.json',
    ]) {
      expect(files, f).toContain(`package/${f}`);
    }
    // Sources, tests, the Rust tree and any built core stay out of the main package.
    expect(files.filter((f) => /^package\/(src|test|native|npm)\//.test(f))).toEqual([]);
    const manifest = JSON.parse(
      sh('tar', ['xzOf', tarballs[0]!, 'package/package.json'], tmp),
    ) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      license: 'MIT',
      os: ['linux'],
      cpu: arm64 ? ['x64', 'arm64'] : ['x64'],
      optionalDependencies: Object.fromEntries(platforms.map((p) => [`qoslab-${p}`, VERSION])),
    });
    expect((manifest.scripts as Record<string, string>).prepare).toBeUndefined();
  });

  for (const [platform, cpu, machine] of [
    ['linux-x64-gnu', 'x64', 62],
    ['linux-arm64-gnu', 'arm64', 183],
  ] as const) {
    it.skipIf(!platforms.includes(platform))(
      `packs the core for ${platform} in a package npm installs only there`,
      () => {
        const tgz = tarball(`qoslab-${platform}`);
        const core = `qoscore.${platform}.node`;
        expect(tarFiles(tgz).sort()).toEqual([
          'package/LICENSE',
          'package/README.md',
          'package/package.json',
          `package/${core}`,
        ]);
        const manifest = JSON.parse(sh('tar', ['xzOf', tgz, 'package/package.json'], tmp));
        expect(manifest).toMatchObject({
          name: `qoslab-${platform}`,
          version: VERSION,
          os: ['linux'],
          cpu: [cpu],
          libc: ['glibc'],
          main: core,
        });
        // An ELF shared object for that machine (e_machine: 62 x86-64, 183 AArch64).
        const elf = readFileSync(join(ROOT, 'native', core));
        expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
        expect(elf.readUInt16LE(16)).toBe(3); // ET_DYN
        expect(elf.readUInt16LE(18)).toBe(machine);
      },
    );
  }
});

describe('installed from the tarballs, with no Rust on PATH', () => {
  it('has no cargo to fall back on', () => {
    expect(spawnSync('sh', ['-c', 'command -v cargo rustc'], { env }).status).not.toBe(0);
    // The launcher keeps its mode through pack and install: a noexec /tmp is not needed.
    expect(
      statSync(join(app, 'node_modules/qoslab/libexec/qoslab-chromium')).mode & 0o111,
    ).not.toBe(0);
  });

  it("npx qoslab --version prints qoslab's version, not the project's", () => {
    const r = npxQoslab(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('validates library scenarios and files', () => {
    const lib = npxQoslab(['validate', 'messengers', 'link-lossy-wifi']);
    expect(lib.status, lib.stderr).toBe(0);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: x\nnetwork:\n  uplink:\n    rate: 128kbps\n');
    const r = npxQoslab(['validate', bad]);
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/bad\.yaml:4:\d+\s+network\.uplink\.rate/);
  });

  it('doctor finds the prebuilt core of the platform package', () => {
    const r = npxQoslab(['doctor']);
    expect(r.stdout).toMatch(/^ok\s+native core\s+qoslab-core /m);
    if (isRoot) expect(r.status, r.stdout).toBe(0);
  });

  it.skipIf(!isRoot)('a run works', () => {
    const scenario = join(tmp, 'short.yaml');
    copyFileSync(join(ROOT, 'test/sweep/fixtures/sweep-small.yaml'), scenario);
    const out = join(tmp, 'run');
    const r = npxQoslab(['run', scenario, '--duration', '2s', '--out', out, '--quiet'], 90_000);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      status: string;
      qoslab: string;
    };
    expect(summary).toMatchObject({ status: 'completed', qoslab: VERSION });
    // env.json names no commit: the host project's repository is not qoslab's.
    expect(JSON.parse(readFileSync(join(out, 'env.json'), 'utf8'))).toMatchObject({
      git_commit: null,
    });
  });
});

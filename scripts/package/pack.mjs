#!/usr/bin/env node
// The tarballs a release publishes, the way napi-rs projects ship a native core:
//   qoslab-<version>.tgz                 the CLI and library, without any native core, its
//                                        optionalDependencies naming each platform package
//   qoslab-<platform>-<version>.tgz      one per core built in native/ (os, cpu, libc set,
//                                        so npm installs only the one that fits)
// `npm install qoslab` then needs no Rust. The platform packages' manifests are npm/<platform>/
// (made by `napi create-npm-dirs` from package.json "napi".targets, versions kept by
// `napi version`); a target whose core was not built here is left out, and said so.
// Usage: node scripts/package/pack.mjs [--out DIR] [--json]   (run `npm run build` first)
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = resolve(outArg >= 0 ? args[outArg + 1] : join(root, 'packages'));
const json = args.includes('--json');
const log = (line) => process.stderr.write(`package: ${line}\n`);

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
/** `npm pack DIR`, without lifecycle scripts; returns the tarball's file name. */
function pack(dir, dest) {
  const result = execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dest, dir],
    { cwd: root, encoding: 'utf8' },
  );
  return JSON.parse(result)[0].filename;
}

mkdirSync(out, { recursive: true });
const stage = mkdtempSync(join(os.tmpdir(), 'qoslab-pack-'));
try {
  const main = readJson(join(root, 'package.json'));
  const platforms = {};
  const cpus = [];
  const tarballs = [];
  for (const dir of readdirSync(join(root, 'npm'))) {
    // A copy: the committed folder stays free of built cores.
    const pkgDir = join(stage, dir);
    cpSync(join(root, 'npm', dir), pkgDir, { recursive: true });
    const pkg = readJson(join(pkgDir, 'package.json'));
    const core = join(root, 'native', pkg.main);
    if (!existsSync(core)) {
      log(`${pkg.name}: no ${pkg.main} built here, left out`);
      continue;
    }
    cpSync(core, join(pkgDir, pkg.main));
    cpSync(join(root, 'LICENSE'), join(pkgDir, 'LICENSE'));
    tarballs.push(join(out, pack(pkgDir, out)));
    platforms[pkg.name] = pkg.version;
    cpus.push(...pkg.cpu);
    log(`${pkg.name} ${pkg.version}: ${pkg.main}`);
  }
  if (Object.keys(platforms).length === 0) throw new Error('no native core built: npm run build');
  // The main package as `files` packs it, with the platform packages as optional dependencies.
  const packed = join(stage, 'main');
  mkdirSync(packed);
  const first = pack(root, packed);
  execFileSync('tar', ['xzf', join(packed, first), '-C', packed]);
  const manifest = join(packed, 'package', 'package.json');
  // `prepare` builds a checkout (npm runs it for git and folder installs, never for a
  // registry tarball); npm 11 still lists it as an install script to approve.
  const { prepare: _, ...scripts } = main.scripts;
  writeFileSync(
    manifest,
    `${JSON.stringify(
      {
        ...main,
        // Only the CPUs a prebuilt core was packed for: elsewhere npm says so at install.
        cpu: main.cpu.filter((c) => cpus.includes(c)),
        scripts,
        optionalDependencies: { ...main.optionalDependencies, ...platforms },
      },
      null,
      2,
    )}\n`,
  );
  tarballs.unshift(join(out, pack(join(packed, 'package'), out)));
  log(`${main.name} ${main.version}: optionalDependencies ${Object.keys(platforms).join(', ')}`);
  if (json) process.stdout.write(`${JSON.stringify(tarballs)}\n`);
  else for (const t of tarballs) process.stdout.write(`${t}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

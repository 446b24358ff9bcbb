import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import type { MeasureEvent } from '../../src/record/events.js';
import type { RunSummary } from '../../src/record/summary.js';

export const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/${name}.yaml`, import.meta.url));

export const tmpOut = () => join(tmpDir('qoslab-run-test-'), 'out');

export function readSummary(dir: string): RunSummary {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
}

export const RESULT_FILES = [
  'scenario.yaml',
  'compiled.json',
  'events.ndjson',
  'datapath.ndjson',
  'summary.json',
  'env.json',
];

export function missingFiles(dir: string): string[] {
  return RESULT_FILES.filter((f) => !existsSync(join(dir, f)));
}

/** Namespaces of a lab run id still present. */
export function namespacesOf(id: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => id !== '' && l.includes(id));
}

/** Start `qoslab ARGS`; resolves once stderr matches `pattern`, with a way to wait for the end. */
export function startQoslab(args: string[], pattern: RegExp) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const matched = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern}:\n${stderr}`)), 30_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (pattern.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, matched, done };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run's events.ndjson, parsed. */
export function readEvents(dir: string): MeasureEvent[] {
  return readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MeasureEvent);
}

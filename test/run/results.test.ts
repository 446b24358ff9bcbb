/**
 * A run's results files when the machine refuses a write: the fault is recorded (not
 * thrown), a file is written whole or not at all, and `restore` writes the folder again
 * from memory. No lab; the full disk is a small tmpfs (root only).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faultText, resourceCode } from '../../src/run/resource-fault.js';
import { ResultFiles } from '../../src/run/results.js';
import { isRoot } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const events = [
  { ev: 'send', w: 'ws', dir: 'up', c: 0, seq: 0, t: 1, bytes: 200 },
  { ev: 'send', w: 'ws', dir: 'up', c: 0, seq: 1, t: 2, bytes: 200 },
];

const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});

describe('ResultFiles', () => {
  it('a removed folder: noticed, and written again whole from memory', async () => {
    const dir = join(tmpDir('qoslab-results-'), 'run');
    mkdirSync(dir);
    const seen: string[] = [];
    const files = new ResultFiles(dir, (f) => seen.push(faultText(f)));
    files.announce = true;
    files.clock = () => 7e9;
    expect(files.writeJson('compiled.json', { a: 1 })).toBe(true);
    for (const e of events) files.events.write(e);
    files.datapath.write({ t: 1 });
    files.flows.write({ flow: 1 });
    await new Promise((r) => setTimeout(r, 50));
    rmSync(dir, { recursive: true });
    files.checkFolder();
    files.checkFolder();
    expect(seen).toEqual(['the results folder was removed at 7.0 s']);
    await files.close();
    expect(files.restore(events)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([
      'compiled.json',
      'datapath.ndjson',
      'events.ndjson',
      'flows.ndjson',
    ]);
    expect(readFileSync(join(dir, 'flows.ndjson'), 'utf8')).toBe('{"flow":1}\n');
    expect(readFileSync(join(dir, 'events.ndjson'), 'utf8').trimEnd().split('\n')).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, 'compiled.json'), 'utf8'))).toEqual({ a: 1 });
  });

  it('a folder where a file should be: EISDIR, the fault named, nothing thrown', () => {
    const dir = tmpDir('qoslab-results-');
    mkdirSync(join(dir, 'summary.json'));
    const files = new ResultFiles(dir);
    expect(files.writeJson('summary.json', { status: 'completed' })).toBe(false);
    expect(files.faults.map(faultText)).toEqual(['summary.json: a folder is in the way (EISDIR)']);
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('anything but the machine refusing is a bug, and thrown', () => {
    expect(resourceCode(new TypeError('x'))).toBeUndefined();
    expect(resourceCode(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('ENOSPC');
  });

  it.skipIf(!isRoot)(
    'a full disk: the file keeps what it had, the next smaller write still fits',
    async () => {
      const dir = tmpDir('qoslab-enospc-');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
      mounts.push(dir);
      const files = new ResultFiles(dir);
      expect(files.writeJson('summary.json', { status: 'running' })).toBe(true);
      // Larger than the disk: refused whole, and the summary written before is still there.
      expect(files.writeText('summary.json', 'x'.repeat(200_000))).toBe(false);
      expect(files.faults.map((f) => f.code)).toEqual(['ENOSPC']);
      expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toEqual({
        status: 'running',
      });
      expect(files.writeJson('summary.json', { status: 'completed' })).toBe(true);
      // The events fill the disk: the stream fails, and written again at the end they still
      // do not fit; restore says so, and the summary written before is untouched.
      const many = Array.from({ length: 2000 }, (_, seq) => ({ ...events[0], seq }));
      for (const e of many) files.events.write(e);
      await files.close();
      expect(files.events.failed).toBe(true);
      expect(files.faults.map((f) => `${f.file} ${f.code}`)).toContain('events.ndjson ENOSPC');
      expect(files.restore(many)).toEqual(['events.ndjson']);
      expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toEqual({
        status: 'completed',
      });
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    },
  );
});

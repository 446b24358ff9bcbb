/**
 * src/files: untrusted files are read only when they are regular files within their cap,
 * without waiting on a FIFO and without echoing a byte of them; whole files are written
 * by rename, so a link at the name is replaced and its target never touched.
 */
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { folderInside, readJsonFile, readRegularFile, readTextFile } from '../../src/files/read.js';
import { appendToRegularFile, openFreshStream, writeFileReplacing } from '../../src/files/write.js';

const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('readRegularFile', () => {
  it('reads a regular file within its cap', () => {
    writeFileSync(at('ok.txt'), 'hello\n');
    expect(readTextFile(at('ok.txt'), { maxBytes: 6 })).toBe('hello\n');
  });

  it('refuses a larger file before reading it, naming the cap and never the contents', () => {
    writeFileSync(at('big.txt'), 'SECRET'.repeat(10));
    const m = message(() => readRegularFile(at('big.txt'), { maxBytes: 59 }));
    expect(m).toMatch(/big\.txt: is 60 bytes; at most 59 bytes are read/);
    expect(m).not.toMatch(/SECRET/);
  });

  it('refuses a 2 GB sparse file at once', () => {
    writeFileSync(at('sparse'), '');
    truncateSync(at('sparse'), 2 ** 31);
    const t0 = performance.now();
    expect(message(() => readRegularFile(at('sparse'), { maxBytes: 1024 * 1024 }))).toMatch(
      /is 2147483648 bytes; at most 1 MiB are read/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('does not follow a symbolic link unless asked', () => {
    writeFileSync(at('target'), 'SECRET\n');
    symlinkSync(at('target'), at('link'));
    const m = message(() => readRegularFile(at('link'), { maxBytes: 100 }));
    expect(m).toMatch(/link: is a symbolic link; only regular files are read here/);
    expect(readTextFile(at('link'), { maxBytes: 100, follow: true })).toBe('SECRET\n');
  });

  it('refuses a FIFO without waiting for a writer', () => {
    execFileSync('mkfifo', [at('fifo')]);
    expect(message(() => readRegularFile(at('fifo'), { maxBytes: 100 }))).toMatch(
      /fifo: is a FIFO \(named pipe\), not a regular file/,
    );
  });

  it('refuses devices and folders, even through a link the user named', () => {
    symlinkSync('/dev/zero', at('zero'));
    expect(message(() => readRegularFile(at('zero'), { maxBytes: 100, follow: true }))).toMatch(
      /is a device, not a regular file/,
    );
    expect(message(() => readRegularFile(dir, { maxBytes: 100 }))).toMatch(/is a directory/);
  });

  it('reads a procfs file (size 0) only up to the cap', () => {
    const m = message(() => readRegularFile('/proc/self/environ', { maxBytes: 4, follow: true }));
    expect(m).toMatch(/grew beyond 4 bytes while read/);
  });

  it('says a missing file does not exist, or returns undefined when it is optional', () => {
    expect(message(() => readRegularFile(at('none'), { maxBytes: 1 }))).toMatch(/does not exist/);
    expect(readRegularFile(at('none'), { maxBytes: 1, optional: true })).toBeUndefined();
  });
});

describe('readJsonFile', () => {
  it('locates a syntax error by line and column without quoting the text', () => {
    writeFileSync(at('bad.json'), '{\n  "a": SECRET\n}\n');
    const m = message(() => readJsonFile(at('bad.json'), { maxBytes: 100 }));
    expect(m).toMatch(/bad\.json: is not valid JSON at line 2, column 8/);
    expect(m).not.toMatch(/SECRET/);
  });
});

describe('folderInside', () => {
  it('walks real folders and refuses a link or a name that climbs out', () => {
    mkdirSync(at('a/b'), { recursive: true });
    symlinkSync('/etc', at('a/etc'));
    expect(folderInside(dir, ['a', 'b'])).toBe(at('a/b'));
    expect(folderInside(dir, ['a', 'nope'])).toBeUndefined();
    expect(message(() => folderInside(dir, ['a', 'etc']))).toMatch(
      /is a symbolic link, not a folder/,
    );
    expect(message(() => folderInside(dir, ['..']))).toMatch(/is not a plain folder name/);
  });
});

describe('writeFileReplacing', () => {
  it('replaces a link at the name and leaves its target alone', () => {
    writeFileSync(at('victim'), 'precious\n');
    symlinkSync(at('victim'), at('summary.json'));
    writeFileReplacing(at('summary.json'), '{}\n');
    expect(readFileSync(at('victim'), 'utf8')).toBe('precious\n');
    expect(lstatSync(at('summary.json')).isFile()).toBe(true);
    expect(readFileSync(at('summary.json'), 'utf8')).toBe('{}\n');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces a FIFO at the name without opening it', () => {
    execFileSync('mkfifo', [at('report.html')]);
    writeFileReplacing(at('report.html'), '<html>');
    expect(readFileSync(at('report.html'), 'utf8')).toBe('<html>');
  });

  it('refuses a folder at the name', () => {
    mkdirSync(at('folder.json'));
    expect(message(() => writeFileReplacing(at('folder.json'), 'x'))).toMatch(/is a folder/);
  });
});

describe('openFreshStream and appendToRegularFile', () => {
  it('streams into a new file where a link was', async () => {
    writeFileSync(at('victim2'), 'precious\n');
    symlinkSync(at('victim2'), at('events.ndjson'));
    const s = openFreshStream(at('events.ndjson'));
    await new Promise<void>((r) => s.end('{"ev":"x"}\n', () => r()));
    expect(readFileSync(at('victim2'), 'utf8')).toBe('precious\n');
    expect(readFileSync(at('events.ndjson'), 'utf8')).toBe('{"ev":"x"}\n');
  });

  it('appends to a regular file and refuses a link or a FIFO', () => {
    appendToRegularFile(at('step.md'), 'a');
    appendToRegularFile(at('step.md'), 'b');
    expect(readFileSync(at('step.md'), 'utf8')).toBe('ab');
    symlinkSync(at('step.md'), at('step-link.md'));
    expect(message(() => appendToRegularFile(at('step-link.md'), 'c'))).toMatch(/symbolic link/);
    execFileSync('mkfifo', [at('step-fifo')]);
    expect(message(() => appendToRegularFile(at('step-fifo'), 'c'))).toMatch(/FIFO/);
  });
});

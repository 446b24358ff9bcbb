/**
 * Files a scenario names (src/scenario/files.ts, trace-file.ts): confined to the
 * scenario's folder or --allow-path, never kernel file systems, only regular files, parsed
 * into run-length opportunities, and every problem located at the key that names the file
 * with the trace's own line and column — never its contents.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/scenario/errors.js';
import { allowance, NO_ALLOWANCE } from '../../src/scenario/files.js';
import { checkScenario } from '../../src/scenario/prepare.js';
import { MAX_TRACE_MS, MAX_TRACE_STEPS, parseTrace } from '../../src/scenario/trace-file.js';

const root = mkdtempSync(join(os.tmpdir(), 'qoslab-files-'));
const dir = join(root, 'shared');
const outside = join(root, 'elsewhere');
mkdirSync(dir);
mkdirSync(outside);
afterAll(() => rmSync(root, { recursive: true, force: true }));

writeFileSync(join(dir, 'link.down'), '1\n1\n3\n\n5\n');
writeFileSync(join(outside, 'other.down'), '2\n4\n');
writeFileSync(join(outside, 'SECRET'), 'CI_SECRET_TOKEN=ghp_x\n');
symlinkSync(join(outside, 'other.down'), join(dir, 'escape.down'));
symlinkSync('link.down', join(dir, 'alias.down'));
execFileSync('mkfifo', [join(dir, 'pipe.down')]);
writeFileSync(join(dir, 'huge.down'), '');
truncateSync(join(dir, 'huge.down'), 2 ** 31);

const scenario = (uplink: string, action = 'link.down') => `version: 1
duration: 5s
network:
  uplink: { trace: '${uplink}' }
policies:
  p:
    actions:
      - trace: { file: '${action}' }
`;

function check(uplink: string, action?: string, allow = NO_ALLOWANCE) {
  const path = join(dir, 's.yaml');
  return checkScenario(scenario(uplink, action), 's.yaml', { path, name: 's', allow });
}

function problems(uplink: string, action?: string, allow = NO_ALLOWANCE): string[] {
  const r = check(uplink, action, allow);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe('parseTrace', () => {
  it('run-length encodes opportunities and skips blank lines', () => {
    expect(parseTrace(Buffer.from('1\n1\n3\r\n\n  5 \n'))).toEqual({
      ok: true,
      runs: [1, 2, 3, 1, 5, 1],
    });
  });

  it('names the line and column of what is wrong, never the text', () => {
    const bad = parseTrace(Buffer.from('1\n2\nPASSWORD=hunter2\n'));
    expect(bad).toEqual({
      ok: false,
      problem:
        'line 3, column 1: expected a whole number of milliseconds (a mahimahi trace has one per line)',
    });
    expect(parseTrace(Buffer.from('1\n 12x\n'))).toMatchObject({
      problem: /^line 2, column 4: expected the end of the line/,
    });
    expect(parseTrace(Buffer.from('5\n3\n'))).toMatchObject({
      problem: /^line 2, column 1: timestamps must not decrease/,
    });
    expect(parseTrace(Buffer.from(`${MAX_TRACE_MS + 1}\n`))).toMatchObject({
      problem: /at most 604800000 ms/,
    });
    expect(parseTrace(Buffer.from('\n\n'))).toMatchObject({ problem: /no delivery opportunities/ });
    expect(parseTrace(Buffer.from('0\n0\n'))).toMatchObject({ problem: /must end after 0 ms/ });
    expect(parseTrace(Buffer.from([0xff, 0x00, 0x31]))).toMatchObject({
      problem: /^line 1, column 1/,
    });
  });

  it('bounds the distinct timestamps', () => {
    const lines = Array.from({ length: MAX_TRACE_STEPS + 1 }, (_, i) => `${i + 1}\n`).join('');
    expect(parseTrace(Buffer.from(lines))).toMatchObject({
      problem: `line ${MAX_TRACE_STEPS + 1}, column 1: more than ${MAX_TRACE_STEPS} distinct timestamps`,
    });
  });
});

describe('files a scenario names', () => {
  it('reads traces in its folder (through a link that stays inside) and hands them on parsed', () => {
    const r = check('link.down', 'alias.down');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.prepared.traces).toEqual({
      [join(dir, 'link.down')]: [1, 2, 3, 1, 5, 1],
      [join(dir, 'alias.down')]: [1, 2, 3, 1, 5, 1],
    });
    expect(r.prepared.compiled.network.uplink.trace_file).toBe(join(dir, 'link.down'));
  });

  it('refuses paths that leave the folder, located at the key, unless --allow-path covers them', () => {
    expect(problems('../elsewhere/other.down')).toEqual([
      `s.yaml:4:20  network.uplink.trace  trace file '../elsewhere/other.down' leads to ${outside}/other.down, outside the scenario's folder ${dir}; a scenario may name files in its own folder, or in one the user allows with --allow-path DIR`,
    ]);
    expect(problems('escape.down')[0]).toMatch(/'escape\.down' leads to .*other\.down, outside/);
    expect(problems(`${outside}/other.down`)[0]).toMatch(/outside the scenario's folder/);
    expect(problems('../elsewhere/other.down', 'link.down', allowance([outside]))).toEqual([]);
  });

  it('never reads kernel file systems, allowed or not', () => {
    expect(problems('/proc/self/environ')[0]).toMatch(
      /trace file '\/proc\/self\/environ' is under \/proc, which a scenario may never name/,
    );
    expect(problems('/dev/zero')[0]).toMatch(/is under \/dev/);
    expect(() => allowance(['/proc'])).toThrow(/\/proc is never read/);
    expect(() => allowance([join(dir, 'nope')])).toThrow(/no such folder/);
  });

  it('refuses a FIFO at once, a 2 GB file before reading it, and says what it found', () => {
    const t0 = performance.now();
    expect(problems('pipe.down')[0]).toMatch(
      /'pipe\.down' is a FIFO \(named pipe\), not a regular file/,
    );
    expect(problems('huge.down')[0]).toMatch(
      /'huge\.down' is 2147483648 bytes; at most 16 MiB are read/,
    );
    expect(problems('nope.down')[0]).toMatch(/'nope\.down' does not exist/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('quotes no byte of a file it cannot parse', () => {
    symlinkSync(join(outside, 'SECRET'), join(outside, 'secret.down'));
    const found = problems('../elsewhere/secret.down', 'link.down', allowance([outside])).join(
      '\n',
    );
    expect(found).toMatch(/line 1, column 1: expected a whole number/);
    expect(found).not.toMatch(/ghp_x|CI_SECRET/);
  });

  it('reports the link trace and the action trace, each at its own key', () => {
    const found = problems('nope.down', 'pipe.down');
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^s\.yaml:4:20  network\.uplink\.trace  /);
    expect(found[1]).toMatch(/^s\.yaml:8:24  policies\.p\.actions\[0\]\.trace\.file  /);
  });
});

/**
 * The hostile corpus: scenario files, results folders and command lines a careless or
 * malicious user could give qoslab (docs/security.md: every rule there has its cases
 * here). Each names its expected exit code and the shape of its message; none may print a
 * stack trace, a byte of a file it was not meant to read, or the environment
 * (corpus.test.ts checks all of that, and time, memory and writes, for every case).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_BASIC } from '../report/helpers.js';

/**
 * Set as CI_SECRET_TOKEN in every case's environment and written into every private
 * file: it must appear in no output.
 */
export const MARKER = 'ghp_QOSLABHOSTILEMARKER7f3a9c';

export interface HostileCase {
  name: string;
  /**
   * Command line; `$D` is replaced by the corpus folder (scenario files, run folders),
   * `$P` by a private folder next to it that no case may read or write (secrets, victims).
   */
  args: string[];
  code: number;
  /** What stderr (or stdout, for validate) must say. */
  message: RegExp;
}

const BASE = `version: 1
name: h
duration: 5s
hosts:
  chat: { names: [chat.example.lab] }
workloads:
  - { name: ws, host: chat, protocol: websocket, every: 100ms, size: 200B }
`;

/** BASE with one line of the workload replaced or extra text appended. */
const withWorkload = (fields: string) => BASE.replace('every: 100ms, size: 200B', fields);

/** A located scenario problem: file:line:col, a key path, a message. */
const located = (file: string, text: string) =>
  new RegExp(`${file.replace('.', '\\.')}:\\d+:\\d+  (\\(top level\\)|\\S+)  .*${text}`);

const billionLaughs = `version: 1
name: lol
duration: 5s
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
`;

/** Scenario files written into the corpus folder before the cases run. */
export const FILES: Record<string, string | Buffer> = {
  'ok.yaml': BASE,
  'lol.yaml': billionLaughs,
  'rate-overflow.yaml': BASE + 'network:\n  uplink: { rate: 99999999999999999999gbit }\n',
  'jitter-huge.yaml': BASE + 'network:\n  uplink: { delay: 10ms, jitter: 1000000h }\n',
  'size-100gb.yaml': withWorkload('every: 1s, size: 100GB'),
  'size-100mb.yaml': withWorkload('every: 1s, size: 100MB'),
  'size-2pow64.yaml': withWorkload('every: 1s, size: 18446744073709551616'),
  'connections-huge.yaml': withWorkload('every: 1s, connections: 1e30'),
  'port-huge.yaml': withWorkload('every: 1s, port: 99999'),
  'duration-huge.yaml': BASE.replace('duration: 5s', 'duration: 1000000h'),
  'every-zero.yaml': withWorkload('every: 0s'),
  'seed-float.yaml': BASE + 'seed: 1e300\n',
  'seed-negative.yaml': BASE + 'seed: -1\n',
  'address-outside.yaml': BASE.replace(
    '{ names: [chat.example.lab] }',
    '{ names: [chat.example.lab], address: 8.8.8.8 }',
  ),
  'address6-outside.yaml': BASE.replace(
    '{ names: [chat.example.lab] }',
    "{ names: [chat.example.lab], address6: '2001:db8::1' }",
  ),
  'address-client-half.yaml': BASE.replace(
    '{ names: [chat.example.lab] }',
    '{ names: [chat.example.lab], address: 198.18.0.9 }',
  ),
  'nul-bytes.yaml': Buffer.concat([
    Buffer.from(BASE),
    Buffer.from([0, 0, 0]),
    Buffer.from('x: 1\n'),
  ]),
  'nul-in-name.yaml': BASE.replace('name: h', 'name: "h\\0x"'),
  'unicode-workload.yaml': withWorkload('every: 100ms').replace('name: ws', 'name: чат'),
  'unicode-host.yaml': BASE.replace('chat.example.lab', 'чат.пример.lab'),
  'emoji-name.yaml': BASE.replace('name: h', 'name: "💥"'),
  'rtl-override.yaml': BASE.replace('name: ws', 'name: "ws\u202e"'),
  'empty.yaml': '',
  'only-dashes.yaml': '---\n',
  'a-list.yaml': '- version: 1\n',
  'a-number.yaml': '42\n',
  'duplicate-keys.yaml': BASE + 'duration: 6s\n',
  'version-2.yaml': BASE.replace('version: 1', 'version: 2'),
  'unknown-key.yaml': BASE + 'colour: blue\n',
  'bad-json.json': '{"version": 1, "name": "j", ',
  'binary.yaml': Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0x80, 0x81, 0x1b, 0x5b]),
  'utf16.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BASE, 'utf16le')]),
  'tabs.yaml': BASE.replace('  chat:', '\tchat:'),
  'deep-flow.yaml': '['.repeat(100_000),
  'deep-map.yaml':
    'version: 1\nx:\n' + [...Array(400).keys()].map((i) => `${'  '.repeat(i + 1)}k:\n`).join(''),
  'huge-list.yaml':
    BASE.replace('duration: 5s', 'duration: 50s') +
    'timeline:\n' +
    [...Array(20_000).keys()].map((i) => `  - { at: ${i}ms, phase: p${i % 7} }\n`).join('') +
    '  - { at: 60s, phase: late }\n',
  'many-workloads.yaml':
    BASE +
    [...Array(3000).keys()]
      .map((i) => `  - { name: w${i}, host: nohost, protocol: websocket }\n`)
      .join(''),
  'oversized.yaml': BASE + `# ${'x'.repeat(2 * 1024 * 1024)}\n`,
  'long-key.yaml': BASE + `${'k'.repeat(100_000)}: 1\n`,
  'expect-unknown.yaml': BASE + 'expect:\n  - nosuch.delivery >= 99%\n',
  'expect-garbage.yaml': BASE + 'expect:\n  - "delivery ≥ 99 % please"\n',
  'timeline-late.yaml': BASE + 'timeline:\n  - { at: 10s, phase: late }\n',
  'probability-200.yaml': BASE + 'network:\n  downlink: { loss: 200% }\n',
  'port-clash.yaml':
    BASE +
    '  - { name: call, host: chat, protocol: udp-voice, port: 443 }\n' +
    '  - { name: quic, host: chat, protocol: http3 }\n',
  'anchors-ok-but-wrong.yaml': BASE + 'x: &x { a: 1 }\ny: *x\n',
  // Files a scenario names: every one refused before a byte is read, or parsed without echo.
  ...traceScenarios({
    environ: '/proc/self/environ',
    'environ-link': 'environ.trace',
    'fd-link': '/dev/fd/0',
    shadow: '/etc/shadow',
    'dot-dot': '../../../../../../etc/passwd',
    private: '$P/secret.trace',
    'private-link': 'private.trace',
    fifo: 'fifo.yaml',
    'dev-zero': '/dev/zero',
    'zero-link': 'zero.yaml',
    sparse: 'sparse.trace',
    'one-line': 'one-line.trace',
    folder: 'a-dir.yaml',
    missing: 'nope.trace',
    ok: 'ok.trace',
  }),
  'trace-action-environ.yaml':
    BASE +
    'policies:\n  p:\n    actions:\n      - trace: { file: /proc/self/environ, direction: down }\n',
  'trace-nul.yaml': BASE + 'network:\n  uplink: { trace: "ok\\0.trace" }\n',
  // Plans beyond the budgets (docs/scenario-format.md "Budgets")
  'every-1ns.yaml': withWorkload('every: 1ns, size: 200B'),
  'rate-1000gbit.yaml': withWorkload('rate: 1000gbit, size: 200B'),
  'week-of-messages.yaml': BASE.replace('duration: 5s', 'duration: 168h'),
  'bulk-2h.yaml': BASE.replace('duration: 5s', 'duration: 2h').replace(
    'protocol: websocket, every: 100ms, size: 200B',
    'protocol: bulk, size: 1MB',
  ),
  // A program named by the scenario (docs/security.md: never run without --allow-commands)
  'command-workload.yaml': BASE.replace(
    'protocol: websocket, every: 100ms, size: 200B',
    "protocol: command, port: 443, command: { client: 'cat /proc/self/environ' }",
  ),
  // IPv6 scope ids
  'address6-scope.yaml': BASE.replace(
    '{ names: [chat.example.lab] }',
    "{ names: [chat.example.lab], address6: 'fd71:6c61:6200:2::10%lo' }",
  ),
  'cidr-scope.yaml': BASE + "classes:\n  ll: { cidr: ['fe80::%lo/64'] }\n",
};

/** A scenario whose uplink trace is `path`, per name: `trace-<name>.yaml`. */
function traceScenarios(paths: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(paths).map(([name, path]) => [
      `trace-${name}.yaml`,
      BASE + `network:\n  uplink: { trace: '${path}', delay: 10ms }\n`,
    ]),
  );
}

/** A copy of the report fixture's run at `$D/runs/<name>`, changed by `edit`. */
function runCopy(dir: string, name: string, edit: (run: string) => void): void {
  const run = join(dir, 'runs', name);
  cpSync(RUN_BASIC, run, { recursive: true });
  edit(run);
}

/** A JSON file with some keys replaced. */
function editJson(path: string, keys: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...keys }));
}

/** A sweep folder at `$D/sweeps/<name>` with the sweep.json `manifest` gives. */
function sweepFolder(dir: string, name: string, manifest: Record<string, unknown>): string {
  const sweep = join(dir, 'sweeps', name);
  mkdirSync(sweep, { recursive: true });
  writeFileSync(
    join(sweep, 'sweep.json'),
    JSON.stringify({
      format: 1,
      kind: 'qoslab-sweep',
      scenario: 'h',
      fingerprint: 'f00d',
      axes: [],
      repeat: 1,
      base_seed: 1,
      duration_ns: 5e9,
      cells: [{ index: 0, id: 'c0', params: {} }],
      runs_total: 1,
      ...manifest,
    }),
  );
  return sweep;
}

/**
 * The private folder: what no case may read (its secrets carry MARKER) or change (the
 * victim), next to the corpus folder so that it is outside every scenario's folder.
 */
export function makePrivate(priv: string): void {
  writeFileSync(join(priv, 'secret.trace'), `CI_SECRET_TOKEN=${MARKER}\n1\n2\n`);
  writeFileSync(join(priv, 'secret.txt'), `${MARKER}\n`);
  writeFileSync(join(priv, 'victim'), 'precious\n');
}

/** Paths that are not plain files: made with the file system's own calls. */
export function makeSpecialPaths(dir: string, priv: string): void {
  mkdirSync(join(dir, 'a-dir.yaml'));
  symlinkSync('loop-b.yaml', join(dir, 'loop-a.yaml'));
  symlinkSync('loop-a.yaml', join(dir, 'loop-b.yaml'));
  symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
  writeFileSync(join(dir, 'a-file'), 'not a folder\n');
  mkdirSync(join(dir, 'earlier-run'));
  writeFileSync(join(dir, 'earlier-run', 'summary.json'), '{}\n');
  mkdirSync(join(dir, 'not-a-run'));
  mkdirSync(join(dir, 'bad-run'));
  writeFileSync(join(dir, 'bad-run', 'compiled.json'), '{ nope');
  writeFileSync(join(dir, 'bad-run', 'events.ndjson'), '');
  writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n');
  mkdirSync(join(dir, 'cwd'));

  // Trace files: links out of the folder, a 2 GB sparse file, a 10 MiB line of junk.
  symlinkSync('/proc/self/environ', join(dir, 'environ.trace'));
  symlinkSync(join(priv, 'secret.trace'), join(dir, 'private.trace'));
  writeFileSync(join(dir, 'sparse.trace'), '');
  truncateSync(join(dir, 'sparse.trace'), 2 ** 31);
  writeFileSync(join(dir, 'one-line.trace'), `${MARKER} ${'x'.repeat(10 * 1024 * 1024)}`);
  writeFileSync(join(dir, 'ok.trace'), '1\n1\n3\n5\n');

  // Run folders from elsewhere: links, FIFOs, devices, huge and damaged files.
  const victim = join(priv, 'victim');
  runCopy(dir, 'links', (run) => {
    for (const f of ['summary.json', 'report.html']) {
      execFileSync('rm', ['-f', join(run, f)]);
      symlinkSync(victim, join(run, f));
    }
  });
  runCopy(dir, 'html-link', (run) => symlinkSync(victim, join(run, 'report.html')));
  runCopy(dir, 'shadow', (run) => {
    execFileSync('rm', [join(run, 'events.ndjson')]);
    symlinkSync('/etc/shadow', join(run, 'events.ndjson'));
  });
  runCopy(dir, 'fifo', (run) => {
    execFileSync('rm', [join(run, 'events.ndjson')]);
    execFileSync('mkfifo', [join(run, 'events.ndjson')]);
  });
  runCopy(dir, 'zero', (run) => {
    execFileSync('rm', [join(run, 'events.ndjson')]);
    symlinkSync('/dev/zero', join(run, 'events.ndjson'));
  });
  runCopy(dir, 'sparse', (run) => truncateSync(join(run, 'events.ndjson'), 2 ** 31));
  runCopy(dir, 'secret-line', (run) => {
    const events = join(run, 'events.ndjson');
    writeFileSync(
      events,
      `{"ev":"phase","phase":"baseline","t":1}\n${MARKER}\n{"ev":"phase","phase":"x","t":2}\n`,
    );
  });
  runCopy(dir, 'secret-compiled', (run) =>
    writeFileSync(join(run, 'compiled.json'), `{\n  "format": ${MARKER}\n}\n`),
  );
  runCopy(dir, 'scenario-link', (run) => {
    execFileSync('rm', [join(run, 'scenario.yaml')]);
    symlinkSync(join(priv, 'secret.txt'), join(run, 'scenario.yaml'));
  });
  runCopy(dir, 'report-folder', (run) => mkdirSync(join(run, 'report.html')));
  runCopy(dir, 'huge-observed', (run) =>
    editJson(join(run, 'summary.json'), { observed_ns: 1e19 }),
  );
  runCopy(dir, 'huge-duration', (run) =>
    editJson(join(run, 'compiled.json'), { duration_ns: 1e300 }),
  );

  // Sweep folders whose sweep.json claims too much or names folders outside itself.
  sweepFolder(dir, 'repeat-1e9', { repeat: 1e9, runs_total: 1e9 });
  sweepFolder(dir, 'many-cells', {
    cells: Array.from({ length: 20_000 }, (_, i) => ({ index: i, id: `c${i}`, params: {} })),
    runs_total: 20_000,
  });
  sweepFolder(dir, 'cell-dot-dot', { cells: [{ index: 0, id: '../../etc', params: {} }] });
  const linked = sweepFolder(dir, 'cell-link', {});
  symlinkSync(priv, join(linked, 'c0'));
  const link = join(dir, 'sweeps', 'json-link');
  mkdirSync(link);
  symlinkSync('/etc/passwd', join(link, 'sweep.json'));
}

const SCENARIO = located;
const USAGE = (text: string) => new RegExp(`^qoslab: .*${text}`, 'm');

/** validate of each trace-<name>.yaml: every refusal located at the trace key. */
function traceCases(): HostileCase[] {
  const why: Record<string, string> = {
    environ: "'/proc/self/environ' is under /proc, which a scenario may never name",
    'environ-link': "'environ.trace' leads to /proc/",
    'fd-link': "'/dev/fd/0' is under /dev",
    shadow: "'/etc/shadow' leads to /etc/shadow, outside the scenario's folder",
    'dot-dot': "'../../../../../../etc/passwd' leads to /etc/passwd, outside",
    private: "'.*secret\\.trace' leads to .*secret\\.trace, outside the scenario's folder",
    'private-link': "'private\\.trace' leads to .*secret\\.trace, outside",
    fifo: "'fifo\\.yaml' is a FIFO \\(named pipe\\), not a regular file",
    'dev-zero': "'/dev/zero' is under /dev",
    'zero-link': "'zero\\.yaml' leads to /dev/zero, under /dev",
    sparse: "'sparse\\.trace' is 2147483648 bytes; at most 16 MiB are read",
    'one-line': "'one-line\\.trace' line 1, column 1: expected a whole number of milliseconds",
    folder: "'a-dir\\.yaml' is a directory, not a regular file",
    missing: "'nope\\.trace' does not exist",
  };
  return Object.entries(why).map(([name, text]) => ({
    name: `trace ${name}: validate`,
    args: ['validate', `$D/trace-${name}.yaml`],
    code: 2,
    message: new RegExp(
      `trace-${name}\\.yaml:\\d+:\\d+  network\\.uplink\\.trace  trace file ${text}`,
    ),
  }));
}

export const CASES: HostileCase[] = [
  // Alias bombs, size, nesting, encodings
  {
    name: 'billion laughs: validate',
    args: ['validate', '$D/lol.yaml'],
    code: 2,
    message: SCENARIO('lol.yaml', 'aliases expand too much'),
  },
  {
    name: 'billion laughs: run',
    args: ['run', '$D/lol.yaml'],
    code: 2,
    message: SCENARIO('lol.yaml', 'aliases expand too much'),
  },
  {
    name: 'billion laughs: simulate',
    args: ['simulate', '$D/lol.yaml'],
    code: 2,
    message: SCENARIO('lol.yaml', 'aliases expand too much'),
  },
  {
    name: 'a 2 MB file',
    args: ['validate', '$D/oversized.yaml'],
    code: 2,
    message: /may be at most 1048576 bytes/,
  },
  {
    name: 'a 2 MB file: run',
    args: ['run', '$D/oversized.yaml'],
    code: 2,
    message: USAGE('may be at most 1048576 bytes'),
  },
  {
    name: '100 000 nested [',
    args: ['validate', '$D/deep-flow.yaml'],
    code: 2,
    message: SCENARIO('deep-flow.yaml', 'nested too deeply'),
  },
  {
    name: '400 nested maps',
    args: ['validate', '$D/deep-map.yaml'],
    code: 2,
    message: SCENARIO('deep-map.yaml', ''),
  },
  {
    name: 'a 20 000-entry timeline',
    args: ['validate', '$D/huge-list.yaml'],
    code: 2,
    message: SCENARIO('huge-list.yaml', ''),
  },
  {
    name: '3000 workloads on a missing host',
    args: ['validate', '$D/many-workloads.yaml'],
    code: 2,
    message: SCENARIO('many-workloads.yaml', "host 'nohost'"),
  },
  {
    name: 'a 100 000-character key',
    args: ['validate', '$D/long-key.yaml'],
    code: 2,
    message: SCENARIO('long-key.yaml', ''),
  },
  {
    name: 'NUL bytes in the file',
    args: ['validate', '$D/nul-bytes.yaml'],
    code: 2,
    message: SCENARIO('nul-bytes.yaml', ''),
  },
  {
    name: 'NUL in a name',
    args: ['validate', '$D/nul-in-name.yaml'],
    code: 2,
    message: SCENARIO('nul-in-name.yaml', 'name'),
  },
  {
    name: 'binary garbage',
    args: ['validate', '$D/binary.yaml'],
    code: 2,
    message: SCENARIO('binary.yaml', ''),
  },
  {
    name: 'UTF-16 with a BOM',
    args: ['validate', '$D/utf16.yaml'],
    code: 2,
    message: SCENARIO('utf16.yaml', ''),
  },
  {
    name: 'tabs for indentation',
    args: ['validate', '$D/tabs.yaml'],
    code: 2,
    message: SCENARIO('tabs.yaml', ''),
  },
  {
    name: 'an empty file',
    args: ['validate', '$D/empty.yaml'],
    code: 2,
    message: SCENARIO('empty.yaml', 'expected a scenario map'),
  },
  {
    name: 'only ---',
    args: ['validate', '$D/only-dashes.yaml'],
    code: 2,
    message: SCENARIO('only-dashes.yaml', 'expected a scenario map'),
  },
  {
    name: 'a list at the top',
    args: ['validate', '$D/a-list.yaml'],
    code: 2,
    message: SCENARIO('a-list.yaml', 'expected a scenario map'),
  },
  {
    name: 'a number at the top',
    args: ['validate', '$D/a-number.yaml'],
    code: 2,
    message: SCENARIO('a-number.yaml', 'expected a scenario map'),
  },
  {
    name: 'duplicate keys',
    args: ['validate', '$D/duplicate-keys.yaml'],
    code: 2,
    message: SCENARIO('duplicate-keys.yaml', 'unique'),
  },
  {
    name: 'version 2',
    args: ['validate', '$D/version-2.yaml'],
    code: 2,
    message: SCENARIO('version-2.yaml', 'version'),
  },
  {
    name: 'an unknown key',
    args: ['validate', '$D/unknown-key.yaml'],
    code: 2,
    message: SCENARIO('unknown-key.yaml', 'colour'),
  },
  {
    name: 'broken JSON',
    args: ['validate', '$D/bad-json.json'],
    code: 2,
    message: SCENARIO('bad-json.json', ''),
  },
  {
    name: 'anchors onto unknown keys',
    args: ['validate', '$D/anchors-ok-but-wrong.yaml'],
    code: 2,
    message: SCENARIO('anchors-ok-but-wrong.yaml', ''),
  },
  // Unicode
  {
    name: 'a Cyrillic workload name',
    args: ['validate', '$D/unicode-workload.yaml'],
    code: 2,
    message: SCENARIO('unicode-workload.yaml', 'name'),
  },
  {
    name: 'a Cyrillic host name',
    args: ['validate', '$D/unicode-host.yaml'],
    code: 2,
    message: SCENARIO('unicode-host.yaml', 'DNS name'),
  },
  {
    name: 'an emoji scenario name',
    args: ['validate', '$D/emoji-name.yaml'],
    code: 2,
    message: SCENARIO('emoji-name.yaml', 'name'),
  },
  {
    name: 'a right-to-left override in a name',
    args: ['validate', '$D/rtl-override.yaml'],
    code: 2,
    message: SCENARIO('rtl-override.yaml', 'name'),
  },
  // Numbers beyond the core's integers, sizes beyond the documented maximum
  {
    name: 'rate 99999999999999999999gbit: validate',
    args: ['validate', '$D/rate-overflow.yaml'],
    code: 2,
    message: SCENARIO('rate-overflow.yaml', 'at most 1000gbit'),
  },
  {
    name: 'rate 99999999999999999999gbit: simulate',
    args: ['simulate', '$D/rate-overflow.yaml'],
    code: 2,
    message: SCENARIO('rate-overflow.yaml', 'at most 1000gbit'),
  },
  {
    name: 'rate 99999999999999999999gbit: run',
    args: ['run', '$D/rate-overflow.yaml'],
    code: 2,
    message: SCENARIO('rate-overflow.yaml', 'at most 1000gbit'),
  },
  {
    name: 'jitter 1000000h: simulate',
    args: ['simulate', '$D/jitter-huge.yaml'],
    code: 2,
    message: SCENARIO('jitter-huge.yaml', 'at most 168h'),
  },
  {
    name: 'jitter 1000000h: run',
    args: ['run', '$D/jitter-huge.yaml'],
    code: 2,
    message: SCENARIO('jitter-huge.yaml', 'at most 168h'),
  },
  {
    name: 'duration 1000000h',
    args: ['validate', '$D/duration-huge.yaml'],
    code: 2,
    message: SCENARIO('duration-huge.yaml', 'at most 168h'),
  },
  {
    name: 'size 100GB',
    args: ['run', '$D/size-100gb.yaml'],
    code: 2,
    message: SCENARIO('size-100gb.yaml', 'at most 1GiB'),
  },
  {
    name: 'size 2^64 bytes',
    args: ['validate', '$D/size-2pow64.yaml'],
    code: 2,
    message: SCENARIO('size-2pow64.yaml', 'size'),
  },
  {
    name: 'messages of 100MB: run',
    args: ['run', '$D/size-100mb.yaml'],
    code: 2,
    message: SCENARIO('size-100mb.yaml', 'larger than qoslab run sends'),
  },
  {
    name: '1e30 connections',
    args: ['validate', '$D/connections-huge.yaml'],
    code: 2,
    message: SCENARIO('connections-huge.yaml', 'expected a number <= 10000'),
  },
  {
    name: 'port 99999',
    args: ['validate', '$D/port-huge.yaml'],
    code: 2,
    message: SCENARIO('port-huge.yaml', 'port'),
  },
  {
    name: 'every 0s',
    args: ['validate', '$D/every-zero.yaml'],
    code: 2,
    message: SCENARIO('every-zero.yaml', 'longer than 0'),
  },
  {
    name: 'seed 1e300 in the file',
    args: ['validate', '$D/seed-float.yaml'],
    code: 2,
    message: SCENARIO('seed-float.yaml', 'expected a number <= 9007199254740991'),
  },
  {
    name: 'seed -1 in the file',
    args: ['validate', '$D/seed-negative.yaml'],
    code: 2,
    message: SCENARIO('seed-negative.yaml', 'expected a number >= 0'),
  },
  {
    name: 'loss 200%',
    args: ['validate', '$D/probability-200.yaml'],
    code: 2,
    message: SCENARIO('probability-200.yaml', 'within 0..1'),
  },
  // Addresses outside the lab
  {
    name: 'host address 8.8.8.8',
    args: ['validate', '$D/address-outside.yaml'],
    code: 2,
    message: SCENARIO('address-outside.yaml', 'outside the lab'),
  },
  {
    name: 'host address6 2001:db8::1',
    args: ['validate', '$D/address6-outside.yaml'],
    code: 2,
    message: SCENARIO('address6-outside.yaml', 'outside the lab'),
  },
  {
    name: "a host in the client's half",
    args: ['validate', '$D/address-client-half.yaml'],
    code: 2,
    message: SCENARIO('address-client-half.yaml', 'outside the lab'),
  },
  // References and expectations
  {
    name: 'an expectation about no workload',
    args: ['validate', '$D/expect-unknown.yaml'],
    code: 2,
    message: SCENARIO('expect-unknown.yaml', 'nosuch'),
  },
  {
    name: 'an expectation in prose',
    args: ['validate', '$D/expect-garbage.yaml'],
    code: 2,
    message: SCENARIO('expect-garbage.yaml', ''),
  },
  {
    name: 'a timeline entry after the end',
    args: ['validate', '$D/timeline-late.yaml'],
    code: 2,
    message: SCENARIO('timeline-late.yaml', ''),
  },
  {
    name: 'two datagram protocols on one UDP port: run refuses before any lab',
    args: ['run', '$D/port-clash.yaml'],
    code: 2,
    message: SCENARIO('port-clash.yaml', 'cannot share a UDP port'),
  },
  // Paths that are not scenario files
  {
    name: 'a directory: run',
    args: ['run', '$D/a-dir.yaml'],
    code: 2,
    message: USAGE('is a directory'),
  },
  {
    name: 'a directory: simulate',
    args: ['simulate', '$D/a-dir.yaml'],
    code: 2,
    message: USAGE('is a directory'),
  },
  {
    name: 'a directory: shell',
    args: ['shell', '$D/a-dir.yaml', '--', 'true'],
    code: 2,
    message: USAGE('is a directory'),
  },
  {
    name: 'a directory: validate',
    args: ['validate', '$D/a-dir.yaml'],
    code: 2,
    message: /is a directory/,
  },
  { name: 'a symlink loop', args: ['run', '$D/loop-a.yaml'], code: 2, message: USAGE('') },
  {
    name: '/dev/zero through a symlink',
    args: ['simulate', '$D/zero.yaml'],
    code: 2,
    message: USAGE('not a regular file'),
  },
  { name: 'a FIFO', args: ['validate', '$D/fifo.yaml'], code: 2, message: /not a regular file/ },
  {
    name: 'no such file',
    args: ['run', '$D/nope.yaml'],
    code: 2,
    message: USAGE('no scenario file'),
  },
  {
    name: 'no such library name',
    args: ['simulate', 'messengerz'],
    code: 2,
    message: USAGE('did you mean'),
  },
  // --seed, --duration
  {
    name: '--seed -1',
    args: ['run', '$D/ok.yaml', '--seed', '-1'],
    code: 2,
    message: USAGE('--seed must be an integer from 0'),
  },
  {
    name: '--seed 1.5',
    args: ['run', '$D/ok.yaml', '--seed', '1.5'],
    code: 2,
    message: USAGE('--seed must be an integer from 0'),
  },
  {
    name: '--seed abc',
    args: ['run', '$D/ok.yaml', '--seed', 'abc'],
    code: 2,
    message: USAGE('--seed must be an integer from 0'),
  },
  {
    name: '--seed 1e300',
    args: ['run', '$D/ok.yaml', '--seed', '1e300'],
    code: 2,
    message: USAGE('--seed must be an integer from 0'),
  },
  {
    name: '--duration 0s',
    args: ['run', '$D/ok.yaml', '--duration', '0s'],
    code: 2,
    message: USAGE('--duration must be a positive duration'),
  },
  {
    name: '--duration 1000000h',
    args: ['run', '$D/ok.yaml', '--duration', '1000000h'],
    code: 2,
    message: USAGE('--duration must be a positive duration'),
  },
  {
    name: '--duration ５s (full-width digit)',
    args: ['simulate', '$D/ok.yaml', '--duration', '５s'],
    code: 2,
    message: USAGE('--duration must be a positive duration'),
  },
  // Output paths, checked before any lab
  {
    name: '--out /proc/x',
    args: ['run', '$D/ok.yaml', '--out', '/proc/x'],
    code: 2,
    message: USAGE("--out '/proc/x': is inside /proc"),
  },
  {
    name: '--out /sys/x',
    args: ['run', '$D/ok.yaml', '--out', '/sys/x'],
    code: 2,
    message: USAGE("--out '/sys/x': is inside /sys"),
  },
  {
    name: '--out an existing file',
    args: ['run', '$D/ok.yaml', '--out', '$D/a-file'],
    code: 2,
    message: USAGE('exists and is not a directory'),
  },
  {
    name: '--out under a file',
    args: ['run', '$D/ok.yaml', '--out', '$D/a-file/x'],
    code: 2,
    message: USAGE('is not a directory'),
  },
  {
    name: '--out an earlier run',
    args: ['run', '$D/ok.yaml', '--out', '$D/earlier-run'],
    code: 2,
    message: USAGE('holds an earlier run \\(summary.json\\)'),
  },
  {
    name: '--out a dangling symlink',
    args: ['run', '$D/ok.yaml', '--out', '$D/dangling'],
    code: 2,
    message: USAGE('dangling symbolic link'),
  },
  {
    name: '--out a symlink loop',
    args: ['run', '$D/ok.yaml', '--out', '$D/loop-a.yaml'],
    code: 2,
    message: USAGE('dangling symbolic link'),
  },
  {
    name: 'report --csv /proc/x.csv',
    args: ['report', 'test/report/fixtures/run-basic', '--csv', '/proc/x.csv'],
    code: 2,
    message: USAGE("--csv '/proc/x.csv': is inside /proc"),
  },
  {
    name: 'report --csv a directory',
    args: ['report', 'test/report/fixtures/run-basic', '--csv', '$D/a-dir.yaml'],
    code: 2,
    message: USAGE('not a regular file'),
  },
  {
    name: 'report --csv in no folder',
    args: ['report', 'test/report/fixtures/run-basic', '--csv', '$D/none/x.csv'],
    code: 2,
    message: USAGE('does not exist'),
  },
  {
    name: 'report of a folder that is no run',
    args: ['report', '$D/not-a-run'],
    code: 2,
    message: USAGE('not a qoslab run directory'),
  },
  {
    name: 'report of a file',
    args: ['report', '$D/a-file'],
    code: 2,
    message: USAGE('is not a directory'),
  },
  {
    name: 'report of a run with broken JSON',
    args: ['report', '$D/bad-run'],
    code: 2,
    message: USAGE('is not valid JSON'),
  },
  {
    name: 'compare of no runs',
    args: ['compare', '$D/not-a-run', '$D/a-file'],
    code: 2,
    message: USAGE(''),
  },
  // shell without a lab needed
  {
    name: 'shell: a client command that does not exist',
    args: ['shell', '--', 'qoslab-no-such-command-x'],
    code: 127,
    message: USAGE('command not found: qoslab-no-such-command-x'),
  },
  {
    name: 'shell: a client command that is not executable',
    args: ['shell', '--', '$D/not-executable'],
    code: 126,
    message: USAGE('is not executable'),
  },
  {
    name: 'shell --mtu 70000',
    args: ['shell', '--mtu', '70000', '--', 'true'],
    code: 2,
    message: USAGE('--mtu must be an integer'),
  },
  {
    name: 'shell --ready-timeout -1',
    args: ['shell', '--ready-timeout', '-1', '--', 'true'],
    code: 2,
    message: USAGE('--ready-timeout must be'),
  },
  // Files a scenario names (docs/security.md "A scenario file")
  ...traceCases(),
  {
    name: 'trace /proc/self/environ: simulate',
    args: ['simulate', '$D/trace-environ.yaml'],
    code: 2,
    message: SCENARIO('trace-environ.yaml', "'/proc/self/environ' is under /proc"),
  },
  {
    name: 'trace /proc/self/environ: run refuses before any lab',
    args: ['run', '$D/trace-environ.yaml', '--out', '$D/never-environ'],
    code: 2,
    message: SCENARIO('trace-environ.yaml', "'/proc/self/environ' is under /proc"),
  },
  {
    name: 'trace /proc/self/environ: shell refuses before any lab',
    args: ['shell', '$D/trace-environ.yaml', '--', 'true'],
    code: 2,
    message: SCENARIO('trace-environ.yaml', "'/proc/self/environ' is under /proc"),
  },
  {
    name: 'trace /proc/self/environ in an action: run',
    args: ['run', '$D/trace-action-environ.yaml', '--out', '$D/never-action'],
    code: 2,
    message: SCENARIO('trace-action-environ.yaml', "'/proc/self/environ' is under /proc"),
  },
  {
    name: 'trace through a link to /proc/self/environ: simulate',
    args: ['simulate', '$D/trace-environ-link.yaml'],
    code: 2,
    message: SCENARIO('trace-environ-link.yaml', 'under /proc'),
  },
  {
    name: 'trace /etc/shadow: simulate',
    args: ['simulate', '$D/trace-shadow.yaml'],
    code: 2,
    message: SCENARIO('trace-shadow.yaml', "outside the scenario's folder"),
  },
  {
    name: 'trace a FIFO: simulate does not hang',
    args: ['simulate', '$D/trace-fifo.yaml'],
    code: 2,
    message: SCENARIO('trace-fifo.yaml', 'is a FIFO'),
  },
  {
    name: 'trace a FIFO: run does not hang',
    args: ['run', '$D/trace-fifo.yaml', '--out', '$D/never-fifo'],
    code: 2,
    message: SCENARIO('trace-fifo.yaml', 'is a FIFO'),
  },
  {
    name: 'trace a 2 GB sparse file: run',
    args: ['run', '$D/trace-sparse.yaml', '--out', '$D/never-sparse'],
    code: 2,
    message: SCENARIO('trace-sparse.yaml', 'at most 16 MiB are read'),
  },
  {
    name: '--allow-path lets a secret be read, and it is still not echoed',
    args: ['validate', '$D/trace-private.yaml', '--allow-path', '$P'],
    code: 2,
    message: SCENARIO('trace-private.yaml', 'line 1, column 1: expected a whole number'),
  },
  {
    name: '--allow-path /proc is refused',
    args: ['validate', '$D/trace-environ.yaml', '--allow-path', '/proc'],
    code: 2,
    message: USAGE('--allow-path /proc: /proc is never read'),
  },
  {
    name: 'a trace in its folder: validate ok',
    args: ['validate', '$D/trace-ok.yaml'],
    code: 0,
    message: /^ok {2}.*trace-ok\.yaml$/m,
  },
  {
    name: 'a trace in its folder: simulate',
    args: ['simulate', '$D/trace-ok.yaml'],
    code: 0,
    message: /ws +main +\d+ +\d+ +100%/,
  },
  {
    name: 'a NUL in a trace path',
    args: ['validate', '$D/trace-nul.yaml'],
    code: 2,
    message: SCENARIO('trace-nul.yaml', 'contains a NUL byte'),
  },
  {
    name: 'sweep --set a trace to /proc/self/environ: every cell is checked before any run',
    args: [
      'sweep',
      '$D/trace-ok.yaml',
      '--set',
      'network.uplink.trace=ok.trace,/proc/self/environ',
      '--out',
      '$D/never-sweep-trace',
    ],
    code: 2,
    message: SCENARIO('trace-ok.yaml with network.uplink.trace=/proc/self/environ', 'under /proc'),
  },
  // Plans beyond the budgets
  {
    name: "every 1ns: validate names the agents' speed limit",
    args: ['validate', '$D/every-1ns.yaml'],
    code: 2,
    message: SCENARIO('every-1ns.yaml', 'refuses plans over 100,000'),
  },
  {
    name: 'every 1ns: simulate',
    args: ['simulate', '$D/every-1ns.yaml'],
    code: 2,
    message: SCENARIO('every-1ns.yaml', 'refuses plans over 100,000'),
  },
  {
    name: 'every 1ns: run',
    args: ['run', '$D/every-1ns.yaml', '--out', '$D/never-1ns'],
    code: 2,
    message: SCENARIO('every-1ns.yaml', 'refuses plans over 100,000'),
  },
  {
    name: 'rate 1000gbit of 200-byte messages: simulate',
    args: ['simulate', '$D/rate-1000gbit.yaml'],
    code: 2,
    message: SCENARIO('rate-1000gbit.yaml', 'refuses plans over 100,000'),
  },
  {
    name: 'a week of messages every 100 ms',
    args: ['validate', '$D/week-of-messages.yaml'],
    code: 2,
    message: SCENARIO('week-of-messages.yaml', 'plans 12,096,000 messages'),
  },
  {
    name: '--duration 168h on a valid plan: run refuses before any lab',
    args: ['run', '$D/ok.yaml', '--duration', '168h', '--out', '$D/never-week'],
    code: 2,
    message: SCENARIO('ok.yaml', 'with --duration 168h'),
  },
  {
    name: 'a 2-hour bulk download: simulate names its packet budget',
    args: ['simulate', '$D/bulk-2h.yaml'],
    code: 2,
    message: USAGE('more than simulate does \\(at most 2,000,000'),
  },
  {
    name: '--set axes of 1 000 000 cells: sweep refuses before any run',
    args: [
      'sweep',
      '$D/ok.yaml',
      '--set',
      `network.uplink.delay=${Array.from({ length: 1000 }, (_, i) => `${i + 1}ms`).join(',')}`,
      '--set',
      `network.downlink.delay=${Array.from({ length: 1000 }, (_, i) => `${i + 1}ms`).join(',')}`,
      '--out',
      '$D/never-sweep',
    ],
    code: 2,
    message: USAGE('the axes make 1000000 cells; a sweep has at most 10000'),
  },
  {
    name: 'sweep --repeat 1e9',
    args: ['sweep', '$D/ok.yaml', '--repeat', '1000000000', '--out', '$D/never-repeat'],
    code: 2,
    message: USAGE('--repeat must be an integer from 1 to 1000'),
  },
  {
    name: 'a workload naming a program: run refuses before any lab',
    args: ['run', '$D/command-workload.yaml', '--out', '$D/never-command'],
    code: 2,
    message: SCENARIO('command-workload.yaml', 'pass --allow-commands'),
  },
  // IPv6 scope ids
  {
    name: 'an address6 with a scope id: run',
    args: ['run', '$D/address6-scope.yaml', '--out', '$D/never-scope'],
    code: 2,
    message: SCENARIO('address6-scope.yaml', 'a scope id'),
  },
  {
    name: 'a CIDR with a scope id: simulate',
    args: ['simulate', '$D/cidr-scope.yaml'],
    code: 2,
    message: SCENARIO('cidr-scope.yaml', 'a scope id'),
  },
  // Run folders from elsewhere (docs/security.md "A results folder")
  {
    name: 'report: summary.json a link to a file outside',
    args: ['report', '$D/runs/links'],
    code: 2,
    message: USAGE('summary\\.json: is a symbolic link; only regular files are read here'),
  },
  {
    name: 'report: report.html a link replaced, its target untouched',
    args: ['report', '$D/runs/html-link'],
    code: 0,
    message: /^report: .*html-link\/report\.html$/m,
  },
  {
    name: 'report: events.ndjson a link to /etc/shadow',
    args: ['report', '$D/runs/shadow'],
    code: 2,
    message: USAGE('events\\.ndjson: is a symbolic link'),
  },
  {
    name: 'compare: events.ndjson a link to /etc/shadow',
    args: ['compare', '$D/runs/shadow', '$D/runs/html-link'],
    code: 2,
    message: USAGE('events\\.ndjson: is a symbolic link'),
  },
  {
    name: 'report: events.ndjson a FIFO does not hang',
    args: ['report', '$D/runs/fifo'],
    code: 2,
    message: USAGE('events\\.ndjson: is a FIFO'),
  },
  {
    name: 'compare: events.ndjson a FIFO does not hang',
    args: ['compare', '$D/runs/html-link', '$D/runs/fifo'],
    code: 2,
    message: USAGE('events\\.ndjson: is a FIFO'),
  },
  {
    name: 'report: events.ndjson a link to /dev/zero',
    args: ['report', '$D/runs/zero'],
    code: 2,
    message: USAGE('events\\.ndjson: is a symbolic link'),
  },
  {
    name: 'report: a 2 GB events.ndjson is refused before reading',
    args: ['report', '$D/runs/sparse'],
    code: 2,
    message: USAGE('is 2147483648 bytes; at most 256 MiB are read'),
  },
  {
    name: 'report: a damaged line is named, not quoted',
    args: ['report', '$D/runs/secret-line'],
    code: 2,
    message: USAGE('events\\.ndjson:2: not a JSON object$'),
  },
  {
    name: 'report: broken compiled.json is located, not quoted',
    args: ['report', '$D/runs/secret-compiled'],
    code: 2,
    message: USAGE("compiled\\.json' is not valid JSON at line 2, column 13"),
  },
  {
    name: 'report: scenario.yaml a link to a secret',
    args: ['report', '$D/runs/scenario-link'],
    code: 2,
    message: USAGE('scenario\\.yaml: is a symbolic link'),
  },
  {
    name: 'report: report.html a folder',
    args: ['report', '$D/runs/report-folder'],
    code: 2,
    message: USAGE('report\\.html: is a folder'),
  },
  {
    name: 'report: a summary claiming 1e19 ns observed (once 4 GB and a hang)',
    args: ['report', '$D/runs/huge-observed'],
    code: 2,
    message: USAGE('summary\\.json is not a qoslab run summary: observed_ns: expected at most'),
  },
  {
    name: 'compare: a compiled.json of 1e300 ns',
    args: ['compare', '$D/runs/huge-duration', '$D/runs/html-link'],
    code: 2,
    message: USAGE(
      'compiled\\.json is not a compiled qoslab scenario: duration_ns: expected at most',
    ),
  },
  // Sweep folders from elsewhere
  {
    name: 'merge: sweep.json with repeat 1e9 ends at once',
    args: ['merge', '$D/sweeps/repeat-1e9', '--out', '$D/never-merge-1'],
    code: 2,
    message: USAGE('repeat must be an integer from 1 to 1000, found 1000000000'),
  },
  {
    name: 'merge: sweep.json with 20 000 cells',
    args: ['merge', '$D/sweeps/many-cells', '--out', '$D/never-merge-2'],
    code: 2,
    message: USAGE('at most 10000 cells, found 20000'),
  },
  {
    name: 'merge: a cell id that climbs out of the folder',
    args: ['merge', '$D/sweeps/cell-dot-dot', '--out', '$D/never-merge-3'],
    code: 2,
    message: USAGE('cells\\[0\\]\\.id must be a folder name'),
  },
  {
    name: 'merge: a cell folder that is a link',
    args: ['merge', '$D/sweeps/cell-link', '--out', '$D/never-merge-4'],
    code: 2,
    message: USAGE('c0: is a symbolic link, not a folder'),
  },
  {
    name: 'merge: sweep.json a link to /etc/passwd',
    args: ['merge', '$D/sweeps/json-link', '--out', '$D/never-merge-5'],
    code: 2,
    message: USAGE('sweep\\.json: is a symbolic link'),
  },
  // The command line itself
  { name: 'an unknown command', args: ['rnu'], code: 2, message: USAGE('') },
  {
    name: 'an unknown option',
    args: ['run', '--frobnicate'],
    code: 2,
    message: USAGE('Unknown argument'),
  },
];

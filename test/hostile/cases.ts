/**
 * The hostile corpus: scenario files and command lines a careless or malicious user could
 * give qoslab. Each names its expected exit code and the shape of its message; none may
 * print a stack trace or exit 1 (an expectation failure, which none of these is).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HostileCase {
  name: string;
  /** Command line; `$D` is replaced by the corpus folder. */
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
};

/** Paths that are not plain files: made with the file system's own calls. */
export function makeSpecialPaths(dir: string): void {
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
}

const SCENARIO = located;
const USAGE = (text: string) => new RegExp(`^qoslab: .*${text}`, 'm');

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
  // The command line itself
  { name: 'an unknown command', args: ['rnu'], code: 2, message: USAGE('') },
  {
    name: 'an unknown option',
    args: ['run', '--frobnicate'],
    code: 2,
    message: USAGE('Unknown argument'),
  },
];

/**
 * `command` workloads and the packet capture in real labs: a Python web server and a curl
 * loop measured from their flows; a client that fails is a fault (exit 4) naming it, a
 * server that never gets ready stops the run before it starts; nothing is left behind.
 * And a capture that tshark reads with the counts the run measured, and `shell`'s own
 * results folder. Each run is a few seconds of lab time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlowEndLine, FlowLine } from '../../src/record/flows.js';
import type { MeasureEvent } from '../../src/record/events.js';
import { isRoot, pidsWith, qoslab } from '../helpers/cli.js';
import { readSummary, startQoslab, tmpOut } from '../run/helpers.js';

const fixture = (name: string) => new URL(`./fixtures/${name}.yaml`, import.meta.url).pathname;
const lines = <T>(dir: string, file: string): T[] =>
  readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

/** tshark's packet count per capture interface (frame.interface_name), with the comments. */
function tsharkCounts(file: string): { counts: Record<string, number>; comments: string[] } {
  const r = spawnSync(
    'tshark',
    ['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment'],
    {
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const counts: Record<string, number> = {};
  const comments: string[] = [];
  for (const line of r.stdout.split('\n').filter((l) => l !== '')) {
    const [iface, comment] = line.split('\t');
    counts[iface!] = (counts[iface!] ?? 0) + 1;
    if (comment) comments.push(comment);
  }
  return { counts, comments };
}

describe.skipIf(!isRoot)('command workloads', () => {
  it('runs a server and a client program, measures their flows and keeps their output', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('cmd-web'), '--out', out, '--allow-commands']);
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    expect(s.expectations.map((e) => [e.text, e.outcome])).toEqual([
      ['site.tcp.handshake.p50 > 38ms', 'ok'],
      ['site.flows.opened == 3', 'ok'],
    ]);
    // 20 ms each way: the client's connect() waits one round trip of the lab.
    const all = s.flows!.workloads.find((w) => w.name === 'site')!.scopes.at(-1)!;
    expect(all.tcp_handshake.p50!).toBeGreaterThan(40e6);
    expect(all.tcp_handshake.p50!).toBeLessThan(60e6);
    expect(all.goodput_bytes.down).toBeGreaterThan(3 * 100);
    // The printed table has the flows, and no empty message rows for the command.
    expect(r.stdout).toMatch(/FLOWS OF\s+PHASE\s+OPENED/);
    expect(r.stdout).not.toMatch(/SENT\s+DELIVERED/);
    // Its output and life are kept.
    expect(readFileSync(join(out, 'commands/site/client.stdout'), 'utf8')).toBe('done\n');
    expect(readFileSync(join(out, 'commands/site/server.stderr'), 'utf8')).toMatch(/GET \/ HTTP/);
    const life = lines<MeasureEvent>(out, 'events.ndjson')
      .filter((e) => e.ev === 'program')
      .map((e) => e.ev === 'program' && `${e.role} ${e.state} ${e.code ?? ''}`);
    expect(life).toEqual([
      'server started ',
      'server ready ',
      'client started ',
      'client exited 0',
      'server stopped ',
    ]);
    expect(pidsWith('http.server 8080')).toEqual([]);
  });

  it('a client that fails is a fault naming it and its last words: exit 4', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('cmd-crash'), '--out', out, '--allow-commands']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /the client program of workload 'app' exited with code 3 at 1\.\d s \(giving up: no route to the moon\); the run stops/,
    );
    const s = readSummary(out);
    expect(s.status).toBe('failed');
    expect(s.faults[0]).toMatchObject({ role: 'client', workload: 'app', code: 3 });
    expect(pidsWith('http.server 8080')).toEqual([]);
  });

  it('a server that is never ready stops the run before it starts: exit 4', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('cmd-never-ready'), '--out', out, '--allow-commands']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /the server program of workload 'app' printed no line matching \/\^listening\/ within 1 s/,
    );
    expect(readFileSync(join(out, 'commands/app/server.stdout'), 'utf8')).toMatch(/never comes/);
    expect(pidsWith('never comes')).toEqual([]);
  });

  it('Ctrl-C ends every program it started, and their children: exit 130', async () => {
    const out = tmpOut();
    const run = startQoslab(
      ['run', fixture('cmd-long'), '--out', out, '--allow-commands'],
      /phase main/,
    );
    await run.matched;
    await new Promise((r) => setTimeout(r, 500));
    // The sleep, and the shell that runs it (its command line holds the same words).
    expect(pidsWith('sleep 29.72').length, 'the client runs').toBeGreaterThanOrEqual(1);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(readSummary(out).status).toBe('interrupted');
    for (const p of ['sleep 29.71', 'sleep 29.72', 'http.server 8080'])
      expect(pidsWith(p), p).toEqual([]);
    const life = lines<MeasureEvent>(out, 'events.ndjson').filter((e) => e.ev === 'program');
    expect(life.filter((e) => e.ev === 'program' && e.state === 'stopped')).toHaveLength(2);
  });

  it('is refused without --allow-commands, before any lab: exit 2', async () => {
    const r = await qoslab(['run', fixture('cmd-web'), '--out', tmpOut()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /workloads\[0\]\.command {2}runs programs \(server \/usr\/bin\/python3, client sh\); pass --allow-commands/,
    );
  });
});

describe.skipIf(!isRoot || !hasTshark)('packet capture', () => {
  it('tshark reads before, after and dropped with the counts the run measured', async () => {
    const out = tmpOut();
    const r = await qoslab(['run', fixture('capture-voice'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = readSummary(out);
    expect(s.capture).toMatchObject({ lost: 0, files: 1, error: null });
    const flows = lines<FlowLine>(out, 'flows.ndjson').filter(
      (l): l is FlowEndLine => l.ev === 'flow' && l.workload === 'voice',
    );
    expect(flows).toHaveLength(1);
    const voice = flows[0]!;
    const { counts, comments } = tsharkCounts(join(out, 'capture.pcapng'));
    // The capture holds the voice flow only (the websocket's flow is filtered out), every
    // datagram once before shaping, and after shaping or dropped, with the reason.
    expect(counts['up-in']).toBe(voice.up.packets_in);
    expect(counts['up-out']).toBe(voice.up.packets_out);
    expect(counts['down-in']).toBe(voice.down.packets_in);
    expect(counts['down-out']).toBe(voice.down.packets_out);
    expect(counts.dropped).toBe(voice.up.drops.loss);
    expect(counts.dropped).toBeGreaterThan(5);
    expect(comments).toEqual(new Array(counts.dropped).fill('dropped by qoslab: loss (up)'));
    expect(s.capture!.packets).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
    // 64 bytes kept of each packet (its IP and UDP headers and the start of the frame).
    const lengths = spawnSync(
      'tshark',
      ['-r', join(out, 'capture.pcapng'), '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len'],
      { encoding: 'utf8' },
    )
      .stdout.trim()
      .split('\n')
      .map((l) => l.split('\t').map(Number) as [number, number]);
    expect(lengths.filter(([len]) => len > 64).length).toBeGreaterThan(10);
    for (const [len, kept] of lengths) expect(kept).toBe(Math.min(len, 64));
  });

  it('shell leaves flows.ndjson, a summary and a capture of what its programs did', async () => {
    const out = tmpOut();
    const r = await qoslab([
      'shell',
      '--out',
      out,
      '--pcap',
      '--',
      'sh',
      '-c',
      // By address: a name would add the lab resolver's lookups to the capture.
      'ping -4 -c 3 -i 0.2 -W 2 $QOSLAB_SERVER_ADDR > /dev/null',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    for (const f of [
      'compiled.json',
      'events.ndjson',
      'flows.ndjson',
      'summary.json',
      'report.html',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const ping = lines<FlowLine>(out, 'flows.ndjson').find(
      (l): l is FlowEndLine => l.ev === 'flow' && l.proto === 'icmp',
    )!;
    expect([ping.up.packets_in, ping.down.packets_out]).toEqual([3, 3]);
    expect(ping.host).toBe('server');
    const { counts } = tsharkCounts(join(out, 'capture.pcapng'));
    expect(counts).toMatchObject({ 'up-in': 3, 'up-out': 3, 'down-in': 3, 'down-out': 3 });
    // report and compare read the folder as a run's.
    const rep = await qoslab(['report', out]);
    expect(rep.code, rep.stderr).toBe(0);
  });
});

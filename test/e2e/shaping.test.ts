import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, qoslab } from '../helpers/cli.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const scenario = (name: string) => here(`./scenarios/${name}.yaml`);
const node = process.execPath;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Receiver goodput in bit/s from iperf3 -J output. */
const iperfGoodput = (stdout: string) =>
  (JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
    .bits_per_second;

describe.skipIf(!isRoot)('shaping end to end, through qoslab shell SCENARIO', () => {
  let certDir = '';
  let cert = '';
  let key = '';

  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'qoslab-e2e-'));
    cert = join(certDir, 'cert.pem');
    key = join(certDir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=lab',
        '-addext',
        'subjectAltName=DNS:blocked.lab,DNS:ok.lab',
      ],
      { stdio: 'ignore' },
    );
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  it('adds 20 ms each way: ping RTT is 40 ms +- 0.5 ms at the median', async () => {
    const r = await qoslab([
      'shell',
      scenario('delay-20ms'),
      '--',
      'ping',
      '-4',
      '-n',
      '-c',
      '30',
      '-i',
      '0.05',
      'server.lab',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    expect(rtts).toHaveLength(30);
    expect(Math.abs(median(rtts) - 40)).toBeLessThanOrEqual(0.5);
  });

  it('polices iperf3 to 140 kbit/s: the IP rate lands in 130-150 kbit/s', async () => {
    const r = await qoslab(
      [
        'shell',
        scenario('police-140kbit'),
        '--server',
        'iperf3 -s -1 >/dev/null',
        '--',
        'iperf3',
        '-4',
        '-J',
        '-c',
        'server.lab',
        '-t',
        '15',
        '-O',
        '3',
      ],
      90_000,
    );
    expect(r.code, r.stderr).toBe(0);
    // The policer, like the DPI boxes it models, counts whole IP packets, so iperf3's
    // goodput can never exceed 140k x 1448/1500; compare what the policer counts.
    const ipRate = (iperfGoodput(r.stdout) * 1500) / 1448;
    expect(ipRate).toBeGreaterThanOrEqual(130e3);
    expect(ipRate).toBeLessThanOrEqual(150e3);
  });

  it('shapes a 10 Mbit/s uplink to within 1% (IP rate, from iperf3 goodput)', async () => {
    const r = await qoslab([
      'shell',
      scenario('rate-10mbit'),
      '--server',
      'iperf3 -s -1 >/dev/null',
      '--',
      'iperf3',
      '-4',
      '-J',
      '-c',
      'server.lab',
      '-t',
      '8',
      '-O',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // The shaper counts whole IP packets: 1500 bytes carry 1448 bytes of iperf3 payload
    // (20 B IPv4 + 20 B TCP + 12 B timestamps).
    const ipRate = (iperfGoodput(r.stdout) * 1500) / 1448;
    expect(Math.abs(ipRate / 10e6 - 1)).toBeLessThanOrEqual(0.01);
  });

  const fetchBoth = (scenarioName: string) =>
    qoslab([
      'shell',
      scenario(scenarioName),
      '--server',
      `${node} ${here('./fixtures/tls-serve.mjs')} ${cert} ${key} 443 262144`,
      '--',
      'sh',
      '-c',
      `${node} ${here('./fixtures/tls-fetch.mjs')} blocked.lab 443 4000; ${node} ${here('./fixtures/tls-fetch.mjs')} ok.lab 443 4000`,
    ]);
  const outcomes = (stdout: string) =>
    new Map(
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map(
          (l) => JSON.parse(l) as { host: string; bytes: number; outcome: string; code?: string },
        )
        .map((o) => [o.host, o]),
    );

  it('freezes a TLS download whose SNI matches drop-after 16KB near 16 KB; another SNI completes', async () => {
    const r = await fetchBoth('sni-freeze');
    expect(r.code, r.stderr).toBe(0);
    const o = outcomes(r.stdout);
    expect(o.get('ok.lab')).toMatchObject({ outcome: 'complete', bytes: 262144 });
    const blocked = o.get('blocked.lab')!;
    expect(blocked.outcome).toBe('timeout');
    // 16 KB of IP payload both ways, less the TLS handshake and record overhead.
    expect(blocked.bytes).toBeGreaterThan(8_000);
    expect(blocked.bytes).toBeLessThan(16_000);
  });

  it('makes the client see a connection reset under a reset policy; another SNI completes', async () => {
    const r = await fetchBoth('sni-reset');
    expect(r.code, r.stderr).toBe(0);
    const o = outcomes(r.stdout);
    expect(o.get('ok.lab')).toMatchObject({ outcome: 'complete', bytes: 262144 });
    expect(o.get('blocked.lab')).toMatchObject({ outcome: 'error', code: 'ECONNRESET', bytes: 0 });
  });

  // A real QUIC client (ngtcp2's gtlsclient) against a real QUIC server (gtlsserver):
  // blocked.lab then ok.lab, under a scenario; its stdout says which was fetched.
  const quicBoth = (name: string) => {
    const htdocs = join(certDir, 'htdocs');
    mkdirSync(htdocs, { recursive: true });
    writeFileSync(join(htdocs, 'index.html'), 'quic body\n');
    const get = (h: string) =>
      `mkdir -p ${certDir}/dl-${h} && gtlsclient -q --exit-on-all-streams-close ` +
      `--handshake-timeout=3s --timeout=3s --download=${certDir}/dl-${h} ` +
      `${h} 443 https://${h}/index.html; ` +
      `if [ -s ${certDir}/dl-${h}/index.html ]; then echo "${h} fetched"; else echo "${h} failed"; fi`;
    return qoslab([
      'shell',
      scenario(name),
      '--server',
      // '*': both address families (the client resolves names to IPv6 first).
      `gtlsserver -q -d ${htdocs} '*' 443 ${key} ${cert}`,
      '--',
      'sh',
      '-c',
      `${get('blocked.lab')}; ${get('ok.lab')}`,
    ]);
  };

  // The core decrypts the client's Initial, reads the SNI and drops the blocked name's flow.
  it('drops a QUIC connection whose Initial names blocked.lab under { sni, quic: true }; ok.lab downloads', async () => {
    const r = await quicBoth('quic-sni-blackhole');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok.lab fetched');
    expect(r.stdout).toContain('blocked.lab failed');
  });

  // Default deny with an allowlist whose undecided Initials are held for the verdict.
  it('lets only the allowlisted QUIC name through a default-deny policy that holds undecided Initials', async () => {
    const r = await quicBoth('quic-allowlist-hold');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok.lab fetched');
    expect(r.stdout).toContain('blocked.lab failed');
  });
});

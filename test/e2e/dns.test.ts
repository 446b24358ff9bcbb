/**
 * DNS in the lab, at the packet level: a real resolver client (dig, from bind9-dnsutils)
 * in `qoslab shell`, and the workloads' own lookups in `qoslab run`, against one scenario
 * with every kind of DNS censorship (fixtures/dns-censor.yaml): resolver rules (NXDOMAIN,
 * SERVFAIL, silence, a block page's address), an on-path injector racing the resolver's
 * answer over UDP (not over TCP), DoT and DoH blocked by the resolver's SNI, and an HTTPS
 * record carrying an ECHConfigList.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRoot, qoslab } from '../helpers/cli.js';
import { readSummary, tmpOut } from '../run/helpers.js';
import type { RunSummary } from '../../src/record/summary.js';

const SCENARIO = fileURLToPath(new URL('./fixtures/dns-censor.yaml', import.meta.url));
const hasDig = spawnSync('dig', ['-v']).status === 0;

/** Each command's output after a `== name` line of its own. */
function sections(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name = '';
  for (const line of stdout.split('\n')) {
    const m = /^== (\S+)$/.exec(line);
    if (m) out[(name = m[1]!)] = '';
    else if (name !== '') out[name] += `${line}\n`;
  }
  return out;
}

describe.skipIf(!isRoot || !hasDig)('DNS in the lab', () => {
  it('dig in qoslab shell sees each censor behaviour on the wire', async () => {
    const steps: [string, string][] = [
      ['resolv', 'cat /etc/resolv.conf'],
      ['plain', 'dig +short ok.lab'],
      ['nxdomain', 'dig +tries=1 g.whatsapp.net'],
      ['getent', 'getent hosts g.whatsapp.net; echo "rc=$?"'],
      ['blockpage', 'dig +short www.youtube.com; dig +short blockpage.lab'],
      ['servfail', 'dig +tries=1 servfail.lab'],
      ['silent', 'dig +tries=1 +time=1 silent.lab'],
      ['injected-udp', 'dig +short injected.lab'],
      ['injected-tcp', 'dig +short +tcp injected.lab'],
      ['dot-by-address', 'dig +short +tls ok.lab'],
      ['doh-by-address', 'dig +short +https ok.lab'],
      [
        'doh-by-name',
        'echo | timeout 5 openssl s_client -servername doh.resolver.lab -connect 198.19.0.53:443 2>&1 | grep -c "BEGIN CERTIFICATE"',
      ],
      ['https-record', 'dig +short -t HTTPS ok.lab'],
    ];
    const script = steps.map(([name, cmd]) => `echo "== ${name}"; ${cmd}`).join('; ');
    const r = await qoslab(['shell', SCENARIO, '--phase', 'censored', '--', 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    const s = sections(r.stdout);
    expect(s.resolv).toMatch(/^nameserver 198\.19\.0\.53$/m);
    expect(s.plain!.trim()).toMatch(/^198\.19\.1\.\d+$/);
    expect(s.nxdomain).toContain('status: NXDOMAIN');
    expect(s.getent).toContain('rc=2'); // getaddrinfo: not found
    const [blocked, page] = s.blockpage!.trim().split('\n');
    expect(blocked).toBe(page); // www.youtube.com answers the block page's address
    expect(s.servfail).toContain('status: SERVFAIL');
    expect(s.silent).toMatch(/timed out/);
    // Over UDP the injector's answer arrives first; over TCP the resolver's own.
    expect(s['injected-udp']!.trim()).toBe('10.10.34.35');
    expect(s['injected-tcp']!.trim()).toMatch(/^198\.19\.1\.\d+$/);
    // DoT and DoH by address carry no SNI, so the SNI block does not see them; by name
    // the handshake is reset before the certificate comes.
    expect(s['dot-by-address']!.trim()).toBe(s.plain!.trim());
    expect(s['doh-by-address']!.trim()).toBe(s.plain!.trim());
    expect(s['doh-by-name']!.trim()).toBe('0');
    expect(s['https-record']).toMatch(/^1 \. alpn="h2" ech=AE[A-Za-z0-9+/=]+$/m);
  });

  it("the workloads' own lookups: delivered before the rules, not after; DNS time measured", async () => {
    const out = tmpOut();
    const r = await qoslab(['run', SCENARIO, '--out', out, '--quiet'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const summary = readSummary(out);
    const delivery = (w: string, phase: string) => scope(summary, w, phase).both.delivery;
    for (const w of ['ok-system', 'ok-doh', 'ok-dot', 'ok-https-rr', 'inj-udp', 'inj-tcp']) {
      expect(delivery(w, 'open'), w).toBeGreaterThanOrEqual(0.75);
    }
    for (const w of ['wa-system', 'yt-system', 'inj-udp', 'ok-doh', 'ok-dot', 'wa-chat']) {
      expect(delivery(w, 'censored'), w).toBe(0);
    }
    for (const w of ['ok-system', 'inj-tcp', 'ok-https-rr', 'ok-chat']) {
      expect(delivery(w, 'censored'), w).toBe(1);
    }
    // The chat's connect time holds its lookup, which the resolver logged.
    const chat = scope(summary, 'ok-chat', 'open').scope;
    expect(chat.dns?.count).toBe(1);
    expect(chat.dns!.p50!).toBeGreaterThan(0);
    expect(chat.dns!.p50!).toBeLessThan(chat.connect.p50!);
    const events = readEvents(out);
    const answered = events.filter((e) => e.ev === 'dns' && e.name === 'injected.lab');
    expect(answered.every((e) => e.answers?.[0] !== '10.10.34.35')).toBe(true);
    const rules = new Set(events.filter((e) => e.ev === 'dns').map((e) => e.rule));
    expect(rules).toEqual(new Set([null, 'wa-removed', 'yt-blockpage']));
  });
});

function scope(s: RunSummary, workload: string, phase: string) {
  const w = s.workloads.find((x) => x.name === workload)!;
  const sc = w.scopes.find((x) => x.phase === phase)!;
  return { scope: sc, both: sc.directions.find((d) => d.dir === 'both')! };
}

function readEvents(
  dir: string,
): { ev: string; name?: string; rule?: string | null; answers?: string[] }[] {
  return readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { ev: string });
}

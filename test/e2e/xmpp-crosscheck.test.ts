import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, qoslab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { readSummary, tmpOut } from '../run/helpers.js';

// The cross-check of qoslab's xmpp app profile against a real XMPP pair: prosody (Debian
// `prosody`) in the server namespace and slixmpp (Debian `python3-slixmpp`) in the client
// namespace, driven through `qoslab shell`, under the same 16 KB freeze as a `qoslab run`
// of the profile in a lab of its own, side by side. Both ping every 3 s and give a
// connection up 2 s after an unanswered ping, and send a message of about 250 bytes every
// 200 ms. ~55 s with both labs.
const fixture = new URL('./fixtures/xmpp-freeze.yaml', import.meta.url).pathname;
const client = new URL('./fixtures/xmpp/client.py', import.meta.url).pathname;
const SECONDS = 40;
const PYTHON = '/usr/bin/python3';
const have =
  existsSync('/usr/bin/prosody') &&
  spawnSync(PYTHON, ['-c', 'import slixmpp'], { stdio: 'ignore' }).status === 0;

/** A prosody for the lab: plain XMPP on 5222 of every address, one user, no TLS. */
function prosodyConfig(): string {
  const dir = tmpDir('qoslab-prosody-');
  mkdirSync(join(dir, 'data'));
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    config,
    [
      'daemonize = false',
      'run_as_root = true',
      `pidfile = "${dir}/prosody.pid"`,
      `data_path = "${dir}/data"`,
      'modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence" }',
      'modules_disabled = { "s2s"; "offline"; "c2s_timeout" }',
      'c2s_require_encryption = false',
      'allow_unencrypted_plain_auth = true',
      'authentication = "internal_plain"',
      'c2s_ports = { 5222 }',
      'c2s_interfaces = { "*" }',
      's2s_ports = { }',
      'log = { error = "*console" }',
      'VirtualHost "xmpp.lab"',
      '',
    ].join('\n'),
  );
  const r = spawnSync(
    'prosodyctl',
    ['--config', config, 'register', 'alice', 'xmpp.lab', 'secret'],
    {
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return config;
}

describe.skipIf(!isRoot || !have)('the xmpp profile against prosody and slixmpp', () => {
  it('agree under a 16 KB freeze on reconnects (within 1) and delivery (within 15 points)', async () => {
    const config = prosodyConfig();
    const out = tmpOut();
    const [real, model] = await Promise.all([
      qoslab(
        [
          'shell',
          fixture,
          '--server',
          `prosody --config ${config}`,
          '--',
          PYTHON,
          client,
          'xmpp.lab',
          '5222',
          String(SECONDS),
          '0.2',
          '3',
          '2',
          '100',
          '5',
        ],
        (SECONDS + 40) * 1000,
      ),
      qoslab(['run', fixture, '--duration', `${SECONDS}s`, '--out', out, '--quiet'], 120_000),
    ]);
    expect(real.code, real.stderr).toBe(0);
    expect(model.code, model.stderr).toBe(0);
    const line = real.stdout.trim().split('\n').at(-1)!;
    const r = JSON.parse(line) as { judged: number; received: number; sessions: number };
    const chat = readSummary(out).workloads[0]!.scopes.find((s) => s.phase === null)!;
    // A message to oneself reaches the client down its connection, where the freeze is:
    // compare with the profile's down direction.
    const down = chat.directions.find((d) => d.dir === 'down')!;
    const realDelivery = r.received / r.judged;
    const why = JSON.stringify({
      real: r,
      realDelivery,
      model: { down, reconnects: chat.reconnects },
    });
    console.log(
      `xmpp cross-check: slixmpp ${r.sessions - 1} reconnects, ${(realDelivery * 100).toFixed(1)} % of ${r.judged} back; ` +
        `profile ${chat.reconnects} reconnects, ${((down.delivery ?? 0) * 100).toFixed(1)} % of ${down.counted} down`,
    );
    // Both noticed the freezes and came back...
    expect(r.sessions - 1, why).toBeGreaterThanOrEqual(1);
    expect(chat.reconnects, why).toBeGreaterThanOrEqual(1);
    // ...as often as each other...
    expect(Math.abs(r.sessions - 1 - chat.reconnects), why).toBeLessThanOrEqual(1);
    // ...and lost what went into each freeze: neither all nor nothing, and alike.
    expect(realDelivery, why).toBeGreaterThan(0.2);
    expect(realDelivery, why).toBeLessThan(0.97);
    expect(Math.abs(realDelivery - down.delivery!), why).toBeLessThanOrEqual(0.15);
  }, 150_000);
});

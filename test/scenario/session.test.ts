import { describe, expect, it } from 'vitest';
import { APPS } from '../../src/scenario/apps/index.js';
import { profileLeaves, provenanceOf } from '../../src/scenario/apps/profile.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { validateScenarioText } from '../../src/scenario/load.js';
import { SESSION_DEFAULTS } from '../../src/scenario/session.js';

function compile(text: string) {
  const v = validateScenarioText(text, 's.yaml');
  if (!v.ok) throw new Error(v.problems.map((p) => `${p.path} ${p.message}`).join('\n'));
  return compileScenario(v.scenario);
}
const problems = (text: string) => {
  const v = validateScenarioText(text, 's.yaml');
  return v.ok ? [] : v.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
};
const one = (workload: string, extra = '') =>
  `version: 1\nhosts: { h: { names: [h.lab] }, r: { names: [r.lab] } }\n${extra}workloads:\n  - ${workload}\n`;

describe('session keys', () => {
  it('fill every default for a message workload, and nothing for datagrams', () => {
    const c = compile(
      one('{ name: w, host: h, protocol: websocket }') +
        '  - { name: v, host: h, protocol: udp-voice }\n',
    );
    const [w, v] = c.workloads;
    expect(w!.keepalive).toEqual(SESSION_DEFAULTS.keepalive);
    expect(w!.reconnect).toEqual(SESSION_DEFAULTS.reconnect);
    expect(w!.login).toBeNull();
    expect(w!.outbox).toEqual(SESSION_DEFAULTS.outbox);
    expect(w!.transports.map((t) => t.label)).toEqual(['websocket:443']);
    expect(v).toMatchObject({ keepalive: null, reconnect: null, outbox: null, transports: [] });
  });

  it('take overrides key by key, false to switch one off, and chains of transports', () => {
    const w = compile(
      one(
        '{ name: w, host: h, protocol: tcp-framed, port: 5222, keepalive: { timeout: 5s }, ' +
          'reconnect: { first: 0s, step: 2s, factor: 1 }, login: { round-trips: 2, bytes: 1KB }, ' +
          'outbox: false, fallback: [{ port: 443, after: 4s }, { protocol: websocket, port: 8443 }] }',
      ),
    ).workloads[0]!;
    expect(w.keepalive).toEqual({ interval_ns: 20e9, timeout_ns: 5e9, fail_after_ns: 0 });
    expect(w.reconnect).toMatchObject({ first_ns: 0, step_ns: 2e9, factor: 1, cap_ns: 8e9 });
    expect(w.login).toEqual({ round_trips: 2, bytes: 1000 });
    expect(w.outbox).toBeNull();
    expect(w.transports.map((t) => [t.label, t.tls, t.after_ns])).toEqual([
      ['tcp-framed:5222', false, null],
      ['tcp-framed:443', false, 4e9],
      ['websocket:8443', true, 10e9],
    ]);
  });

  it("keeps http3's fallback: h2 as a chain, QUIC given 3 s", () => {
    const w = compile(one('{ name: q, host: h, protocol: http3, fallback: h2 }')).workloads[0]!;
    expect(w.transports.map((t) => [t.label, t.after_ns])).toEqual([
      ['http3:443', null],
      ['http2:443', 3e9],
    ]);
  });

  it('chains a call from direct to its relays, with their addresses', () => {
    const c = compile(
      one(
        '{ name: call, host: h, protocol: webrtc, fallback: [{ turn: r, after: 5s }, { turn: r, turn_transport: tcp, turn_port: 443, after: 5s }] }',
      ),
    );
    const t = c.workloads[0]!.transports;
    expect(t.map((x) => x.label)).toEqual(['direct', 'turn-udp:3478', 'turn-tcp:443']);
    expect(t[2]!.turn_address).toBe(c.hosts.find((h) => h.name === 'r')!.address);
  });

  it('are refused where they do not apply, located', () => {
    expect(
      problems(
        one('{ name: v, host: h, protocol: udp-voice, keepalive: { interval: 1s } }') +
          '  - { name: c, host: h, protocol: webrtc, login: false, fallback: [{ port: 80 }] }\n' +
          '  - { name: t, host: h, protocol: websocket, port: 8443, fallback: [{ protocol: udp-voice, turn_port: 3 }] }\n' +
          '  - { name: q, host: h, protocol: http3, client: ngtcp2, direction: up, fallback: h2, port: 9443 }\n',
      ),
    ).toEqual([
      "4:57 workloads[0].keepalive: 'keepalive' applies only to message workloads over a connection (websocket, http2, http3, longpoll, mqtt, tcp-framed), not udp-voice",
      "5:50 workloads[1].login: 'login' applies only to message workloads over a connection (websocket, http2, http3, longpoll, mqtt, tcp-framed), not webrtc",
      "5:76 workloads[1].fallback[0].port: 'port' is not a key of a call transport (it takes turn, turn_transport, turn_port, after)",
      '6:81 workloads[2].fallback[0].protocol: a message workload falls back to websocket, http2, http3, longpoll, mqtt or tcp-framed, not udp-voice',
      "6:103 workloads[2].fallback[0].turn_port: 'turn_port' is not a key of a message transport (it takes protocol, port, tls, after)",
      '6:103 workloads[2].fallback[0].turn_port: turn_port needs turn: <host>',
      "7:83 workloads[3].fallback: 'fallback' applies only to connection-oriented workloads (websocket, http2, http3, longpoll, mqtt, tcp-framed, webrtc), not http3 as written here (its client keeps no connection)",
    ]);
  });

  it('refuses a fallback that cannot share its port with another workload of the host', () => {
    expect(
      problems(
        one('{ name: a, host: h, protocol: tcp-framed, port: 5222, fallback: [{ port: 443 }] }') +
          '  - { name: b, host: h, protocol: websocket }\n',
      ),
    ).toEqual([
      "5:5 workloads[1]: 'b' (websocket) needs tcp port 443 of host 'h', which 'a' already serves: one TCP port cannot be both TLS and plain TCP; give one of them another port",
    ]);
  });
});

describe('app profiles', () => {
  it.each(Object.entries(APPS))('%s: every value says where it comes from', (_, profile) => {
    const unsourced = profileLeaves(profile)
      .filter(([path]) => provenanceOf(profile, path) === undefined)
      .map(([path]) => path);
    expect(unsourced).toEqual([]);
    // And every source path names something of the profile.
    const leaves = profileLeaves(profile).map(([p]) => p);
    const dangling = Object.keys(profile.sources).filter(
      (s) => !leaves.some((l) => l === s || l.startsWith(`${s}.`)),
    );
    expect(dangling).toEqual([]);
  });

  it.each(Object.entries(APPS))(
    '%s: each use runs as a workload of a scenario',
    (name, profile) => {
      const uses = Object.keys(profile.uses);
      const c = compile(
        `version: 1\nworkloads:\n${uses.map((u) => `  - { name: ${u}, app: ${name}, use: ${u} }`).join('\n')}\n`,
      );
      expect(c.workloads.map((w) => [w.app, w.use])).toEqual(uses.map((u) => [name, u]));
      for (const w of c.workloads) expect(c.hosts.some((h) => h.name === w.host)).toBe(true);
    },
  );

  it('starts from the profile and lets the scenario override any key, maps key by key', () => {
    const c = compile(
      'version: 1\nhosts: { whatsapp: { names: [chat.example.lab] } }\nworkloads:\n' +
        '  - { name: wa, app: whatsapp, every: 500ms, keepalive: { timeout: 3s } }\n',
    );
    const w = c.workloads[0]!;
    expect(w).toMatchObject({ protocol: 'tcp-framed', port: 5222, tls: false, interval_ns: 500e6 });
    expect(w.keepalive).toEqual({ interval_ns: 25e9, timeout_ns: 3e9, fail_after_ns: 180e9 });
    expect(w.transports.map((t) => t.label)).toEqual(['tcp-framed:5222', 'tcp-framed:443']);
    // The scenario's own host of that name is kept.
    expect(c.hosts.find((h) => h.name === 'whatsapp')!.names).toEqual(['chat.example.lab']);
  });

  it('says which uses an app has', () => {
    expect(problems('version: 1\nworkloads:\n  - { name: x, app: xmpp, use: call }\n')).toContain(
      '3:32 workloads[0].use: app xmpp has no call profile (it has text)',
    );
    expect(
      problems(
        'version: 1\nworkloads:\n  - { name: x, host: server, protocol: websocket, use: text }\n',
      ),
    ).toEqual(['3:56 workloads[0].use: use needs app: <profile>']);
  });
});

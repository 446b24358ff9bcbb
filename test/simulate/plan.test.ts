/**
 * What the twin runs, from the protocols' rows: every registered protocol delivers its
 * row's `loopback` case across a clear lab in virtual time (as test/e2e/protocols.test.ts
 * proves it in a real lab), and the plan carries each row's wire shape.
 */
import { describe, expect, it } from 'vitest';
import { compileScenario, parseScenarioText } from '../../src/scenario/index.js';
import { PROTOCOL_NAMES, PROTOCOLS } from '../../src/scenario/protocols/index.js';
import { planFor, TLS_RECORD_BYTES } from '../../src/simulate/plan.js';
import { simulateScenario } from '../../src/simulate/simulate.js';
import { stringify } from 'yaml';

function everyProtocol() {
  const workloads = PROTOCOL_NAMES.map((protocol, i) => ({
    ...PROTOCOLS[protocol].loopback,
    name: protocol,
    host: 'peer',
    protocol,
    port: 20000 + i,
  }));
  const yaml = stringify({
    version: 1,
    name: 'every-protocol',
    duration: '12s',
    hosts: { peer: { names: ['peer.example.lab'] } },
    workloads,
  });
  return compileScenario(parseScenarioText(yaml, 'every-protocol.yaml'));
}

describe('the twin runs every protocol from its row', () => {
  it.for(['cubic', 'bbr'] as const)(
    'delivers every loopback case across a clear lab (%s)',
    (tcp) => {
      const report = simulateScenario(everyProtocol(), tcp);
      for (const w of report.workloads) {
        const scope = w.scopes.find((s) => s.phase === null)!;
        const both = scope.directions.find((d) => d.dir === 'both')!;
        const measures = PROTOCOLS[w.protocol as keyof typeof PROTOCOLS].measures;
        if (report.unmodelled[w.name]!.includes("the lab's resolver: no lookup is simulated")) {
          // The twin has no resolver: a lookup workload is left out, and says so.
          expect(both.sent, w.name).toBe(0);
          continue;
        }
        if (
          report.unmodelled[w.name]!.includes(
            "its programs' own traffic: the twin sends nothing for it",
          )
        ) {
          // A command workload's traffic is its programs': left out, and says so.
          expect(both.sent, w.name).toBe(0);
          continue;
        }
        if (measures === 'webrtc-stats') {
          expect(both.rtc?.audio?.packets_received, w.name).toBeGreaterThan(400);
          expect(both.lost, w.name).toBe(0);
        } else {
          expect(both.counted, w.name).toBeGreaterThan(measures === 'transfers' ? 1 : 10);
          expect(both.delivery, w.name).toBe(1);
        }
        if (measures === 'messages' || measures === 'transfers') {
          expect(scope.connect.count, w.name).toBeGreaterThan(0);
        }
      }
    },
  );

  it('carries each row wire shape into the plan, with TLS records counted', () => {
    const compiled = everyProtocol();
    const plan = planFor(compiled, 'cubic');
    const of = (name: string) => plan.workloads.find((w) => w.name === name)!;
    expect(of('http2')).toMatchObject({
      kind: 'messages',
      transport: 'tcp',
      tls: { sni: 'peer.example.lab', alpn: ['h2'] },
      plain: null,
      framing: [45 + TLS_RECORD_BYTES, 13 + TLS_RECORD_BYTES],
      reply: [25 + TLS_RECORD_BYTES, 0],
    });
    // tcp-framed has no TLS by default: its stream opens with an obfuscated preamble.
    expect(of('tcp-framed')).toMatchObject({ tls: null, plain: 'random', framing: [4, 4] });
    expect(of('http3')).toMatchObject({ transport: 'quic', split_hello: true });
    expect(of('udp-voice')).toMatchObject({ kind: 'frames', transport: 'udp', interval_ns: 20e6 });
    expect(of('bulk')).toMatchObject({ kind: 'transfers', up: false, down: true });
    expect(of('webrtc')).toMatchObject({ kind: 'rtp', transport: 'udp', relay: null });
    // The run's length and its drain (the longest deadline, 5 s).
    expect(plan.until_ns).toBe(12e9 + 5e9);
  });
});

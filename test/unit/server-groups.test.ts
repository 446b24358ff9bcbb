import { describe, expect, it } from 'vitest';
import { compileScenario } from '../../src/scenario/compile.js';
import { validateScenarioText, parseScenarioText } from '../../src/scenario/load.js';
import { serverGroups } from '../../src/workloads/groups.js';

/** The scenario text of workloads `[name, protocol]` all on server:443, IPv4 only. */
function scenarioOf(...workloads: [string, string][]): string {
  return JSON.stringify({
    version: 1,
    network: { ipv6: false },
    workloads: workloads.map(([name, protocol]) => ({ name, host: 'server', protocol, port: 443 })),
  });
}

function groupsOf(...workloads: [string, string][]) {
  const compiled = compileScenario(parseScenarioText(scenarioOf(...workloads), 'groups'));
  return serverGroups(compiled.workloads, false).map((g) => [g.transport, g.protocols, g.indices]);
}

function problemsOf(...workloads: [string, string][]): string[] {
  const v = validateScenarioText(scenarioOf(...workloads), 'groups');
  return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('server listeners', () => {
  it('share one port between a TCP and a UDP protocol', () => {
    expect(groupsOf(['text', 'websocket'], ['call', 'udp-voice'])).toEqual([
      ['tcp', ['websocket'], [0]],
      ['udp', ['udp-voice'], [1]],
    ]);
  });

  it('put every HTTP-family protocol and MQTT of one TLS port behind one listener', () => {
    expect(
      groupsOf(
        ['a', 'websocket'],
        ['b', 'websocket'],
        ['c', 'http2'],
        ['d', 'mqtt'],
        ['e', 'bulk'],
      ),
    ).toEqual([['tcp', ['websocket', 'http2', 'mqtt', 'bulk'], [0, 1, 2, 3, 4]]]);
  });

  it('give http3 the UDP port for QUIC and the TCP port for its h2 fallback', () => {
    expect(groupsOf(['text', 'websocket'], ['h3', 'http3'])).toEqual([
      ['tcp', ['websocket', 'http3'], [0, 1]],
      ['udp', ['http3'], [1]],
    ]);
  });

  it('leave genuine conflicts to validate, located at the later workload', () => {
    expect(problemsOf(['call', 'udp-voice'], ['h3', 'http3'])).toEqual([
      "workloads[1]: 'h3' (http3) needs udp port 443 of host 'server', which 'call' already serves: udp-voice and quic cannot share a UDP port; give one of them another port",
    ]);
    expect(problemsOf(['text', 'websocket'], ['mtproto', 'tcp-framed'])).toHaveLength(1);
    expect(problemsOf(['a', 'websocket'], ['b', 'http2'], ['c', 'mqtt'])).toEqual([]);
  });
});

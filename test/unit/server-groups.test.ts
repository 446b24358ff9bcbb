import { describe, expect, it } from 'vitest';
import { compileScenario } from '../../src/scenario/compile.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { serverGroups } from '../../src/workloads/groups.js';

/** The server listeners of workloads `[name, protocol]` all on server:443, IPv4 only. */
function groupsOf(...workloads: [string, string][]) {
  const scenario = {
    version: 1,
    network: { ipv6: false },
    workloads: workloads.map(([name, protocol]) => ({ name, host: 'server', protocol, port: 443 })),
  };
  const compiled = compileScenario(parseScenarioText(JSON.stringify(scenario), 'groups'));
  return serverGroups(compiled.workloads, false);
}

describe('server listeners', () => {
  it('share one port between a TCP and a UDP protocol (each protocol says its transport)', () => {
    const { groups, clashes } = groupsOf(['text', 'websocket'], ['call', 'udp-voice']);
    expect(clashes).toEqual([]);
    expect(groups.map((g) => [g.protocol, g.indices])).toEqual([
      ['websocket', [0]],
      ['udp-voice', [1]],
    ]);
    expect(groupsOf(['text', 'websocket'], ['h3', 'http3']).clashes).toEqual([]);
  });

  it('refuse two protocols on one port and transport, and group workloads of one protocol', () => {
    const { groups, clashes } = groupsOf(['a', 'websocket'], ['b', 'websocket'], ['c', 'http2']);
    expect(groups.map((g) => [g.protocol, g.indices])).toEqual([['websocket', [0, 1]]]);
    expect(clashes).toEqual([
      { address: '198.19.0.1', port: 443, transport: 'tcp', workloads: ['b', 'c'] },
    ]);
    expect(groupsOf(['call', 'udp-voice'], ['h3', 'http3']).clashes).toEqual([
      { address: '198.19.0.1', port: 443, transport: 'udp', workloads: ['call', 'h3'] },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { compileScenario } from '../../src/scenario/compile.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { chromiumArgs } from '../../src/workloads/browser.js';
import { listenerArgs, turnUrls } from '../../src/workloads/coturn.js';
import type { AgentContext } from '../../src/workloads/types.js';

/** A call from `peer` relayed by `relay` over `transport` (unset: the default). */
function compiledCall(transport?: string) {
  const text = JSON.stringify({
    version: 1,
    hosts: { peer: { names: ['call.example.lab'] }, relay: { names: ['turn.example.lab'] } },
    workloads: [
      { name: 'call', host: 'peer', protocol: 'webrtc', turn: 'relay', turn_transport: transport },
    ],
  });
  return compileScenario(parseScenarioText(text, 'turn')).workloads[0]!;
}

describe('webrtc calls relayed over TURN', () => {
  it('compile each transport to its default port and the TURN host by address and name', () => {
    const pick = (w: ReturnType<typeof compiledCall>) => [
      w.turn_transport,
      w.turn_port,
      w.turn_server_name,
    ];
    expect(pick(compiledCall())).toEqual(['udp', 3478, 'turn.example.lab']);
    expect(pick(compiledCall('tcp'))).toEqual(['tcp', 3478, 'turn.example.lab']);
    expect(pick(compiledCall('tls'))).toEqual(['tls', 5349, 'turn.example.lab']);
    expect(compiledCall('tcp').turn_address).toMatch(/^198\.19\./);
  });

  it('give the caller a URL of its transport, TLS by the name its certificate says', () => {
    const at = { address: '198.19.1.2', port: 443, serverName: 'turn.example.lab' };
    expect(turnUrls('udp', at)).toEqual([
      'turn:198.19.1.2:443?transport=udp',
      'stun:198.19.1.2:443',
    ]);
    expect(turnUrls('tcp', { ...at, address: 'fd71::2' })).toEqual([
      'turn:[fd71::2]:443?transport=tcp',
    ]);
    expect(turnUrls('tls', at)).toEqual(['turns:turn.example.lab:443?transport=tcp']);
  });

  it('open coturn on that transport only', () => {
    expect(listenerArgs('udp', 3478, undefined)).toEqual(
      expect.arrayContaining(['--listening-port', '3478', '--no-tcp', '--no-tls']),
    );
    expect(listenerArgs('tcp', 443, undefined)).toEqual(
      expect.arrayContaining(['--listening-port', '443', '--no-udp', '--no-tls']),
    );
    const tls = listenerArgs('tls', 5349, { cert: '/c.pem', key: '/k.pem' });
    expect(tls).toEqual(
      expect.arrayContaining(['--tls-listening-port', '5349', '--no-udp', '--no-tcp']),
    );
    expect(tls).not.toContain('--no-tls');
    expect(() => listenerArgs('tls', 5349, undefined)).toThrow(/certificate/);
  });

  it("let the browser reach a TCP TURN server's address, which `MAP *` would fail", () => {
    const rulesOf = (transport: string) => {
      const ctx = { workloads: [compiledCall(transport)], spki: [] } as unknown as AgentContext;
      const arg = chromiumArgs(ctx).find((a) => a.startsWith('--host-resolver-rules='))!;
      return arg.slice('--host-resolver-rules='.length).split(', ');
    };
    const address = compiledCall('tcp').turn_address!;
    expect(rulesOf('udp')).not.toContain(`EXCLUDE ${address}`);
    expect(rulesOf('tcp')).toEqual([
      `MAP call.example.lab ${compiledCall().address}`,
      `EXCLUDE ${address}`,
      'MAP * ~NOTFOUND',
    ]);
    expect(rulesOf('tls')).toContain(`MAP turn.example.lab ${address}`);
    expect(rulesOf('tls').at(-1)).toBe('MAP * ~NOTFOUND');
  });
});

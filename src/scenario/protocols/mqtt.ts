/** mqtt: MQTT 3.1.1 publish/subscribe over TLS (the MQTT-over-TLS port). Agent: src/workloads/mqtt.ts. */
import { plainProtocol } from './protocol.js';

export const mqtt = plainProtocol({
  port: 8883,
  tls: true,
  agent: true,
  transport: 'tcp',
  traffic: 'messages',
  measures: 'messages',
  down: 'hub',
  loopback: { every: '100ms' },
  ports: [{ transport: 'tcp', service: 'alpn', alpn: 'mqtt' }],
});

/** mqtt: MQTT 3.1.1 publish/subscribe over TLS (the MQTT-over-TLS port). Agent: src/workloads/mqtt.ts. */
import { plainProtocol } from './protocol.js';

export const mqtt = plainProtocol({
  port: 8883,
  tls: true,
  agent: true,
  session: 'messages',
  ports: [{ transport: 'tcp', service: 'mqtt' }],
});

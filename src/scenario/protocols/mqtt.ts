/** mqtt: MQTT 3.1.1 publish/subscribe over TLS (the MQTT-over-TLS port). Agent: src/workloads/mqtt.ts. */
import { messageProtocol } from './protocol.js';

export const mqtt = messageProtocol({
  port: 8883,
  tls: true,
  ports: [{ transport: 'tcp', service: 'alpn', alpn: 'mqtt' }],
  // CONNECT/CONNACK and SUBSCRIBE/SUBACK; PUBLISH headers with the topic; QoS 1's PUBACK.
  wire: {
    alpn: ['mqtt'],
    plain: 'mqtt-connect',
    opening: [
      [40, 4],
      [16, 5],
    ],
    framing: [13, 15],
    reply: [4, 4],
    // Not measured on the lab yet: as websocket's (a Node TLS stream and its framing).
    stackNs: 700_000,
    unmodelled: '-',
  },
});

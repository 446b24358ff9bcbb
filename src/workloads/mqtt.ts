/**
 * mqtt: publish/subscribe through an aedes broker over TLS (port 8883 by default), the
 * transport of many push and IoT-style messengers. Up messages are published to
 * `up/<w>/<c>`, down messages to `down/<w>/<c>`, which the client subscribes to before
 * it says hello on `hello/<w>/<c>`. QoS 1 by default; QoS 0 on request (`qos`).
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import { MqttClient } from 'mqtt';
import { errorText, openSocket } from './dial.js';
import { Kind, decodeMessage } from './message.js';
import type { Dialer } from './session.js';
import type { AgentContext, Protocol } from './types.js';

/** QoS of every publish; set by the agent from its options before clients start. */
export const mqttOptions = { qos: 1 as 0 | 1 };

export const mqttWorkload: Protocol = {
  async share(ctx) {
    const broker = await Aedes.createBroker();
    const detachers = new Map<string, () => void>();
    broker.on('publish', (packet, client) => {
      if (client === null) return;
      const topic = packet.topic;
      if (!topic.startsWith('up/') && !topic.startsWith('hello/')) return;
      const payload = Buffer.from(packet.payload as Buffer);
      const hello = decodeMessage(payload);
      // A client's hello: its down messages are published to the topic it subscribed to
      // (one sink per client, so the hub tells its connections apart).
      let send: ((b: Buffer) => void) | undefined;
      if (hello?.kind === Kind.hello) {
        detachers.get(client.id)?.();
        const down = `down/${hello.w}/${hello.c}`;
        send = (b) =>
          broker.publish(
            {
              cmd: 'publish',
              topic: down,
              payload: b,
              qos: mqttOptions.qos,
              retain: false,
              dup: false,
            },
            () => {},
          );
        const own = send;
        detachers.set(client.id, () => ctx.hub.detach(hello.w, hello.c, own));
      }
      ctx.hub.receive(payload, send);
    });
    broker.on('clientDisconnect', (client) => {
      detachers.get(client.id)?.();
      detachers.delete(client.id);
    });
    const handle = broker.handle as unknown as (s: net.Socket) => void;
    return {
      alpn: { name: 'mqtt', accept: (s) => handle(s) },
      close: () => new Promise<void>((r) => broker.close(() => r())),
    };
  },

  dialer(index, c, ctx: AgentContext, via): Dialer {
    const w = ctx.workloads[index]!;
    const qos = mqttOptions.qos;
    return (onMessage, timing, signal) => {
      return new Promise((resolve, reject) => {
        const client = new MqttClient(
          () =>
            openSocket(
              {
                host: w.server_name,
                port: via.port,
                tls: via.tls,
                caPem: ctx.caPem,
                alpn: ['mqtt'],
              },
              timing,
            ),
          {
            clientId: `ql-${index}-${c}-${Date.now().toString(36)}`,
            clean: true,
            reconnectPeriod: 0, // our loop reconnects, with backoff, and counts it
            connectTimeout: 10_000,
            keepalive: 30,
            protocolVersion: 4,
          },
        );
        let closedResolve: (reason: string) => void = () => {};
        const closed = new Promise<string>((r) => (closedResolve = r));
        const fail = (e: Error) => {
          signal.removeEventListener('abort', onAbort);
          client.end(true);
          reject(e);
        };
        const onAbort = () => fail(new Error('connect timed out'));
        signal.addEventListener('abort', onAbort, { once: true });
        client.on('error', (e) => {
          closedResolve(errorText(e));
          fail(e);
        });
        client.on('close', () => closedResolve('connection closed'));
        client.on('message', (_topic, payload) => onMessage(payload));
        client.once('connect', () => {
          client.subscribe(`down/${index}/${c}`, { qos }, (e) => {
            if (e) return fail(e);
            signal.removeEventListener('abort', onAbort);
            resolve({
              send: (b) => {
                const h = b.readUInt8(2) === Kind.hello ? 'hello' : 'up';
                if (client.connected) client.publish(`${h}/${index}/${c}`, b, { qos });
              },
              close: () => client.end(true),
              closed,
            });
          });
        });
      });
    };
  },
};

/** Max, the Russian state-backed messenger: little is published, so most values are assumed. */
import { chatPace, chatPaceSources, photo, REDIAL, relay } from './common.js';
import type { AppProfile } from './profile.js';
import { MAX_ZAPRET } from './sources.js';

export const max: AppProfile = {
  description:
    'a WebSocket to ws-api.oneme.ru; calls direct, then via TURN (values mostly assumed)',
  hosts: {
    max: { names: ['ws-api.oneme.ru'] },
    'max-calls': { names: ['calls.okcdn.ru'] },
  },
  uses: {
    text: {
      host: 'max',
      protocol: 'websocket',
      port: 443,
      ...chatPace(),
      keepalive: { interval: '30s', timeout: '10s', 'fail-after': '0s' },
      reconnect: { first: '0s', initial: '1s', factor: 2, cap: '30s', jitter: '50%' },
      login: { 'round-trips': 1, bytes: '500B' },
      outbox: { timeout: '20s' },
    },
    media: photo('max'),
    call: {
      host: 'max',
      protocol: 'webrtc',
      fallback: [relay('max-calls', 'udp', 3478)],
      reconnect: REDIAL,
    },
  },
  sources: {
    'hosts.max': { cite: MAX_ZAPRET, says: 'Max over WebSocket at ws-api.oneme.ru' },
    'hosts.max-calls': {
      assumed: 'calls.okcdn.ru, as messengers.yaml names it; not published as Max’s call host',
    },
    'text.host': { cite: MAX_ZAPRET, says: 'ws-api.oneme.ru' },
    'text.protocol': { cite: MAX_ZAPRET, says: 'WebSocket' },
    'text.port': { cite: MAX_ZAPRET, says: 'WebSocket over TLS (443)' },
    ...chatPaceSources(),
    'text.keepalive': {
      assumed: 'not published: a ping every 30 s, dead after 10 s without an answer',
    },
    'text.reconnect': { assumed: 'not published: at once, then 1 s doubling to 30 s' },
    'text.login': { assumed: 'not published: one round trip of about 500 B' },
    'text.outbox': {
      assumed: 'not published: 20 s without an acknowledgement means a dead connection',
    },
    media: { assumed: 'not published: a 200 KB photo over HTTPS from the same host, received' },
    call: {
      assumed:
        'not published: direct, then TURN over UDP 3478 after 5 s without media; redials as other apps',
    },
  },
};

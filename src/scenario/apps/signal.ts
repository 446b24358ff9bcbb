/** Signal as its Android client's source shows it. */
import {
  chatPace,
  chatPaceSources,
  photo,
  photoSources,
  REDIAL,
  REDIAL_SOURCE,
  relay,
  RELAY_AFTER_SOURCE,
} from './common.js';
import type { AppProfile } from './profile.js';
import { OONI_SIGNAL, SIGNAL_HEALTH } from './sources.js';

export const signal: AppProfile = {
  description:
    'a WebSocket to chat.signal.org with a keepalive every 30 s, calls via TURN over UDP then TCP',
  hosts: {
    signal: { names: ['chat.signal.org'] },
    'signal-media': { names: ['cdn.signal.org'] },
    'signal-relay': { names: ['turn.voip.signal.org'] },
  },
  uses: {
    text: {
      host: 'signal',
      protocol: 'websocket',
      port: 443,
      ...chatPace(),
      keepalive: { interval: '30s', timeout: '20s', 'fail-after': '0s' },
      reconnect: { first: '0s', initial: '1s', factor: 2, cap: '30s', jitter: '50%' },
      login: false,
      outbox: { timeout: '20s' },
    },
    media: photo('signal-media'),
    call: {
      host: 'signal',
      protocol: 'webrtc',
      fallback: [relay('signal-relay', 'udp', 3478), relay('signal-relay', 'tcp', 443)],
      reconnect: REDIAL,
    },
  },
  sources: {
    'hosts.signal': { cite: OONI_SIGNAL, says: 'chat.signal.org' },
    'hosts.signal-media': { cite: OONI_SIGNAL, says: 'Signal’s CDN' },
    'hosts.signal-relay': {
      assumed: 'a TURN name in the voip.signal.org domain OONI tests (sfu.voip.signal.org)',
    },
    'text.host': { cite: OONI_SIGNAL, says: 'chat.signal.org over TLS' },
    'text.protocol': {
      cite: SIGNAL_HEALTH,
      says: 'the chat connection is a WebSocket (SignalWebSocket) whose health the monitor keeps',
    },
    'text.port': { cite: OONI_SIGNAL, says: 'TLS to chat.signal.org (443)' },
    ...chatPaceSources(),
    'text.keepalive.interval': {
      cite: SIGNAL_HEALTH,
      says: 'KEEP_ALIVE_SEND_CADENCE = KEEPALIVE_FREQUENCY_SECONDS = 30 s (in the foreground)',
    },
    'text.keepalive.timeout': {
      cite: SIGNAL_HEALTH,
      says: 'KEEP_ALIVE_TIMEOUT = 20 s: "the amount of time we will wait for a response to the keep alive before we consider the websockets dead"',
    },
    'text.keepalive.fail-after': { cite: SIGNAL_HEALTH, says: 'the first unanswered keepalive' },
    'text.reconnect': {
      assumed: 'the reconnect delays were not read: at once, then 1 s doubling to 30 s',
    },
    'text.login': { assumed: 'credentials ride the WebSocket upgrade: no round trip of its own' },
    'text.outbox.timeout': { assumed: 'as long as the keepalive timeout' },
    ...photoSources(
      { assumed: 'a compressed photo of about 200 KB' },
      { cite: OONI_SIGNAL, says: 'attachments over HTTPS from Signal’s CDN' },
    ),
    'call.host': { assumed: 'call signalling over the chat host' },
    'call.protocol': {
      cite: OONI_SIGNAL,
      says: 'calls through sfu.voip.signal.org (RingRTC, WebRTC-based)',
    },
    'call.fallback': {
      assumed:
        'TURN over UDP 3478, then over TCP 443: the IANA TURN port and the port that passes most firewalls',
    },
    'call.fallback.0.after': RELAY_AFTER_SOURCE,
    'call.fallback.1.after': RELAY_AFTER_SOURCE,
    'call.reconnect': REDIAL_SOURCE,
  },
};

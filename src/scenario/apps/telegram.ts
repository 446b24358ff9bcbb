/** Telegram as TDLib (the library its clients use) and its transport docs show it. */
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
import { FACTS_PORTS, FACTS_WORKAROUNDS, MTPROTO, TDLIB_SESSION } from './sources.js';

export const telegram: AppProfile = {
  description:
    'MTProto over obfuscated TCP 443, a ping every 2 s that gives up after 5 s; calls over UDP reflectors, then TCP',
  hosts: {
    telegram: { names: ['web.telegram.org'] },
    'telegram-media': { names: ['cdn.telegram.lab'] },
    'telegram-relay': { names: ['reflector.telegram.lab'] },
  },
  uses: {
    text: {
      host: 'telegram',
      protocol: 'tcp-framed',
      port: 443,
      tls: false,
      fallback: [{ port: 80, after: '10s' }],
      ...chatPace(),
      keepalive: { interval: '2s', timeout: '5s', 'fail-after': '0s' },
      reconnect: { first: '0s', initial: '1s', factor: 2, cap: '16s', jitter: '50%' },
      login: { 'round-trips': 1, bytes: '300B' },
      outbox: { timeout: '15s' },
    },
    media: photo('telegram-media', '64KB'),
    call: {
      host: 'telegram-media',
      protocol: 'webrtc',
      fallback: [relay('telegram-relay', 'udp', 596), relay('telegram-relay', 'tcp', 443)],
      reconnect: REDIAL,
    },
  },
  sources: {
    'hosts.telegram': {
      cite: MTPROTO,
      says: 'clients reach Telegram’s data centres; web.telegram.org is the name OONI tests',
    },
    'hosts.telegram-media': {
      assumed: 'media comes from data centres or CDN servers; the name is the lab’s',
    },
    'hosts.telegram-relay': {
      cite: FACTS_PORTS,
      says: 'STUN Binding Requests to 91.108.x.x (reflectors); the name is the lab’s',
    },
    'text.host': { cite: MTPROTO, says: 'MTProto to a data centre' },
    'text.protocol': { cite: MTPROTO, says: 'MTProto frames over TCP, obfuscated' },
    'text.tls': { cite: MTPROTO, says: 'the obfuscated transport carries no TLS' },
    'text.port': { cite: MTPROTO, says: 'MTProto on 443' },
    'text.fallback.0.port': {
      assumed:
        'data centres are also listed on port 80 in client configs (not checked against a primary source)',
    },
    'text.fallback.0.after': {
      assumed: 'how long a port is tried before the next was not published',
    },
    ...chatPaceSources(),
    'text.keepalive.interval': {
      cite: TDLIB_SESSION,
      says: 'online main session: ping_must_delay() = rtt() = max(2, 1.5 × RTT + 1) s: at least every 2 s',
    },
    'text.keepalive.timeout': {
      cite: TDLIB_SESSION,
      says: 'ping_disconnect_delay() = 2.5 × rtt(): 5 s without a pong closes the connection',
    },
    'text.keepalive.fail-after': { cite: TDLIB_SESSION, says: 'the first overdue pong closes it' },
    'text.reconnect': {
      assumed: 'TDLib’s reconnect delays were not read: at once, then 1 s doubling to 16 s',
    },
    'text.login': {
      assumed: 'with its auth key kept, a reconnect costs one round trip (initConnection)',
    },
    'text.outbox.timeout': {
      assumed: 'a query unanswered for 15 s: the connection is treated as dead',
    },
    ...photoSources(
      { assumed: 'a 64 KB photo, as ru-2026-telegram-phased uses' },
      { assumed: 'a file download over HTTPS from the lab’s media host' },
    ),
    'call.host': { assumed: 'call signalling over HTTPS to a host of the app' },
    'call.protocol': { assumed: 'tgcalls is WebRTC-based: ICE over STUN, media over SRTP' },
    'call.fallback.0': {
      cite: FACTS_PORTS,
      says: 'STUN and UDP to the reflectors on ports 596/597',
    },
    'call.fallback.1': {
      cite: FACTS_WORKAROUNDS,
      says: 'the Android debug setting "force TCP" calls',
    },
    'call.fallback.1.turn_port': { assumed: 'the port of TCP calls was not published: 443' },
    'call.fallback.0.after': RELAY_AFTER_SOURCE,
    'call.fallback.1.after': RELAY_AFTER_SOURCE,
    'call.reconnect': REDIAL_SOURCE,
  },
};

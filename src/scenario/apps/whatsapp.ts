/** WhatsApp as its public descriptions and open clients of its protocol show it. */
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
import {
  BAILEYS_DEFAULTS,
  FACTS_PORTS,
  META_NETWORK,
  WHATSMEOW_KEEPALIVE,
  WHATSMEOW_RECONNECT,
} from './sources.js';

const MEDIA = 'pk-2024-whatsapp-media sources (Geo News 2024-07-23)';

export const whatsapp: AppProfile = {
  description:
    'chat on its own protocol over TCP 5222 falling back to 443, media over HTTPS, calls relayed over UDP 3478 then TCP 443',
  hosts: {
    whatsapp: { names: ['g.whatsapp.net'] },
    'whatsapp-media': { names: ['mmg.whatsapp.net'] },
    'whatsapp-relay': { names: ['relay.whatsapp-like.lab'] },
  },
  uses: {
    text: {
      host: 'whatsapp',
      protocol: 'tcp-framed',
      port: 5222,
      tls: false,
      fallback: [{ port: 443, after: '10s' }],
      ...chatPace(),
      keepalive: { interval: '25s', timeout: '10s', 'fail-after': '3m' },
      reconnect: { first: '0s', initial: '2s', factor: 1, step: '2s', cap: '1h', jitter: 0 },
      login: { 'round-trips': 2, bytes: '1KB' },
      outbox: { timeout: '60s' },
    },
    media: photo('whatsapp-media'),
    // Signalling over HTTPS to the media host: the chat host's 443 is the chat's fallback,
    // a framed stream that cannot share its port with HTTPS.
    call: {
      host: 'whatsapp-media',
      protocol: 'webrtc',
      fallback: [relay('whatsapp-relay', 'udp', 3478), relay('whatsapp-relay', 'tcp', 443)],
      reconnect: REDIAL,
    },
  },
  sources: {
    'hosts.whatsapp': {
      cite: FACTS_PORTS,
      says: 'classes match *.whatsapp.net; g.whatsapp.net is the chat endpoint bypass configs and OONI name',
    },
    'hosts.whatsapp-media': { cite: MEDIA, says: 'media from mmg.whatsapp.net' },
    'hosts.whatsapp-relay': { assumed: 'relay names were not published' },
    'text.host': {
      cite: META_NETWORK,
      says: 'chatd, the chat protocol, on a long-lived TCP connection',
    },
    'text.protocol': {
      cite: META_NETWORK,
      says: '"The WhatsApp proprietary chat protocol, called chatd" on a long-lived TCP connection',
    },
    'text.tls': {
      cite: META_NETWORK,
      says: 'firewalls "terminate non-SSL connections": chatd is not TLS',
    },
    'text.port': { cite: META_NETWORK, says: '"The default port ... is 5222"' },
    'text.fallback.0.port': {
      cite: META_NETWORK,
      says: '"If that port is not available, the application will fallback to port 443"',
    },
    'text.fallback.0.after': { assumed: 'how long 5222 is tried before 443 was not published' },
    ...chatPaceSources(),
    'text.keepalive.interval': {
      cite: WHATSMEOW_KEEPALIVE,
      says: 'KeepAliveIntervalMin = 20 s, KeepAliveIntervalMax = 30 s (a random interval between): 25 s on average',
    },
    'text.keepalive.timeout': {
      cite: WHATSMEOW_KEEPALIVE,
      says: 'KeepAliveResponseDeadline = 10 s',
    },
    'text.keepalive.fail-after': {
      cite: WHATSMEOW_KEEPALIVE,
      says: 'KeepAliveMaxFailTime = 3 min: "forcing a reconnect if keepalives fail repeatedly"',
    },
    'text.reconnect': {
      cite: WHATSMEOW_RECONNECT,
      says: 'waits AutoReconnectErrors × 2 s before each attempt: at once, then 2, 4, 6 s ... (no cap, no jitter; 1 h stands for none)',
    },
    'text.login': {
      assumed:
        'a Noise XX handshake (1.5 round trips) and the login that follows it; about 1 KB with the client payload',
    },
    'text.outbox.timeout': {
      cite: BAILEYS_DEFAULTS,
      says: 'defaultQueryTimeoutMs: 60000 (a request unanswered for 60 s fails)',
    },
    ...photoSources(
      { assumed: 'a compressed photo of about 200 KB' },
      { cite: MEDIA, says: 'media over HTTPS from mmg.whatsapp.net' },
    ),
    'call.host': { assumed: 'call signalling goes over HTTPS to a host of the app (unpublished)' },
    'call.protocol': { assumed: 'WebRTC-like calls: ICE over STUN, media over SRTP' },
    'call.fallback.0': { cite: FACTS_PORTS, says: 'WhatsApp UDP 3478 and STUN' },
    'call.fallback.0.turn': { assumed: 'relay names were not published' },
    'call.fallback.1': {
      cite: FACTS_PORTS,
      says: 'WhatsApp bypass configs also list TCP 443; relay-only calls were a reported workaround',
    },
    'call.fallback.1.turn': { assumed: 'relay names were not published' },
    'call.fallback.0.after': RELAY_AFTER_SOURCE,
    'call.fallback.1.after': RELAY_AFTER_SOURCE,
    'call.reconnect': REDIAL_SOURCE,
  },
};

/**
 * An XMPP client as slixmpp behaves with its ping plugin on: the profile qoslab's
 * cross-check compares with a real slixmpp client against prosody.
 */
import { chatPace, chatPaceSources } from './common.js';
import type { AppProfile } from './profile.js';
import { SLIXMPP } from './sources.js';

export const xmpp: AppProfile = {
  description:
    'a plain XMPP client stream on TCP 5222 pinging every 15 s (10 s timeout), reconnecting at once, no stream management',
  hosts: { xmpp: { names: ['xmpp.lab'] } },
  uses: {
    text: {
      host: 'xmpp',
      protocol: 'tcp-framed',
      port: 5222,
      tls: false,
      ...chatPace('500ms'),
      keepalive: { interval: '15s', timeout: '10s', 'fail-after': '0s' },
      reconnect: { first: '0s', initial: '1s', factor: 2, cap: '300s', jitter: 0 },
      login: { 'round-trips': 5, bytes: '3KB' },
      outbox: false,
    },
  },
  sources: {
    'hosts.xmpp': { assumed: 'the lab’s own name' },
    'text.host': { assumed: 'the lab’s XMPP server' },
    'text.protocol': { cite: SLIXMPP, says: 'XML stanzas over one TCP stream' },
    'text.port': { cite: SLIXMPP, says: 'the client port 5222' },
    'text.tls': { assumed: 'the cross-check runs without STARTTLS' },
    ...chatPaceSources('the cross-check sends a message every 500 ms'),
    'text.keepalive.interval': {
      cite: SLIXMPP,
      says: 'xep_0199 enable_keepalive(interval): the cross-check sets 15 s (the plugin default is 300 s)',
    },
    'text.keepalive.timeout': {
      cite: SLIXMPP,
      says: 'xep_0199 ping(timeout): the cross-check sets 10 s; on IqTimeout it calls reconnect(0.0)',
    },
    'text.keepalive.fail-after': { cite: SLIXMPP, says: 'the first ping timeout reconnects' },
    'text.reconnect': {
      cite: SLIXMPP,
      says: 'reconnect(0.0) after a ping timeout; failed attempts wait min(300, wait × 2 + 1): 1, 3, 7 ... s',
    },
    'text.login': {
      assumed:
        'stream header, SASL PLAIN, stream restart, resource bind, presence: about 5 round trips and 3 KB',
    },
    'text.outbox': {
      cite: SLIXMPP,
      says: 'without stream management (XEP-0198, off by default) a stanza is written once',
    },
  },
};

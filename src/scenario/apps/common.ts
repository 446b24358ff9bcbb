/**
 * What the app profiles share because no app publishes it: a chatting user's pace, a
 * received photo, a redial after a failed call. Each comes with its sources (assumed).
 */
import type { Provenance } from './profile.js';

/** A user sending a short text every `every`, which reads as late after 5 s. */
export function chatPace(every = '1s') {
  return { every, size: '200B', deadline: '5s' };
}
export function chatPaceSources(why = "a user's pace, not the app's: one message a second") {
  return {
    'text.every': { assumed: why },
    'text.size': { assumed: 'a short text with the protocol’s overhead' },
    'text.deadline': { assumed: 'a message later than 5 s reads as late to a person chatting' },
  } satisfies Record<string, Provenance>;
}

/** A photo received over HTTPS from `host`. */
export function photo(host: string, size = '200KB') {
  return { host, protocol: 'bulk', port: 443, size, deadline: '20s', direction: 'down' };
}
export function photoSources(size: Provenance, where: Provenance) {
  return {
    'media.host': where,
    'media.protocol': where,
    'media.port': where,
    'media.size': size,
    'media.deadline': { assumed: 'a photo that takes more than 20 s reads as failed' },
    'media.direction': { assumed: 'photos received' },
  } satisfies Record<string, Provenance>;
}

/** How a user redials a call that failed: after 1 s, then 2 s doubling to 30 s. */
export const REDIAL = { first: '1s', initial: '2s', factor: 2, cap: '30s', jitter: '50%' };
export const REDIAL_SOURCE: Provenance = {
  assumed: 'a redial after a failed call: 1 s, then 2 s doubling to 30 s',
};

/** One relay of a call's chain, tried when the transport before had no media for 5 s. */
export function relay(turn: string, transport: 'udp' | 'tcp' | 'tls', port: number) {
  return { turn, turn_transport: transport, turn_port: port, after: '5s' };
}
export const RELAY_AFTER_SOURCE: Provenance = {
  assumed: 'how long a call waits for media before the next transport was not published: 5 s',
};

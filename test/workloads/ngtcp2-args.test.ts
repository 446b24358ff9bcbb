import { describe, expect, it } from 'vitest';
import { ngtcp2Args } from '../../src/workloads/ngtcp2.js';

// The probe's shape is in its arguments: a POST of the message to the host's name (its
// SNI), given up at the deadline, sent `hold` after the handshake when there is one.
describe('ngtcp2Args', () => {
  const w = { server_name: 'www.blocked.lab', port: 8443, deadline_ns: 8e9, hold_ns: 0 };

  it('posts the body to /m under the host name, giving up at the deadline', () => {
    expect(ngtcp2Args(w, '/tmp/q/0')).toEqual([
      '--quiet',
      '--exit-on-all-streams-close',
      '--timeout=8000ms',
      '--handshake-timeout=8000ms',
      '--http-method=POST',
      '--data=/tmp/q/0',
      'www.blocked.lab',
      '8443',
      'https://www.blocked.lab:8443/m',
    ]);
  });

  it('holds the request with --delay-stream', () => {
    expect(ngtcp2Args({ ...w, hold_ns: 4e9 }, '/tmp/q/1')[0]).toBe('--delay-stream=4000ms');
  });
});

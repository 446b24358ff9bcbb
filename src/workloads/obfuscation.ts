/**
 * An MTProto "obfuscated2"-like transport: the client opens with 64 random bytes; bytes
 * 8..40 and 40..56 are the AES-256-CTR key and IV of the client→server stream, and the
 * same 48 bytes reversed give the server→client key and IV. Everything after the
 * preamble is the cipher stream, so a DPI box sees no structure at all — the traffic
 * shape that protocol-whitelisting censors target.
 */
import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  type Cipher,
  type Decipher,
} from 'node:crypto';

export const PREAMBLE_BYTES = 64;

export interface Ciphers {
  encrypt: Cipher;
  decrypt: Decipher;
}

function keys(preamble: Buffer): { fwd: [Buffer, Buffer]; back: [Buffer, Buffer] } {
  const fwd = preamble.subarray(8, 56);
  const back = Buffer.from(fwd).reverse();
  return {
    fwd: [fwd.subarray(0, 32), fwd.subarray(32, 48)],
    back: [back.subarray(0, 32), back.subarray(32, 48)],
  };
}

/** A fresh preamble; the first byte avoids values real MTProto forbids (0xef, HTTP verbs). */
export function newPreamble(): Buffer {
  const p = randomBytes(PREAMBLE_BYTES);
  p[0] = 0x17 + (p[0]! % 0x40);
  return p;
}

export function clientCiphers(preamble: Buffer): Ciphers {
  const k = keys(preamble);
  return {
    encrypt: createCipheriv('aes-256-ctr', k.fwd[0], k.fwd[1]),
    decrypt: createDecipheriv('aes-256-ctr', k.back[0], k.back[1]),
  };
}

export function serverCiphers(preamble: Buffer): Ciphers {
  const k = keys(preamble);
  return {
    encrypt: createCipheriv('aes-256-ctr', k.back[0], k.back[1]),
    decrypt: createDecipheriv('aes-256-ctr', k.fwd[0], k.fwd[1]),
  };
}

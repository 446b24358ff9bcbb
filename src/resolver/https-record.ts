/**
 * The rdata of an HTTPS record (RFC 9460: SvcPriority 1, TargetName ".", SvcParams alpn
 * and ech) and the ECHConfigList it carries (RFC 9849 §4: version 0xfe0d, an X25519 HPKE
 * key, HKDF-SHA256 with AES-128-GCM). dns-packet has no codec for type 65, so it carries
 * these bytes as an unknown type's rdata. The key pair is made for the run: clients
 * encrypt their inner ClientHello to it, which is what a censor matching the ECH
 * extension sees; no server in the lab decrypts it.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** RFC 9460 SvcParamKeys. */
const KEY_ALPN = 1;
const KEY_ECH = 5;
/** RFC 9849: the ECHConfig version; HPKE ids of RFC 9180. */
const ECH_VERSION = 0xfe0d;
const KEM_X25519 = 0x0020;
const KDF_HKDF_SHA256 = 0x0001;
const AEAD_AES_128_GCM = 0x0001;

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
/** `opaque x<..2^16-1>` and `<..255>` vectors. */
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const vec8 = (b: Buffer) => Buffer.concat([u8(b.length), b]);

export interface EchKeys {
  /** The ECHConfigList, as the HTTPS record's `ech` parameter carries it. */
  configList: Buffer;
  privateKey: KeyObject;
}

/** A fresh X25519 key and one ECHConfig for `publicName` (the outer ClientHello's SNI). */
export function makeEchKeys(publicName: string, configId = 1): EchKeys {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const contents = Buffer.concat([
    u8(configId),
    u16(KEM_X25519),
    vec16(raw),
    vec16(Buffer.concat([u16(KDF_HKDF_SHA256), u16(AEAD_AES_128_GCM)])),
    u8(0), // maximum_name_length: 0, clients pad by their own rule
    vec8(Buffer.from(publicName, 'ascii')),
    vec16(Buffer.alloc(0)), // no extensions
  ]);
  const config = Buffer.concat([u16(ECH_VERSION), vec16(contents)]);
  return { configList: vec16(config), privateKey };
}

/** HTTPS rdata: priority 1 (service mode), target "." (the owner name), then the params. */
export function httpsRdata(o: { alpn: string[]; ech: Buffer | null }): Buffer {
  const params: Buffer[] = [];
  if (o.alpn.length > 0) {
    const ids = Buffer.concat(o.alpn.map((id) => vec8(Buffer.from(id, 'ascii'))));
    params.push(Buffer.concat([u16(KEY_ALPN), vec16(ids)]));
  }
  if (o.ech !== null) params.push(Buffer.concat([u16(KEY_ECH), vec16(o.ech)]));
  return Buffer.concat([u16(1), u8(0), ...params]);
}

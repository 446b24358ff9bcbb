/**
 * A certificate authority made for one run, and a server certificate per scenario host
 * (every DNS name of the host in its subjectAltName), so TLS looks as it does on the real
 * network: SNI = the host's name, a chain the client verifies. Nothing is checked in or
 * kept: keys live in a private temporary folder removed after the run.
 *
 * @peculiar/x509 builds the certificates on Node's WebCrypto (ECDSA P-256, so key
 * generation takes milliseconds and needs no OpenSSL binary or native addon).
 */
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface LabPki {
  caPem: string;
  /** Certificate and key (PEM) by DNS name. */
  certs: Record<string, { cert: string; key: string }>;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

const serial = () =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(12)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');

/** `hosts`: the DNS names of each host (one certificate per host). */
export async function makeLabPki(hosts: string[][], runId: string): Promise<LabPki> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const subtle = webcrypto.subtle;
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + 7 * 86400_000);
  const caKeys = (await subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=qoslab lab CA ${runId}, O=qoslab`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const certs: LabPki['certs'] = {};
  for (const names of hosts.filter((n) => n.length > 0)) {
    const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${names[0]}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((value) => ({ type: 'dns' as const, value })),
        ),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    const pair = {
      cert: cert.toString('pem') + '\n',
      key: pem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey)),
    };
    for (const name of names) certs[name] = pair;
  }
  return { caPem: ca.toString('pem') + '\n', certs };
}

/** SHA-256 of each distinct certificate's SubjectPublicKeyInfo, base64 (Chromium's pin form). */
export function spkiPins(pki: LabPki): string[] {
  const pins = Object.values(pki.certs).map((pair) => {
    const spki = new X509Certificate(pair.cert).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  });
  return [...new Set(pins)];
}

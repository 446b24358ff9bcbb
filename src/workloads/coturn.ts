/**
 * coturn (Debian `coturn`) as the TURN/STUN server of webrtc calls that name a `turn`
 * host: started by the server agent in the server namespace on that host's lab address,
 * so the ICE traffic a censor sees (STUN binding, TURN allocate, ChannelData on 3478) is
 * a real server's. Long-term credentials with one user whose password is random per run,
 * handed to both browsers over the call's signalling, as apps hand out TURN credentials.
 *
 * Everything coturn writes stays in a private temporary folder (its user database, pid
 * file and log, which we follow: to a pipe its stdout is block-buffered; never syslog).
 * One listener, on the call's `turn_transport`: a plain UDP or TCP TURN port, or TLS with
 * the TURN host's lab certificate; no DTLS and no CLI. So the port `validate` lets the
 * call claim is the only one coturn holds. ./daemon.ts starts and ends it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.js';
import type { TurnTransport } from '../scenario/protocols/webrtc.js';

export interface TurnServer {
  /** What RTCPeerConnection takes as its iceServers. */
  iceServers: { urls: string[]; username: string; credential: string }[];
  /** Allocations coturn has logged so far (each relayed call makes at least one). */
  allocations(): number;
  close(): Promise<void>;
}

/** How often the log is read for readiness and allocations. */
const FOLLOW_MS = 100;
/** coturn logs this once its relay, listener and auth threads are all up. */
const READY = /Total General servers|IO method \(admin thread\)/;

/** coturn's switches for a listener on one transport only (`port`: its port). */
export function listenerArgs(
  transport: TurnTransport,
  port: number,
  files: { cert: string; key: string } | undefined,
): string[] {
  if (transport === 'udp') return ['--listening-port', String(port), '--no-tcp', '--no-tls'];
  if (transport === 'tcp') return ['--listening-port', String(port), '--no-udp', '--no-tls'];
  if (files === undefined) throw new Error('TURN over TLS needs a certificate');
  return [
    '--tls-listening-port', String(port),
    '--no-udp', '--no-tcp',
    '--cert', files.cert,
    '--pkey', files.key,
  ]; // prettier-ignore
}

/** The URLs a caller's RTCPeerConnection reaches the server by, over `transport`. */
export function turnUrls(
  transport: TurnTransport,
  at: { address: string; port: number; serverName: string | null },
): string[] {
  const host = at.address.includes(':') ? `[${at.address}]` : at.address;
  if (transport === 'udp') {
    return [`turn:${host}:${at.port}?transport=udp`, `stun:${host}:${at.port}`];
  }
  if (transport === 'tcp') return [`turn:${host}:${at.port}?transport=tcp`];
  // The name, not the address: Chromium checks the certificate against it.
  return [`turns:${at.serverName ?? host}:${at.port}?transport=tcp`];
}

export async function startTurn(o: {
  address: string;
  port: number;
  transport: TurnTransport;
  /** The TURN host's DNS name and certificate (TLS only). */
  serverName: string | null;
  cert: { cert: string; key: string } | undefined;
  log: (line: string) => void;
}): Promise<TurnServer> {
  const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-coturn-'));
  const username = 'qoslab';
  const credential = randomBytes(12).toString('hex');
  const logFile = join(dir, 'turnserver.log');
  let files: { cert: string; key: string } | undefined;
  if (o.cert !== undefined) {
    files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    writeFileSync(files.cert, o.cert.cert, { mode: 0o600 });
    writeFileSync(files.key, o.cert.key, { mode: 0o600 });
  }
  const args = [
    '-n',
    '--listening-ip', o.address,
    '--relay-ip', o.address,
    ...listenerArgs(o.transport, o.port, files),
    '--lt-cred-mech',
    '--user', `${username}:${credential}`,
    '--realm', 'qoslab',
    '--no-dtls',
    '--no-cli',
    '--no-software-attribute',
    '--log-file', logFile,
    '--simple-log',
    '--verbose', // sessions and allocations are logged only from this level
    '--pidfile', join(dir, 'turnserver.pid'),
    '--userdb', join(dir, 'turndb'),
  ]; // prettier-ignore
  let allocations = 0;
  const daemon = await startDaemon({
    name: 'turnserver',
    command: 'turnserver',
    args,
    cwd: dir,
    follow: (ready, note) => {
      const next = newLines(logFile);
      const timer = setInterval(() => {
        for (const line of next()) {
          note(line);
          if (READY.test(line)) ready();
          if (/ALLOCATE processed, success/.test(line)) {
            // coturn's own word, once, on the run's log: calls really are relayed.
            if (allocations++ === 0) {
              o.log(`turnserver ${o.transport} ${o.address}:${o.port}: allocation 1`);
            }
          }
          if (/\b(ERROR|error):/.test(line)) o.log(`turnserver: ${line}`);
        }
      }, FOLLOW_MS);
      return () => clearInterval(timer);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  return {
    iceServers: [{ urls: turnUrls(o.transport, { ...o }), username, credential }],
    allocations: () => allocations,
    close: () => daemon.close(),
  };
}

/**
 * The complete lines a growing file gained since the last call (none while it does not
 * exist). Reads from where the last call stopped: coturn logs verbosely, so re-reading the
 * whole file each tick would grow with the run.
 */
function newLines(path: string): () => string[] {
  let offset = 0;
  let partial = '';
  const buf = Buffer.alloc(64 * 1024);
  return () => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return []; // not created yet
    }
    const chunks: Buffer[] = [];
    try {
      for (let n = readSync(fd, buf, 0, buf.length, offset); n > 0;) {
        chunks.push(Buffer.from(buf.subarray(0, n)));
        offset += n;
        n = readSync(fd, buf, 0, buf.length, offset);
      }
    } finally {
      closeSync(fd);
    }
    const text = partial + Buffer.concat(chunks).toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    partial = text.slice(end);
    return text
      .slice(0, end)
      .split('\n')
      .filter((line) => line.trim() !== '');
  };
}

/**
 * coturn (Debian `coturn`) as the TURN/STUN server of webrtc calls that name a `turn`
 * host: started by the server agent in the server namespace on that host's lab address,
 * so the ICE traffic a censor sees (STUN binding, TURN allocate, ChannelData on 3478) is
 * a real server's. Long-term credentials with one user whose password is random per run,
 * handed to both browsers over the call's signalling, as apps hand out TURN credentials.
 *
 * Everything coturn writes stays in a private temporary folder (its user database, pid
 * file and log, which we follow: to a pipe its stdout is block-buffered; never syslog). No TLS/DTLS listeners
 * and no CLI: a plain TURN port, which is what call-blocking rules match. `setpriv
 * --pdeathsig` ends it if the agent dies without closing it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.js';

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

export async function startTurn(o: {
  address: string;
  port: number;
  log: (line: string) => void;
}): Promise<TurnServer> {
  const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-coturn-'));
  const username = 'qoslab';
  const credential = randomBytes(12).toString('hex');
  const logFile = join(dir, 'turnserver.log');
  const args = [
    '-n',
    '--listening-ip', o.address,
    '--relay-ip', o.address,
    '--listening-port', String(o.port),
    '--lt-cred-mech',
    '--user', `${username}:${credential}`,
    '--realm', 'qoslab',
    '--no-tls',
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
            if (allocations++ === 0) o.log(`turnserver ${o.address}:${o.port}: allocation 1`);
          }
          if (/\b(ERROR|error):/.test(line)) o.log(`turnserver: ${line}`);
        }
      }, FOLLOW_MS);
      return () => clearInterval(timer);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  const host = o.address.includes(':') ? `[${o.address}]` : o.address;
  return {
    iceServers: [
      {
        urls: [`turn:${host}:${o.port}?transport=udp`, `stun:${host}:${o.port}`],
        username,
        credential,
      },
    ],
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

/**
 * Caddy (Debian `caddy`: HTTP/3 by quic-go) as the edge of a host that serves http3: it
 * holds the host's port on TCP (h1, h2) and UDP (h3), terminates TLS with the host's lab
 * certificate, and proxies every request — WebSocket upgrades and streamed responses
 * included — to the agent's own listener on loopback. Real HTTP/3 deployments look like
 * this: a QUIC-capable edge in front of an application server.
 *
 * Caddy runs as a child of the server agent in the server namespace, with its admin API
 * off, automatic HTTPS off (no ACME, no OCSP fetches: it must not look for the Internet)
 * and its storage in a private temporary folder; `setpriv --pdeathsig` ends it if the
 * agent dies without closing it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export interface CaddyEdge {
  close(): Promise<void>;
}

/** How long Caddy may take to bind (it starts in well under a second unloaded). */
const START_TIMEOUT_MS = 20_000;

function listenAddress(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

export function caddyConfig(o: {
  listen: string;
  upstream: string;
  certFile: string;
  keyFile: string;
  storage: string;
  serverName: string;
}): object {
  return {
    admin: { disabled: true },
    storage: { module: 'file_system', root: o.storage },
    logging: { logs: { default: { level: 'INFO' } } },
    apps: {
      http: {
        servers: {
          lab: {
            listen: [o.listen],
            protocols: ['h1', 'h2', 'h3'],
            automatic_https: { disable: true },
            // A client that sends no SNI gets the host's certificate, as from a real server.
            tls_connection_policies: [{ default_sni: o.serverName }],
            routes: [
              {
                handle: [
                  {
                    handler: 'reverse_proxy',
                    upstreams: [{ dial: o.upstream }],
                    // Stream every byte at once: down messages ride a never-ending response.
                    flush_interval: -1,
                  },
                ],
              },
            ],
          },
        },
      },
      tls: {
        certificates: { load_files: [{ certificate: o.certFile, key: o.keyFile }] },
        // No stapling: the lab certificates name no responder and nothing may leave the lab.
        automation: { policies: [{ disable_ocsp_stapling: true }] },
      },
    },
  };
}

/** Start Caddy on `address:port` (TCP and UDP) in front of `upstreamPort` on loopback. */
export async function startCaddy(o: {
  address: string;
  port: number;
  upstreamPort: number;
  serverName: string;
  cert: { cert: string; key: string };
  log: (line: string) => void;
}): Promise<CaddyEdge> {
  const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-caddy-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, o.cert.cert, { mode: 0o600 });
  writeFileSync(keyFile, o.cert.key, { mode: 0o600 });
  const configFile = join(dir, 'caddy.json');
  const config = caddyConfig({
    listen: listenAddress(o.address, o.port),
    upstream: `127.0.0.1:${o.upstreamPort}`,
    certFile,
    keyFile,
    storage: join(dir, 'data'),
    serverName: o.serverName,
  });
  writeFileSync(configFile, JSON.stringify(config));
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'caddy', 'run', '--config', configFile],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await waitServing(child, exited, o.log);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw e;
  }
  return {
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      cleanup();
    },
  };
}

/** Resolves once Caddy says it serves its configuration; rejects with its last words. */
function waitServing(
  child: ChildProcess,
  exited: Promise<number | null>,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = '';
    let ready = false;
    const timer = setTimeout(
      () => reject(new Error(`caddy did not start: ${tail}`)),
      START_TIMEOUT_MS,
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        tail = line;
        if (!ready && line.includes('serving initial configuration')) {
          ready = true;
          clearTimeout(timer);
          resolve();
        } else if (/"level":"(error|fatal)"/.test(line) || /^panic/.test(line)) {
          log(`caddy: ${line}`);
        }
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`caddy could not be started: ${e.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`caddy exited (${code}): ${tail}`));
    });
  });
}

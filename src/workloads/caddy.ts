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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';

export type CaddyEdge = Daemon;

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
  return startDaemon({
    name: 'caddy',
    command: 'caddy',
    args: ['run', '--config', configFile],
    env,
    onStderr: (line, ready) => {
      if (line.includes('serving initial configuration')) ready();
      else if (/"level":"(error|fatal)"/.test(line) || /^panic/.test(line)) o.log(`caddy: ${line}`);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}

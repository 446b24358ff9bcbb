/**
 * Headless Chromium (Debian `chromium`, driven by playwright-core) as a real client
 * stack in the client namespace, shared by the agent's workloads that need one. It is
 * kept inside the lab: every host name resolves only to its lab address (all others
 * fail), background networking, component updates and sync are off, and the namespace
 * has no route out anyway. The profile is a fresh temporary folder, removed on close.
 *
 * QUIC: Chromium speaks it to an origin only when told (`--origin-to-force-quic-on`; no
 * Alt-Svc round trip first), offers QUIC v1 only (`--quic-version`), and accepts QUIC only
 * from certificates chaining to a public root — so the lab's server certificates are
 * pinned by their public keys (`--ignore-certificate-errors-spki-list`) instead.
 *
 * WebRTC: fake media devices (a beeping microphone, a test-pattern camera) granted
 * without a prompt, received audio played without a user gesture, and host candidates
 * with their real addresses rather than mDNS names (nothing in the lab resolves `.local`).
 * The server agent runs a browser of its own for the answering side of calls.
 *
 * Chromium runs under `setpriv --pdeathsig KILL` (libexec/qoslab-chromium), so an agent
 * that dies without closing it takes it along; a browser that exits while in use is
 * reported through onBrowserDeath, which the agent turns into its own exit: a dead stack
 * must not read as a call with nothing lost.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { chromiumUse } from '../scenario/protocols/index.js';
import { PROGRAMS } from '../scenario/protocols/programs.js';
import { relaysOf } from './turns.js';
import type { AgentContext } from './types.js';

export const CHROMIUM = PROGRAMS.chromium.command;

/** The QUIC version Chromium is told to offer, as `connect` events report it. */
export const QUIC_VERSION = 'RFCv1';

export function chromiumArgs(ctx: AgentContext): string[] {
  const names = new Map<string, string>();
  const quic = new Set<string>();
  const direct = new Set<string>();
  for (const w of ctx.workloads) {
    names.set(w.server_name, w.address);
    for (const r of relaysOf(w)) {
      // A `turns:` URL names the TURN host (its certificate is checked against the name).
      if (r.turn_transport === 'tls' && r.turn_server_name && r.turn_address) {
        names.set(r.turn_server_name, r.turn_address);
      }
      // WebRTC's TCP sockets to a TURN server are opened by address through the network
      // stack, which applies these rules to the address too: `MAP *` would fail them.
      if (r.turn_transport !== null && r.turn_transport !== 'udp' && r.turn_address) {
        direct.add(r.turn_address);
      }
    }
    // QUIC for the workload and every transport of its chain that speaks it.
    if (chromiumUse(w) === 'quic') quic.add(`${w.server_name}:${w.port}`);
    for (const t of w.transports) {
      const via = { ...w, protocol: t.protocol, client: w.client ?? 'chromium' };
      if (chromiumUse(via) === 'quic') quic.add(`${w.server_name}:${t.port}`);
    }
  }
  // A name with an ECH configuration is looked up through the lab's resolver, as Chromium
  // does on the Internet: its HTTPS record carries the ECHConfigList, and Chromium then
  // sends ECH (the outer ClientHello names the public name). Every other name keeps its
  // fixed mapping.
  const ech = new Set(ctx.echNames ?? []);
  for (const n of ech) names.delete(n);
  const rules = [
    ...[...names].map(([n, a]) => `MAP ${n} ${a}`),
    ...[...ech].map((n) => `EXCLUDE ${n}`),
    ...[...direct].map((a) => `EXCLUDE ${a}`),
    'MAP * ~NOTFOUND',
  ];
  return [
    '--no-sandbox', // as root, Chromium refuses its sandbox
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-domain-reliability',
    '--no-first-run',
    '--no-default-browser-check',
    '--no-pings',
    `--host-resolver-rules=${rules.join(', ')}`,
    ...(ech.size > 0 ? ['--enable-features=EncryptedClientHello,UseDnsHttpsSvcb,AsyncDns'] : []),
    ...(quic.size > 0
      ? [
          '--enable-quic',
          `--quic-version=${QUIC_VERSION}`,
          `--origin-to-force-quic-on=${[...quic].join(',')}`,
        ]
      : []),
    ...(ctx.spki.length > 0 ? [`--ignore-certificate-errors-spki-list=${ctx.spki.join(',')}`] : []),
    ...(ctx.workloads.some((w) => chromiumUse(w) === 'media')
      ? [
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
          '--autoplay-policy=no-user-gesture-required',
          '--disable-features=WebRtcHideLocalIpsWithMdns',
        ]
      : []),
  ];
}

/** Called when the agent's browser exits while workloads use it (set by the agent). */
export const browserEvents: { onBrowserDeath: (detail: string) => void } = {
  onBrowserDeath: () => {},
};

/**
 * Chromium through qoslab's launcher (libexec/qoslab-chromium: setpriv makes the kernel kill
 * it when this agent dies). A file of the package, so a noexec /tmp does not matter.
 */
const LAUNCHER = fileURLToPath(new URL('../../libexec/qoslab-chromium', import.meta.url));

interface Shared {
  users: number;
  context: Promise<BrowserContext>;
  /** Holds the profile; removed on close. */
  dir: string;
  /** Set when we close it: the `close` that follows is no death. */
  closing: boolean;
}
let shared: Shared | undefined;

/** The agent's browser, started on first use; hand it back with releaseBrowser(). */
export function acquireBrowser(ctx: AgentContext): Promise<BrowserContext> {
  if (shared === undefined) {
    // A short name: inside a run's folder, Chromium's singleton socket
    // (<dir>/org.chromium.Chromium.XXXXXX/SingletonSocket) must stay under the 107
    // characters a socket path may have.
    const dir = mkdtempSync(join(os.tmpdir(), 'qlchrome-'));
    const profile = join(dir, 'profile');
    mkdirSync(profile);
    const state = { users: 0, dir, closing: false } as Shared;
    state.context = import('playwright-core').then(async ({ chromium }) => {
      // A fresh profile folder each run, passed as --user-data-dir.
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: LAUNCHER,
        headless: true,
        args: chromiumArgs(ctx),
        // Chromium makes its own folders (org.chromium.Chromium.*) in TMPDIR and leaves them
        // when it is killed: in this folder, they go with it.
        env: { ...process.env, TMPDIR: dir, QOSLAB_CHROMIUM: CHROMIUM },
      });
      context.once('close', () => {
        if (state.closing) return;
        // The agent exits on this: the dead browser's folder goes first.
        rmSync(dir, { recursive: true, force: true });
        browserEvents.onBrowserDeath('Chromium exited while in use');
      });
      return context;
    });
    shared = state;
  }
  shared.users++;
  return shared.context;
}

export async function releaseBrowser(): Promise<void> {
  if (shared === undefined || --shared.users > 0) return;
  const state = shared;
  shared = undefined;
  state.closing = true;
  await state.context.then((c) => c.close()).catch(() => {});
  rmSync(state.dir, { recursive: true, force: true });
}

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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import type { AgentContext } from './types.js';

export const CHROMIUM = process.env.QOSLAB_CHROMIUM ?? '/usr/bin/chromium';

/** The QUIC version Chromium is told to offer, as `connect` events report it. */
export const QUIC_VERSION = 'RFCv1';

export function chromiumArgs(ctx: AgentContext): string[] {
  const names = new Map<string, string>();
  const quic = new Set<string>();
  for (const w of ctx.workloads) {
    names.set(w.server_name, w.address);
    if (w.protocol === 'http3' && w.client !== 'ngtcp2') quic.add(`${w.server_name}:${w.port}`);
  }
  const rules = [...[...names].map(([n, a]) => `MAP ${n} ${a}`), 'MAP * ~NOTFOUND'];
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
    ...(quic.size > 0
      ? [
          '--enable-quic',
          `--quic-version=${QUIC_VERSION}`,
          `--origin-to-force-quic-on=${[...quic].join(',')}`,
        ]
      : []),
    ...(ctx.spki.length > 0 ? [`--ignore-certificate-errors-spki-list=${ctx.spki.join(',')}`] : []),
  ];
}

let shared: { users: number; context: Promise<BrowserContext>; profile: string } | undefined;

/** The agent's browser, started on first use; hand it back with releaseBrowser(). */
export function acquireBrowser(ctx: AgentContext): Promise<BrowserContext> {
  if (shared === undefined) {
    const profile = mkdtempSync(join(os.tmpdir(), 'qoslab-chromium-'));
    const context = import('playwright-core').then(({ chromium }) =>
      // A fresh profile folder each run, passed as --user-data-dir.
      chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: chromiumArgs(ctx),
      }),
    );
    shared = { users: 0, context, profile };
  }
  shared.users++;
  return shared.context;
}

export async function releaseBrowser(): Promise<void> {
  if (shared === undefined || --shared.users > 0) return;
  const { context, profile } = shared;
  shared = undefined;
  await context.then((c) => c.close()).catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

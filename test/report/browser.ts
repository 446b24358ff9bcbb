/**
 * Headless Chromium for the report tests: Debian's `chromium`, driven by playwright-core
 * (which never downloads a browser here). Everything that could reach the network at
 * startup is switched off, so the only request the page may make is for itself.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.QOSLAB_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the report test needs a real browser. Install it with ` +
        '`apt-get install -y chromium` (scripts/setup.sh does), or set QOSLAB_CHROMIUM.',
    );
  }
}

/** A browser with a fresh profile, removed afterwards. */
export async function withBrowser<T>(
  width: number,
  fn: (context: BrowserContext) => Promise<T>,
): Promise<T> {
  requireChromium();
  const profile = mkdtempSync(join(os.tmpdir(), 'qoslab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width, height: 900 },
    deviceScaleFactor: 1,
  });
  try {
    return await fn(context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The app profiles, registered in this one table: `app: whatsapp` on a workload starts it
 * from that profile (./profile.ts). Expansion happens on the scenario as written, before
 * it is checked: the profile's keys are filled in where the workload has none (maps such
 * as `keepalive` key by key), and the hosts it names are added when the scenario has no
 * host of that name. So a scenario overrides any value, and every problem is still found
 * by the same checks, located at the workload.
 */
import { max } from './max.js';
import { APP_USES, type AppProfile, type AppUse } from './profile.js';
import { signal } from './signal.js';
import { telegram } from './telegram.js';
import { whatsapp } from './whatsapp.js';
import { xmpp } from './xmpp.js';

export const APPS = { whatsapp, telegram, signal, max, xmpp } satisfies Record<string, AppProfile>;
export type AppName = keyof typeof APPS;
export const APP_NAMES = Object.keys(APPS) as [AppName, ...AppName[]];
export { APP_USES, type AppUse };

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The profile's keys under the workload's: maps merged key by key, anything else replaced. */
function underlay(profile: Dict, written: Dict): Dict {
  const out: Dict = { ...profile };
  for (const [k, v] of Object.entries(written)) {
    out[k] = isDict(v) && isDict(profile[k]) ? { ...(profile[k] as Dict), ...v } : v;
  }
  return out;
}

/** The hosts a workload spec names (its own and its relays). */
function hostsOf(spec: Dict): string[] {
  const hosts = typeof spec.host === 'string' ? [spec.host] : [];
  for (const step of Array.isArray(spec.fallback) ? spec.fallback : []) {
    if (isDict(step) && typeof step.turn === 'string') hosts.push(step.turn);
  }
  if (typeof spec.turn === 'string') hosts.push(spec.turn);
  return hosts;
}

/**
 * The scenario with its `app:` workloads filled in from their profiles. Anything it cannot
 * read (an unknown app, a use the app does not have) is left for the checks to report.
 */
export function expandApps(raw: unknown): unknown {
  if (!isDict(raw) || !Array.isArray(raw.workloads)) return raw;
  const hosts: Dict = isDict(raw.hosts) ? { ...raw.hosts } : {};
  let added = false;
  const workloads = raw.workloads.map((w) => {
    if (!isDict(w) || typeof w.app !== 'string' || !Object.hasOwn(APPS, w.app)) return w;
    const profile: AppProfile = APPS[w.app as AppName];
    const use = w.use === undefined ? 'text' : w.use;
    const spec = typeof use === 'string' ? profile.uses[use as AppUse] : undefined;
    if (spec === undefined) return w;
    const merged = underlay(spec, w);
    for (const h of hostsOf(merged)) {
      const def = profile.hosts[h];
      if (def !== undefined && !(h in hosts)) {
        hosts[h] = { names: [...def.names] };
        added = true;
      }
    }
    return merged;
  });
  return { ...raw, ...(added || isDict(raw.hosts) ? { hosts } : {}), workloads };
}

/** Why a workload's `use` cannot be filled in, or undefined. */
export function appUseProblem(app: unknown, use: unknown): string | undefined {
  if (typeof app !== 'string' || !Object.hasOwn(APPS, app)) return undefined;
  const u = use ?? 'text';
  if (typeof u !== 'string' || !(APP_USES as readonly string[]).includes(u)) return undefined;
  const offered = Object.keys(APPS[app as AppName].uses);
  return offered.includes(u)
    ? undefined
    : `app ${app} has no ${u} profile (it has ${offered.join(', ')})`;
}

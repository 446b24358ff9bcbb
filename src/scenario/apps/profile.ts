/**
 * What an app profile is: the workloads of one messenger as a scenario would write them
 * (its hosts, protocols, ports, keepalive, reconnect, login, outbox, fallback chains,
 * sizes), with where each value comes from. A workload with `app:` starts from its
 * profile's `use` and overrides any key it writes (./index.ts).
 */

/** Which of an app's traffic a workload is. */
export const APP_USES = ['text', 'media', 'call'] as const;
export type AppUse = (typeof APP_USES)[number];

/** Where a value comes from: a public source (with what it says), or why it was assumed. */
export type Provenance = { cite: string; says: string } | { assumed: string };

export interface AppProfile {
  /** One line: what the profile stands for. */
  description: string;
  /** Hosts its workloads name; added to a scenario that does not define a host of that name. */
  hosts: Record<string, { names: string[] }>;
  /** Each use's workload keys as a scenario writes them (`name` comes from the scenario). */
  uses: Partial<Record<AppUse, Record<string, unknown>>>;
  /**
   * Paths into `uses` and `hosts` (`text.keepalive.interval`, `call.fallback.1`,
   * `hosts.whatsapp`) to where the value comes from; a path covers everything below it,
   * and every value of the profile is covered (a unit test checks).
   */
  sources: Record<string, Provenance>;
}

/** Every leaf of a profile's uses and hosts as a dotted path, with its value. */
export function profileLeaves(p: AppProfile): [string, unknown][] {
  const out: [string, unknown][] = [];
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, path === '' ? k : `${path}.${k}`);
    } else {
      out.push([path, v]);
    }
  };
  walk(p.uses, '');
  walk({ hosts: p.hosts }, '');
  return out;
}

/** The source of a leaf: the longest path in `sources` that is it or above it. */
export function provenanceOf(p: AppProfile, leaf: string): Provenance | undefined {
  let best: string | undefined;
  for (const path of Object.keys(p.sources)) {
    const covers = leaf === path || leaf.startsWith(`${path}.`);
    if (covers && (best === undefined || path.length > best.length)) best = path;
  }
  return best === undefined ? undefined : p.sources[best];
}

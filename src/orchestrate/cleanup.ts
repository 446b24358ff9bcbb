import { ip } from './exec.js';
import { ownerAlive, readMarkers, removeMarker, type RunMarker } from './marker.js';
import {
  deleteNamespace,
  killNamespaceProcesses,
  listLinks,
  listNamespaces,
  removeNamespaceFiles,
} from './netns.js';
import { RESOURCE_PREFIX, runIdOf } from './names.js';
import { deadRunTmps, removeRunTmp } from './run-tmp.js';

export interface CleanupReport {
  /** Runs whose leftovers were removed (or would be, with dryRun). */
  removed: { id: string; pid: number; namespaces: string[]; links: string[] }[];
  /** Runs whose owner process is still alive: left alone. */
  live: { id: string; pid: number }[];
  /** `ql`-prefixed namespaces or links with no marker: not provably ours, left alone. */
  unowned: string[];
  /** Temporary folders (with the run CA's key) of runs whose process is gone. */
  tempDirs: string[];
  errors: string[];
}

/**
 * Remove what killed runs left behind: namespaces (with their processes and /etc/netns
 * files) and links. A resource is touched only if it carries the `ql` prefix AND belongs
 * to a run marker whose owner process is gone.
 */
export async function cleanupLeftovers(options: { dryRun?: boolean } = {}): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], live: [], unowned: [], tempDirs: [], errors: [] };
  const namespaces = (await listNamespaces()).filter((n) => n.startsWith(RESOURCE_PREFIX));
  const links = (await listLinks()).filter((n) => n.startsWith(RESOURCE_PREFIX));
  const markers = readMarkers();
  const markerIds = new Set(markers.map((m) => m.id));

  for (const marker of markers) {
    if (ownerAlive(marker)) {
      report.live.push({ id: marker.id, pid: marker.pid });
      continue;
    }
    const mine = (name: string) => runIdOf(name) === marker.id;
    const entry = {
      id: marker.id,
      pid: marker.pid,
      namespaces: namespaces.filter(mine),
      links: links.filter(mine),
    };
    report.removed.push(entry);
    if (!options.dryRun) await removeRun(marker, entry.namespaces, entry.links, report.errors);
  }

  for (const dir of deadRunTmps()) {
    report.tempDirs.push(dir);
    if (options.dryRun) continue;
    try {
      removeRunTmp(dir);
    } catch (error) {
      report.errors.push(`${dir}: ${(error as Error).message}`);
    }
  }

  for (const name of [...namespaces, ...links]) {
    const id = runIdOf(name);
    if (id === undefined || !markerIds.has(id)) report.unowned.push(name);
  }
  return report;
}

async function removeRun(
  marker: RunMarker,
  namespaces: string[],
  links: string[],
  errors: string[],
): Promise<void> {
  const before = errors.length;
  const attempt = async (what: string, step: () => Promise<unknown> | unknown) => {
    try {
      await step();
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`);
    }
  };
  for (const ns of namespaces) {
    await attempt(`processes in ${ns}`, () => killNamespaceProcesses(ns));
    await attempt(`namespace ${ns}`, () => deleteNamespace(ns));
  }
  // /etc/netns entries may outlive their namespace; the marker names them all.
  for (const ns of [marker.names.clientNs, marker.names.serverNs]) {
    await attempt(`/etc/netns/${ns}`, () => removeNamespaceFiles(ns));
  }
  for (const link of links) await attempt(`link ${link}`, () => ip('link', 'delete', link));
  // Keep the marker while anything failed, so a later cleanup can try again.
  if (errors.length === before) removeMarker(marker.id);
}

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNames } from './names.js';

/**
 * A run marker records which process owns a lab. `qoslab cleanup` removes only resources
 * that carry the `ql` prefix AND belong to a marker whose owner is gone, so it never
 * touches a live lab or anything qoslab did not create. It lives on /run (tmpfs), which
 * a reboot clears together with the namespaces it describes.
 */

export const MARKER_DIR = process.env.QOSLAB_RUN_DIR ?? '/run/qoslab';

export interface RunMarker {
  id: string;
  pid: number;
  /** Process start time (clock ticks since boot, /proc/PID/stat field 22): guards against PID reuse. */
  pidStart: string;
  startedAt: string;
  names: LabNames;
}

function markerPath(id: string): string {
  return join(MARKER_DIR, `${id}.json`);
}

/** Start time of a process, or undefined if it does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

export function writeMarker(names: LabNames): RunMarker {
  const marker: RunMarker = {
    id: names.id,
    pid: process.pid,
    pidStart: processStartTime(process.pid) ?? '',
    startedAt: new Date().toISOString(),
    names,
  };
  mkdirSync(MARKER_DIR, { recursive: true, mode: 0o755 });
  writeFileSync(markerPath(names.id), JSON.stringify(marker, null, 2) + '\n');
  return marker;
}

export function removeMarker(id: string): void {
  rmSync(markerPath(id), { force: true });
}

export function readMarkers(): RunMarker[] {
  let files: string[];
  try {
    files = readdirSync(MARKER_DIR);
  } catch {
    return [];
  }
  const markers: RunMarker[] = [];
  for (const file of files) {
    if (!file.endsWith('.json')) continue;
    try {
      const marker = JSON.parse(readFileSync(join(MARKER_DIR, file), 'utf8')) as RunMarker;
      if (typeof marker.id === 'string' && typeof marker.pid === 'number') markers.push(marker);
    } catch {
      // A half-written marker (the owner died mid-write) names nothing we could act on.
    }
  }
  return markers;
}

/** Whether the process that wrote the marker is still running. */
export function ownerAlive(marker: RunMarker): boolean {
  const start = processStartTime(marker.pid);
  return start !== undefined && start === marker.pidStart;
}

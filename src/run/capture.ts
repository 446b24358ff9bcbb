/**
 * The packet capture of a run: the scenario's `capture` (or, with `--pcap`, the defaults)
 * turned into what the core writes from: `capture.pcapng` in the results folder (later
 * files `capture.1.pcapng`, …), the snap length, the file budget, and the flows wanted
 * as class names and the endpoints of the workloads named.
 */
import { join } from 'node:path';
import type { NativeCaptureConfig } from '../native/index.js';
import { compileCapture } from '../scenario/compile.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { flowEndpoints } from '../scenario/protocols/index.js';

export const CAPTURE_FILE = 'capture.pcapng';

/** The capture to make, or undefined when neither the scenario nor the user asks for one. */
export function captureConfig(
  compiled: Pick<CompiledConfig, 'capture' | 'workloads'>,
  requested: boolean,
  resultsDir: string,
): NativeCaptureConfig | undefined {
  const c = compiled.capture ?? (requested ? compileCapture({}) : null);
  if (c === null) return undefined;
  const named = compiled.workloads.filter((w) => c.workloads.includes(w.name));
  return {
    path: join(resultsDir, CAPTURE_FILE),
    snaplen: c.snaplen_bytes,
    fileBytes: c.file_bytes,
    files: c.files,
    classes: c.classes,
    endpoints: named.flatMap((w) =>
      flowEndpoints(w).map((e) => ({
        address: e.address,
        proto: e.transport,
        ports: (e.port === null
          ? [1, 65535]
          : Array.isArray(e.port)
            ? e.port
            : [e.port, e.port]) as [number, number],
      })),
    ),
  };
}

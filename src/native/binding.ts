/**
 * Loads the compiled N-API addon (native/node, built by `npm run build:native`).
 *
 * The napi CLI generates no loader for a crate without napi-derive, so this is the
 * hand-written one. The path is relative to this file and the same from src/native/
 * (vitest, tsx) and dist/native/ (compiled): both sit two levels below the package root.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Absolute path of the addon for this platform (Linux x64 glibc is the only one built). */
export const ADDON_PATH = fileURLToPath(
  new URL('../../native/qoscore.linux-x64-gnu.node', import.meta.url),
);

/** The addon's exports exactly as native/node/src/lib.rs defines them. */
export interface RawBinding {
  /** Version of qoslab-core. */
  version(): string;
  /** Open a lab from a JSON NativeLabConfig; returns its id. */
  labOpen(configJson: string): number;
  /** LabCounters as JSON. Throws QL_UNKNOWN_LAB for an id that is not open. */
  labCounters(id: number): string;
  /**
   * Replace the active policy set (a JSON array of policy names); the forwarding thread
   * applies it between two packets. Throws QL_UNKNOWN_POLICY for a name the lab's
   * scenario does not have, QL_UNKNOWN_LAB for an id that is not open.
   */
  labSetActive(id: number, namesJson: string): void;
  /**
   * Per-flow metric snapshots taken since the last call (a JSON array of FlowSnapshot);
   * `all` 1: the new one has every live flow, not only those that changed.
   */
  labFlows(id: number, all: number): string;
  /**
   * Stop forwarding and destroy both TUNs; returns `{"flows": [FlowSnapshot…], "capture":
   * CaptureCounters | null}` as the forwarding thread left them (empty for an unknown or
   * closed id).
   */
  labClose(id: number): string;
  /** Run a compiled scenario over synthetic traffic in virtual time; the result as JSON. */
  simulate(compiledJson: string, trafficJson: string): string;
}

/** The addon file is not there: the native part was never built. */
export class NativeMissingError extends Error {
  readonly code = 'QL_NATIVE_MISSING';

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      `native core not found at ${path}; run \`npm run build\` (needs a Rust toolchain)`,
      options,
    );
    this.name = 'NativeMissingError';
  }
}

const require = createRequire(import.meta.url);
let cached: RawBinding | undefined;

/**
 * The addon, loaded on first use so that importing this module never fails (the CLI's
 * `doctor` must be able to report a missing build instead of crashing on import).
 */
export function loadBinding(): RawBinding {
  if (cached === undefined) {
    try {
      cached = require(ADDON_PATH) as RawBinding;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
        throw new NativeMissingError(ADDON_PATH, { cause: error });
      }
      // Present but unloadable (wrong architecture, missing symbol): keep node's message.
      throw error;
    }
  }
  return cached;
}

/**
 * Loads the compiled N-API addon, as napi-rs projects ship it: a checkout's own build
 * (`native/qoscore.<platform>.node`, from `npm run build:native`), else the prebuilt core
 * of the per-platform package `qoslab-<platform>` that an installed qoslab lists as an
 * optional dependency (npm installs only the one whose os, cpu and libc match).
 *
 * The napi CLI generates no loader for a crate without napi-derive, so this is the
 * hand-written one. The path is relative to this file and the same from src/native/
 * (vitest, tsx) and dist/native/ (compiled): both sit two levels below the package root.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** glibc or musl, as napi-rs names the ABI in its platform strings. */
function libc(): 'gnu' | 'musl' {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
    ?.header;
  return header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** napi-rs' name for this machine: `linux-x64-gnu`, `linux-arm64-gnu`, ... */
export const PLATFORM = `${process.platform}-${process.arch}${process.platform === 'linux' ? `-${libc()}` : ''}`;

/** Absolute path of a checkout's own build of the addon for this platform. */
export const ADDON_PATH = fileURLToPath(
  new URL(`../../native/qoscore.${PLATFORM}.node`, import.meta.url),
);

/** The per-platform package that carries the prebuilt addon. */
export const ADDON_PACKAGE = `qoslab-${PLATFORM}`;

/** The addon's exports exactly as native/node/src/lib.rs defines them. */
export interface RawBinding {
  /** Version of qoslab-core. */
  version(): string;
  /** Open a lab from a JSON NativeLabConfig; returns its id. */
  labOpen(configJson: string): number;
  /** LabCounters as JSON. Throws QL_UNKNOWN_LAB for an id that is not open. */
  labCounters(id: number): string;
  /** LabStalls as JSON; the episodes it returns are not returned again. Throws QL_UNKNOWN_LAB. */
  labStalls(id: number): string;
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
  simulate(compiledJson: string, planJson: string): string;
}

/** Neither a build of the addon nor its platform package is there. */
export class NativeMissingError extends Error {
  readonly code = 'QL_NATIVE_MISSING';

  constructor(options?: { cause?: unknown }) {
    super(
      `native core not found: no ${ADDON_PATH} (a checkout's build) and no package ${ADDON_PACKAGE} (the prebuilt core); install ${ADDON_PACKAGE} (npm installs it with qoslab where one is published for ${PLATFORM}), or build it: npm run build (needs a Rust toolchain)`,
      options,
    );
    this.name = 'NativeMissingError';
  }
}

const require = createRequire(import.meta.url);
let cached: RawBinding | undefined;

/** `require`, or undefined when the module itself (not one it needs) is not found. */
function tryRequire(id: string): RawBinding | undefined {
  try {
    return require(id) as RawBinding;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // A present but unloadable addon (wrong architecture, missing symbol) keeps node's message.
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(id)) return undefined;
    throw error;
  }
}

/**
 * The addon, loaded on first use so that importing this module never fails (the CLI's
 * `doctor` must be able to report a missing build instead of crashing on import).
 */
export function loadBinding(): RawBinding {
  cached ??= tryRequire(ADDON_PATH) ?? tryRequire(ADDON_PACKAGE);
  if (cached === undefined) throw new NativeMissingError();
  return cached;
}

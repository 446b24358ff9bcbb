/**
 * Typed wrapper over the native core (native/node, loaded by ./binding.ts).
 *
 * The boundary carries only strings and numbers: the lab configuration goes in as
 * JSON and the counters come back as JSON, so the hand-written N-API glue stays small.
 * Native errors arrive as JS errors whose `code` is one of NativeErrorCode and are
 * rethrown here as NativeError.
 */

import { loadBinding } from './binding.js';

export { NativeMissingError } from './binding.js';

/** What the native core needs to open the two TUN devices and forward between them. */
export interface NativeLabConfig {
  /** TUN device on the client side, created in the caller's network namespace. */
  clientTun: string;
  /** TUN device on the server side. */
  serverTun: string;
  /** Link MTU; buffers are sized from it (and from 64 KiB super-packets with offload). */
  mtu: number;
  /** Open with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM|TSO4|TSO6) and pass GSO super-packets through. */
  offload: boolean;
  /** Destination prefixes a packet may have; anything else is dropped as `not-lab`. */
  labPrefixes: string[];
}

/** Drops counted per direction, by reason. */
export interface DropCounters {
  /** Destination outside labPrefixes. */
  'not-lab': number;
  /** Not a parseable IPv4/IPv6 packet (or bad virtio-net header). */
  malformed: number;
  /** The write into the other TUN failed. */
  'write-error': number;
}

export interface DirectionCounters {
  /** Packets read from the TUN (a GSO super-packet counts once). */
  packets: number;
  /** IP bytes read (virtio-net header excluded). */
  bytes: number;
  /** Packets written to the other TUN. */
  forwarded: number;
  drops: DropCounters;
}

export interface LabCounters {
  /** client → server */
  up: DirectionCounters;
  /** server → client */
  down: DirectionCounters;
}

export type NativeErrorCode =
  | 'QL_BAD_CONFIG'
  | 'QL_TUN_OPEN'
  | 'QL_TUN_CONFIG'
  | 'QL_THREAD'
  | 'QL_UNKNOWN_LAB'
  | 'QL_PANIC'
  /** An argument of the wrong type reached the addon (a bug in this wrapper). */
  | 'QL_BAD_ARG'
  /** An N-API call itself failed (out of memory, a closing environment). */
  | 'QL_NAPI';

const NATIVE_ERROR_CODES: ReadonlySet<string> = new Set<NativeErrorCode>([
  'QL_BAD_CONFIG',
  'QL_TUN_OPEN',
  'QL_TUN_CONFIG',
  'QL_THREAD',
  'QL_UNKNOWN_LAB',
  'QL_PANIC',
  'QL_BAD_ARG',
  'QL_NAPI',
]);

/** An error raised by the native core; `code` is stable, the message is for people. */
export class NativeError extends Error {
  readonly code: NativeErrorCode;

  constructor(code: NativeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeError';
    this.code = code;
  }
}

/** Re-raise an error thrown by the addon as a NativeError; anything else unchanged. */
function rethrow(error: unknown): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && NATIVE_ERROR_CODES.has(code)) {
    throw new NativeError(code as NativeErrorCode, error.message, { cause: error });
  }
  throw error;
}

/** Version of the native core (qoslab-core); throws NativeMissingError if it is not built. */
export function nativeVersion(): string {
  return loadBinding().version();
}

/**
 * Two TUN devices and the native thread forwarding between them. The devices exist from
 * `open` until `close` (or process exit): they are not persistent, so moving them into
 * other namespaces is fine and nothing is left behind.
 */
export class NativeLab {
  readonly id: number;
  #closed = false;

  private constructor(id: number) {
    this.id = id;
  }

  /** Create both TUNs in the caller's namespace and start forwarding. */
  static open(config: NativeLabConfig): NativeLab {
    return NativeLab.openJson(JSON.stringify(config));
  }

  /**
   * Like `open`, for a config that is already JSON (e.g. compiled from a scenario). The
   * core validates it, so a bad document is a NativeError QL_BAD_CONFIG, not a crash.
   */
  static openJson(configJson: string): NativeLab {
    const binding = loadBinding();
    try {
      return new NativeLab(binding.labOpen(configJson));
    } catch (error) {
      rethrow(error);
    }
  }

  /** A snapshot of the forwarding counters; throws NativeError QL_UNKNOWN_LAB once closed. */
  counters(): LabCounters {
    let json: string;
    try {
      json = loadBinding().labCounters(this.id);
    } catch (error) {
      rethrow(error);
    }
    return JSON.parse(json) as LabCounters;
  }

  /** Stop forwarding and destroy both TUNs. Idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      loadBinding().labClose(this.id);
    } catch (error) {
      rethrow(error);
    }
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

import { randomBytes } from 'node:crypto';

/** Every lab resource name starts with this, so cleanup and users can tell them apart. */
export const RESOURCE_PREFIX = 'ql';

export interface LabNames {
  id: string;
  clientNs: string;
  serverNs: string;
  /** TUN names while they still live in the root namespace (must be unique there). */
  clientTunOutside: string;
  serverTunOutside: string;
}

/** A short random run id; 6 hex characters keep device names under IFNAMSIZ (15). */
export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

export function labNames(id: string): LabNames {
  return {
    id,
    clientNs: `qlc-${id}`,
    serverNs: `qls-${id}`,
    clientTunOutside: `qltc-${id}`,
    serverTunOutside: `qlts-${id}`,
  };
}

/** The run id a lab namespace or device name belongs to, if it follows labNames(). */
export function runIdOf(name: string): string | undefined {
  return /^ql(?:c|s|tc|ts)-([0-9a-f]{6})$/.exec(name)?.[1];
}

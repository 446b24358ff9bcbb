import { NativeLab } from '../native/index.js';

/**
 * Whether this build's native core can shape: switch policy sets (and so apply the
 * scenario's policies and links). TRANSITIONAL: until the shaping core lands, the lab
 * only forwards.
 */
export function coreCanShape(): boolean {
  return typeof (NativeLab.prototype as { setActive?: unknown }).setActive === 'function';
}

/**
 * The ITU-T G.107 E-model, simplified to the terms a network changes: delay (Id) and
 * codec plus packet loss (Ie,eff); every other impairment at its default, so
 * R = 93.2 − Id − Ie,eff.
 */

/** Codec impairment: Ie and packet-loss robustness Bpl. */
export interface CodecImpairment {
  ie: number;
  bpl: number;
  /** Where the values come from. */
  source: string;
}

export const CODECS: Record<'g711' | 'opus', CodecImpairment> = {
  // ITU-T G.113 Appendix I, Table I.3: G.711 with packet loss concealment.
  g711: { ie: 0, bpl: 25.1, source: 'ITU-T G.113 Appendix I (G.711 with PLC)' },
  // Opus has no G.113 entry. Assumption: Ie 11, Bpl 19 — the G.113 values of G.729A+VAD,
  // a deliberately conservative stand-in for a 32 kbit/s Opus stream with its own PLC.
  opus: {
    ie: 11,
    bpl: 19,
    source: 'assumption: no ITU-T value; G.729A values (G.113 App. I) used',
  },
};

/** Delay impairment Id for a one-way mouth-to-ear delay in ms (the usual simplified form). */
export function delayImpairment(delayMs: number): number {
  const d = Math.max(0, delayMs);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/**
 * Effective equipment impairment: Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl), with
 * Ppl the packet loss in percent and BurstR 1 for random loss.
 */
export function effectiveIe(codec: CodecImpairment, lossRatio: number, burstR = 1): number {
  const ppl = Math.min(100, Math.max(0, lossRatio * 100));
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl / burstR + codec.bpl);
}

export function rFactor(
  delayMs: number,
  codec: CodecImpairment,
  lossRatio: number,
  burstR = 1,
): number {
  return 93.2 - delayImpairment(delayMs) - effectiveIe(codec, lossRatio, burstR);
}

/** MOS (conversational quality estimate) from R, G.107 Annex B. */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

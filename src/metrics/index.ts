/** Metrics: pure functions over workload events. */
export {
  summarize,
  pooled,
  type WorkloadStats,
  type ScopeStats,
  type DirectionStats,
  type SummarizeInput,
} from './summarize.js';
export { checkExpectations, measure, type ExpectationResult } from './expect.js';
export { phasesOf, phaseAt, type Phase } from './phases.js';
export { rfc3550Jitter, voiceStats, JITTER_BUFFER_NS, type VoiceStats } from './voice.js';
export { CODECS, delayImpairment, effectiveIe, rFactor, mosFromR } from './emodel.js';
export { LatencyHistogram, percentiles, type LatencyStats } from './histogram.js';

/** Metrics: pure functions over workload events. */
export { summarize, pooled, type SummarizeInput } from './summarize.js';
export { checkExpectations, measure } from './expect.js';
export { phasesOf, phaseAt } from './phases.js';
export { rfc3550Jitter, voiceStats, JITTER_BUFFER_NS } from './voice.js';
export { CODECS, delayImpairment, effectiveIe, rFactor, mosFromR } from './emodel.js';
export { LatencyHistogram, percentiles } from './histogram.js';
export type {
  WorkloadStats,
  ScopeStats,
  DirectionStats,
  ExpectationResult,
  Phase,
  VoiceStats,
  LatencyStats,
} from '../record/summary.js';

/**
 * Where the twin does not agree with the lab, and why. An entry names cells of the
 * agreement table — one (scenario, workload, phase, metric), or every cell a `rule`
 * matches — or one expectation; the first entry that fits a cell explains it (the named
 * ones come first). The test fails on a difference no entry explains and on an entry
 * that explains none (the list only shrinks).
 */
import type { AgreementMetric } from '../../../src/simulate/agreement.js';

/** A compared cell as a rule sees it: the lab's medians of every metric of its row. */
export interface CellView {
  scenario: string;
  workload: string;
  phase: string;
  metric: AgreementMetric;
  lab: Partial<Record<AgreementMetric, number | null>>;
  sim: number | null;
}

export interface Known {
  /** Short, for the table. */
  label: string;
  scenario?: string;
  workload?: string;
  phase?: string;
  metric?: AgreementMetric;
  rule?: (c: CellView) => boolean;
  /** An expectation whose outcome differs (its text). */
  expectation?: string;
  why: string;
}

const MS = 1e6;

export const KNOWN: Known[] = [
  {
    label: "BBR's queue",
    scenario: 'link-lossy-wifi',
    rule: (c) => c.metric === 'p50_ns' && (c.workload === 'call' || c.workload === 'chat'),
    why:
      "the lab's BBR download keeps 8-12 ms queued at the 30 Mbit/s link that the call and " +
      "the chat wait behind; the twin's BBR paces at the link's rate and queues under 1 ms " +
      '(its rate samples have no ACK bunching to overestimate from)',
  },
  {
    label: "Opus's adaptation",
    scenario: 'messengers',
    workload: 'wa-webrtc',
    phase: 'throttled',
    metric: 'goodput_bps',
    why:
      "Chromium lowers Opus's bitrate under the 30 % loss (25 kbit/s received); the twin's " +
      'call keeps 32 kbit/s (70 % of it arrives: loss and delivery agree)',
  },
  {
    label: 'one transfer',
    scenario: 'ru-2025-foreign-hosting-freeze',
    workload: 'vps-fetch',
    phase: 'frozen',
    metric: 'goodput_bps',
    why:
      'the frozen phase completes no transfer but the one or two on a connection opened just ' +
      'before the freeze, at line rate (one lab run of three had one); delivery agrees (0 %)',
  },
  {
    label: 'one message',
    scenario: 'ru-tspu-sni-block-rst',
    workload: 'blocked-page',
    phase: 'blocked',
    metric: 'p50_ns',
    why:
      'one lab run delivered one message sent at the phase switch, before the reset; the twin ' +
      'delivers none (delivery agrees: 0 %)',
  },
  {
    label: 'BBR under a 1-packet bucket',
    scenario: 'tr-2025-social-throttle',
    workload: 'x-media',
    phase: 'throttled',
    metric: 'p50_ns',
    why:
      "a 64 kbit/s policer with a 1500-byte bucket: the twin's BBR gets 47 kbit/s where the " +
      "lab's gets 54 (goodput within 15 %), so its 64 KB transfers take 17 % longer",
  },
  {
    label: "the lab's CPU",
    rule: (c) =>
      (c.metric === 'goodput_bps' || c.metric === 'p50_ns') &&
      c.sim !== null &&
      (c.lab.goodput_bps ?? 0) > 100e6,
    why:
      'a transfer nothing limits (no link rate, no policy in force) runs as fast as the ' +
      "lab's proxy and agents keep up: 0.4-5 Gbit/s across these runs, the same transfer " +
      "varying 2x between runs on the shared 2-core machine; the twin's path is a fixed 2 Gbit/s",
  },
  {
    label: "the lab's stacks",
    rule: (c) =>
      c.metric === 'p50_ns' && c.sim !== null && c.lab.p50_ns != null && c.lab.p50_ns < 10 * MS,
    why:
      "under 10 ms a message's one-way time is the lab's own stacks and scheduler, not the " +
      'network: http2 read 1.0-8.2 ms for the same messages across runs and phases, udp-voice ' +
      "0.14-0.33 ms; the twin adds each protocol's median (its row's wire.stackNs)",
  },
];

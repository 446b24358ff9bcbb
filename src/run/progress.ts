import type { AgentEvent } from '../record/events.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import { fmtDuration } from '../record/format.js';

/** Running totals for the live display (the summary is computed from the events after). */
export class LiveTally {
  private readonly delivered = new Map<string, number>();
  private readonly sent = new Map<string, number>();
  private readonly latency = new Map<string, LatencyHistogram>();

  constructor(private readonly workloads: string[]) {
    for (const w of workloads) this.latency.set(w, new LatencyHistogram());
  }

  add(e: AgentEvent): void {
    if (e.ev === 'send') this.sent.set(e.w, (this.sent.get(e.w) ?? 0) + 1);
    if (e.ev === 'rtc') {
      // A webrtc call's RTP packets, as its stacks count them (no per-packet latency).
      const add = (m: Map<string, number>, n: number | undefined) =>
        m.set(e.w, (m.get(e.w) ?? 0) + (n ?? 0));
      if (e.side === 'send') add(this.sent, e.packets_sent);
      else add(this.delivered, e.packets_received);
      return;
    }
    if (e.ev !== 'recv') return;
    this.delivered.set(e.w, (this.delivered.get(e.w) ?? 0) + 1);
    this.latency.get(e.w)?.record(e.t - e.sent);
  }

  lines(phase: string, elapsedNs: number, totalNs: number): string[] {
    const head = `phase ${phase}  ${(elapsedNs / 1e9).toFixed(0)}/${(totalNs / 1e9).toFixed(0)} s`;
    const width = Math.max(...this.workloads.map((w) => w.length));
    return [
      head,
      ...this.workloads.map((w) => {
        const d = this.delivered.get(w) ?? 0;
        const s = this.sent.get(w) ?? 0;
        const p50 = fmtDuration(this.latency.get(w)?.percentile(50));
        return `  ${w.padEnd(width)}  delivered ${d}/${s}  p50 ${p50}`;
      }),
    ];
  }

  destroy(): void {
    for (const h of this.latency.values()) h.destroy();
  }
}

/**
 * Shows progress: redrawn in place on a terminal, a plain line block every ~5 s
 * otherwise, nothing when quiet.
 */
export class Progress {
  private drawn = 0;
  private lastPlain = -Infinity;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly mode: 'tty' | 'lines' | 'none',
  ) {}

  static auto(stream: NodeJS.WritableStream & { isTTY?: boolean }, quiet: boolean): Progress {
    return new Progress(stream, quiet ? 'none' : stream.isTTY ? 'tty' : 'lines');
  }

  update(lines: string[], elapsedNs: number): void {
    if (this.mode === 'none') return;
    if (this.mode === 'lines') {
      if (elapsedNs - this.lastPlain < 5e9) return;
      this.lastPlain = elapsedNs;
      this.stream.write(`${lines.join('\n')}\n`);
      return;
    }
    let s = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    for (const line of lines) s += `\u001b[2K${line}\n`;
    this.stream.write(s);
    this.drawn = lines.length;
  }

  /** Leave the last frame on screen. */
  done(): void {
    this.drawn = 0;
  }
}

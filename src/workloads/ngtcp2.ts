/**
 * http3 with `client: ngtcp2`: ngtcp2's example HTTP/3 client (Debian `ngtcp2-client`,
 * `gtlsclient`, on GnuTLS) posts each up message to `/m` on a QUIC connection of its own.
 * Its ClientHello has no post-quantum key share and fits one Initial, in one CRYPTO
 * frame: the shape of the probes the GFW's QUIC SNI censorship was measured with (Zohaib
 * et al., USENIX Security 2025), where Chromium's post-quantum ClientHello spans two
 * Initials. With `hold`, the request waits that long after the handshake (the paper's
 * probes sent their follow-up datagrams 5 s after the Initial). Up messages only: a
 * process per request holds nothing open for the server to push on. The name resolves through the client namespace's hosts file (`ip netns exec`
 * mounts it), so the SNI and `:authority` are the workload's server name; the client
 * does not check the certificate, as the paper's probes did not.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { now, sleepUntil } from './clock.js';
import { startSending } from './hub.js';
import { Outbox } from './outbox.js';
import type { AgentContext } from './types.js';

export const NGTCP2_CLIENT = process.env.QOSLAB_NGTCP2_CLIENT ?? '/usr/bin/gtlsclient';

/** The client's arguments for one POST of the file `body` (exported for its test). */
export function ngtcp2Args(
  w: { server_name: string; port: number; deadline_ns: number; hold_ns: number | null },
  body: string,
): string[] {
  const deadline = `${Math.ceil(w.deadline_ns / 1e6)}ms`;
  const hold = w.hold_ns ?? 0;
  return [
    ...(hold > 0 ? [`--delay-stream=${Math.ceil(hold / 1e6)}ms`] : []),
    '--quiet',
    '--exit-on-all-streams-close',
    // A blocked request gives up at the workload's deadline, as an app would.
    `--timeout=${deadline}`,
    `--handshake-timeout=${deadline}`,
    '--http-method=POST',
    `--data=${body}`,
    w.server_name,
    String(w.port),
    `https://${w.server_name}:${w.port}/m`,
  ];
}

export async function runNgtcp2Client(index: number, c: number, ctx: AgentContext): Promise<void> {
  const w = ctx.workloads[index]!;
  await sleepUntil(ctx.t0 + BigInt(w.start_ns), ctx.signal);
  if (ctx.signal.aborted) return;
  const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-ngtcp2-'));
  const running = new Set<Promise<void>>();
  let n = 0;
  const post = (b: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const body = join(dir, `${n++}`);
      writeFileSync(body, b);
      const child = spawn(NGTCP2_CLIENT, ngtcp2Args(w, body), {
        stdio: ['ignore', 'ignore', 'pipe'],
        signal: ctx.signal,
      });
      // With --quiet only errors reach stderr; a timed-out handshake still exits 0.
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let finished = false;
      const done = (error?: string) => {
        if (finished) return; // a spawn error is followed by close
        finished = true;
        rmSync(body, { force: true });
        if (error !== undefined && !ctx.signal.aborted) {
          ctx.emit({ ev: 'fail', w: w.name, c, t: Number(now() - ctx.t0), stage: 'io', error });
        }
        resolve();
      };
      child.on('error', (e) => done(`${NGTCP2_CLIENT}: ${e.message}`));
      child.on('close', (code, signal) => {
        const error = stderr.trim().split('\n')[0];
        if (code !== 0)
          done(`${NGTCP2_CLIENT} exited ${code ?? signal}${error ? `: ${error}` : ''}`);
        else done(error || undefined);
      });
    });
  const outbox = new Outbox(null);
  outbox.attach((b) => {
    const p = post(b).finally(() => running.delete(p));
    running.add(p);
  });
  const pacer = startSending(ctx, index, c, 'up', outbox);
  try {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    pacer.stop();
    await Promise.allSettled([...running]);
    rmSync(dir, { recursive: true, force: true });
  }
}

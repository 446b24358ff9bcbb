/**
 * webrtc: calls between two real WebRTC stacks — headless Chromium in the client
 * namespace places the call, headless Chromium in the server namespace (the server
 * agent's, ./browser.ts) answers it. Media comes from Chromium's fake devices (a beeping
 * microphone, a test-pattern camera); the call is Opus (and VP8) over DTLS-SRTP with
 * everything the stack does on its own: FEC, NACK, jitter buffer, bandwidth estimation.
 *
 * Signalling crosses the lab like the app's would: the caller's page is loaded from the
 * host (`GET /webrtc`, over TLS on the host's port) and posts its offer there
 * (`POST /webrtc/<w>/<c>`); the server agent answers from its own browser. Non-trickle
 * ICE with host candidates: the ICE checks are STUN, so a classifier's `stun: true` sees
 * each call open. Metrics: the stacks' getStats(), sampled by ./webrtc-stats.ts.
 *
 * A call that fails (ICE fails, or stays disconnected for DISCONNECTED_MS) is hung up
 * and placed again after a backoff, as a user redials.
 *
 * A call with `turn` (../scenario/protocols/webrtc.ts): the server agent runs coturn on
 * that host's address (./turns.ts), the caller fetches the iceServers with their per-run
 * credential from `GET /webrtc/<w>/ice` and gathers relay candidates only
 * (iceTransportPolicy 'relay'), so its media goes through the TURN server; the callee gets
 * the same server but may use its host candidates.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { now, seededRandom, sleepMs, sleepUntil } from './clock.js';
import { errorText } from './dial.js';
import { acquireBrowser, releaseBrowser } from './browser.js';
import { wantsDown, wantsUp } from './hub.js';
import { Backoff, FIXED_RECONNECT } from './backoff.js';
import { emitDetect, emitFail } from './session.js';
import { attemptBudget, leaveTime, timeLeft } from './supervisor.js';
import {
  answerCall,
  fetchIceServers,
  hangUp,
  openPeer,
  placeCall,
  type PeerSetup,
} from './webrtc-page.js';
import { sampleCall } from './webrtc-stats.js';
import { acquireTurns, iceServersFor } from './turns.js';
import type { AgentContext, Protocol, ServerContext } from './types.js';
import type { CompiledWorkload } from '../scenario/compiled.js';

const PAGE = '<!doctype html><meta charset="utf-8"><title>qoslab webrtc</title><body></body>';
/** The server's pages come from here, answered by playwright: a secure context needs an https origin. */
const PEER_ORIGIN = 'https://qoslab-peer.invalid/';
/** Host candidates are there at once; a STUN or TURN server that is blocked must not hold the call. */
const GATHER_MS = 2_000;
/** ICE consent lost this long: the user hangs up (Chromium itself waits 30 s for `failed`). */
const DISCONNECTED_MS = 10_000;
/**
 * The least time an attempt to place a call is given, however close its transport is to
 * giving way: Chromium's call set-up took 0.5-1.5 s on a clear machine, but up to 5 s and
 * more with several labs and browsers at once (the signalling answer waits for the callee's
 * page and its 2 s of gathering).
 */
const CALL_ATTEMPT_MS = 8_000;

function setup(
  w: CompiledWorkload,
  send: boolean,
  receive: boolean,
  own: boolean,
  iceServers: RTCIceServer[],
): PeerSetup {
  return {
    iceServers,
    // The caller relays when the scenario gives a TURN server; the callee answers as usual.
    relay: !own && iceServers.length > 0,
    audio: true,
    video: w.video === true,
    send,
    receive,
    family: w.address.includes(':') ? 6 : 4,
    address: own ? w.address : null,
    gatherMs: GATHER_MS,
  };
}

async function newPeerPage(browser: BrowserContext, url: string): Promise<Page> {
  const page = await browser.newPage();
  if (url === PEER_ORIGIN) {
    await page.route(PEER_ORIGIN, (r) => r.fulfill({ body: PAGE, contentType: 'text/html' }));
  }
  return page;
}

/** One answered call on the server side, until the caller hangs up or places it again. */
interface ServerCall {
  end(): Promise<void>;
}

async function answer(
  ctx: ServerContext,
  browser: BrowserContext,
  index: number,
  c: number,
  step: number,
  offer: string,
  calls: Map<string, ServerCall>,
): Promise<string> {
  const w = ctx.workloads[index]!;
  const key = `${index}/${c}`;
  await calls.get(key)?.end();
  const page = await newPeerPage(browser, PEER_ORIGIN);
  try {
    await page.goto(PEER_ORIGIN);
    const iceServers = await iceServersFor(w, step);
    await page.evaluate(openPeer, setup(w, wantsDown(w), wantsUp(w), true, iceServers));
    const sdp = await page.evaluate(answerCall, offer);
    let ended: Promise<void> | undefined;
    const call: ServerCall = {
      end: () =>
        (ended ??= (async () => {
          if (calls.get(key) === call) calls.delete(key);
          await sampler.stop();
          await page.evaluate(hangUp, null).catch(() => {});
          await page.close().catch(() => {});
        })()),
    };
    const sampler = sampleCall({
      ctx,
      page,
      workload: w.name,
      c,
      sends: 'down',
      startAbs: now(),
      onState: (state) => {
        if (state === 'failed' || state === 'closed') void call.end();
      },
    });
    calls.set(key, call);
    return sdp;
  } catch (e) {
    await page.close().catch(() => {});
    throw e;
  }
}

export const webrtc: Protocol = {
  async share(ctx) {
    const browser = await acquireBrowser(ctx);
    let releaseTurns: () => Promise<void>;
    try {
      releaseTurns = await acquireTurns(ctx);
    } catch (e) {
      await releaseBrowser();
      throw e;
    }
    const calls = new Map<string, ServerCall>();
    return {
      request: (req, res) => {
        if (req.method === 'GET' && req.url === '/webrtc') {
          res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
          res.end(PAGE);
          return true;
        }
        const ice =
          req.method === 'GET' ? /^\/webrtc\/(\d+)\/ice(?:\/(\d+))?$/.exec(req.url ?? '') : null;
        const iw = ice === null ? undefined : ctx.workloads[Number(ice[1])];
        if (iw?.protocol === 'webrtc') {
          void iceServersFor(iw, Number(ice![2] ?? 0)).then((iceServers) => {
            res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
            res.end(JSON.stringify({ iceServers }));
          });
          return true;
        }
        const m =
          req.method === 'POST'
            ? /^\/webrtc\/(\d+)\/(\d+)(?:\/(bye|\d+))?$/.exec(req.url ?? '')
            : null;
        if (m === null) return false;
        const index = Number(m[1]);
        const c = Number(m[2]);
        const step = m[3] === undefined || m[3] === 'bye' ? 0 : Number(m[3]);
        if (ctx.workloads[index]?.protocol !== 'webrtc') return false;
        if (m[3] === 'bye') {
          // The caller hung up: stop counting what the callee still sends.
          void calls.get(`${index}/${c}`)?.end();
          res.writeHead(204).end();
          return true;
        }
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('error', () => {});
        req.on('end', () => {
          answer(ctx, browser, index, c, step, Buffer.concat(chunks).toString('utf8'), calls).then(
            (sdp) => {
              if (!res.writableEnded) res.writeHead(200, { 'content-type': 'application/sdp' });
              res.end(sdp);
            },
            (e: unknown) => {
              ctx.emit({ ev: 'log', role: 'server', t: 0, msg: `webrtc: ${errorText(e)}` });
              if (!res.writableEnded) res.writeHead(500).end();
            },
          );
        });
        return true;
      },
      close: async () => {
        await Promise.allSettled([...calls.values()].map((call) => call.end()));
        await releaseBrowser();
        await releaseTurns();
      },
    };
  },

  async prepare(ctx) {
    await acquireBrowser(ctx);
    return { close: releaseBrowser };
  },

  async client(index, c, ctx) {
    const w = ctx.workloads[index]!;
    await sleepUntil(ctx.t0 + BigInt(w.start_ns), ctx.signal);
    if (ctx.signal.aborted) return;
    const browser = await acquireBrowser(ctx);
    try {
      await callRepeatedly(ctx, browser, index, c);
    } finally {
      await releaseBrowser();
    }
  },
};

/** Places the workload connection's call, and again after each failure, until the end. */
async function callRepeatedly(
  ctx: AgentContext,
  browser: BrowserContext,
  index: number,
  c: number,
): Promise<void> {
  const w = ctx.workloads[index]!;
  const stopAbs = ctx.t0 + BigInt(w.stop_ns);
  // Until the workload stops or the agent does (a timer of our own: it must not be collected).
  const hangUpAt = new AbortController();
  const timer = setTimeout(
    () => hangUpAt.abort(),
    Math.max(0, Math.round(Number(stopAbs - now()) / 1e6)),
  );
  const onStop = () => hangUpAt.abort();
  ctx.signal.addEventListener('abort', onStop, { once: true });
  const until = hangUpAt.signal;
  try {
    await callUntil(ctx, browser, index, c, until);
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onStop);
  }
}

/** Why a connected call ended. */
type CallEnd =
  { cause: 'failed'; reason: string } | { cause: 'media'; silentNs: number } | undefined;

/**
 * Places the call, and again after each failure, until `until`: a dial tries the
 * transports of the call's chain in order (direct, then its relays), each until the next
 * one's `after` passes without the call connecting; a dial that runs out of transports
 * failed for the user (`fail` stage `setup`) and is redialled after the `reconnect` wait.
 * A connected call that receives no media for the next transport's `after` moves on to it
 * (`detect` cause `media`), as apps switch a call to a relay mid-call.
 */
async function callUntil(
  ctx: AgentContext,
  browser: BrowserContext,
  index: number,
  c: number,
  until: AbortSignal,
): Promise<void> {
  const w = ctx.workloads[index]!;
  const chain = w.transports;
  const origin = `https://${w.server_name}:${w.port}`;
  const backoff = new Backoff(
    seededRandom(ctx.seed * 7919 + index * 131 + c),
    w.reconnect ?? FIXED_RECONNECT,
  );
  const rel = (abs: bigint) => Number(abs - ctx.t0);
  let calls = 0;
  let step = 0;
  let stepSince = now();
  let dialStart = now();
  let lastMedia: bigint | undefined;
  while (!until.aborted) {
    const via = chain[step]!;
    const leaveAt = leaveTime(chain, step, stepSince);
    const placed = now();
    const page = await browser.newPage();
    let sampler: { stop(): Promise<void> } | undefined;
    let ended: CallEnd;
    try {
      let result: { ms: number; path: string };
      try {
        const budget = attemptBudget(leaveAt, CALL_ATTEMPT_MS);
        const response = await page.goto(`${origin}/webrtc`, { timeout: budget });
        if (response === null || response.status() !== 200) {
          throw new Error(`page: HTTP ${response?.status() ?? 'no response'}`);
        }
        const iceServers = await page.evaluate(fetchIceServers, `/webrtc/${index}/ice/${step}`);
        await page.evaluate(openPeer, setup(w, wantsUp(w), wantsDown(w), false, iceServers));
        const left = Math.ceil(Math.max(1, budget - Number(now() - placed) / 1e6));
        result = await page.evaluate(placeCall, {
          path: `/webrtc/${index}/${c}/${step}`,
          connectMs: left,
        });
      } catch (e) {
        if (until.aborted) break;
        emitFail(
          ctx,
          w.name,
          c,
          'connect',
          chain.length > 1 ? `${via.label}: ${errorText(e)}` : errorText(e),
        );
        const left = timeLeft(leaveAt, CALL_ATTEMPT_MS);
        if (left > 0) {
          await sleepMs(Math.min(backoff.next(), left), until);
          continue;
        }
        // This transport had its time: the next one at once; after the last, the user
        // has seen the call fail, and dials again later.
        step = (step + 1) % chain.length;
        stepSince = now();
        if (step === 0) {
          ctx.emit({
            ev: 'fail',
            w: w.name,
            c,
            t: rel(now()),
            stage: 'setup',
            error: `no transport of ${chain.map((t) => t.label).join(', ')} connected`,
            setup_ns: Number(now() - dialStart),
          });
          await sleepMs(backoff.next(), until);
          dialStart = now();
          stepSince = now();
        }
        continue;
      }
      const at = now();
      ctx.emit({
        ev: 'connect',
        w: w.name,
        c,
        t: rel(at),
        connect_ns: Math.round(result.ms * 1e6),
        tls_ns: null,
        reconnect: calls++ > 0,
        proto: result.path,
        transport: via.label,
        setup_ns: Number(at - dialStart),
        login_ns: null,
        recover_ns: lastMedia === undefined ? null : Number(at - lastMedia),
      });
      backoff.reset();
      // A step whose successor has an `after` gives way when no media comes for that long.
      const next = step + 1 < chain.length ? chain[step + 1]! : undefined;
      const mediaLimitNs = next?.after_ns ?? null;
      ended = await new Promise<CallEnd>((resolve) => {
        let disconnectedSince: bigint | undefined;
        let received = -1;
        let heard = now();
        until.addEventListener('abort', () => resolve(undefined), { once: true });
        if (until.aborted) resolve(undefined);
        page.once('crash', () => resolve({ cause: 'failed', reason: 'the call page crashed' }));
        sampler = sampleCall({
          ctx,
          page,
          workload: w.name,
          c,
          sends: 'up',
          startAbs: placed,
          onState: (state) => {
            if (state === 'failed' || state === 'closed') {
              return resolve({ cause: 'failed', reason: `call ${state}` });
            }
            if (state !== 'disconnected') return void (disconnectedSince = undefined);
            disconnectedSince ??= now();
            if (now() - disconnectedSince >= BigInt(DISCONNECTED_MS) * 1_000_000n) {
              resolve({
                cause: 'failed',
                reason: `call disconnected for ${DISCONNECTED_MS / 1000} s`,
              });
            }
          },
          onSnapshot: (cur) => {
            if (!wantsDown(w)) return;
            const got = Object.values(cur.kinds).reduce((n, k) => n + k.packetsReceived, 0);
            if (got > received) {
              received = got;
              heard = now();
              lastMedia = heard;
            } else if (mediaLimitNs !== null && Number(now() - heard) >= mediaLimitNs) {
              resolve({ cause: 'media', silentNs: Number(now() - heard) });
            }
          },
        });
      });
      if (ended === undefined) break;
      if (ended.cause === 'media') {
        emitDetect(ctx, w.name, c, 'media', ended.silentNs, via.label);
      } else {
        emitFail(ctx, w.name, c, 'io', ended.reason);
      }
    } finally {
      await sampler?.stop();
      await page.evaluate(hangUp, `/webrtc/${index}/${c}/bye`).catch(() => {});
      await page.close().catch(() => {});
    }
    dialStart = now();
    if (ended?.cause === 'media') {
      // No media on this transport: the next one at once, as an app moves a call to a relay.
      step = Math.min(step + 1, chain.length - 1);
      stepSince = now();
      continue;
    }
    stepSince = now();
    await sleepMs(backoff.next(), until);
  }
}

/**
 * The parts of a webrtc call that run inside a Chromium page (serialized by playwright:
 * no closures, no imports). Each page holds one RTCPeerConnection in `globalThis.qlPc`,
 * plays what it receives (Chromium decodes audio only for a playing sink, so without one
 * there would be no concealment or jitter-buffer statistics), and reports cumulative
 * getStats() counters; ./webrtc-stats.ts turns them into per-interval deltas.
 */

/** What a page sends and which of its host candidates it may announce. */
export interface PeerSetup {
  /** STUN/TURN servers (the scenario's `turn` host, with the run's credential); none: host candidates only. */
  iceServers: RTCIceServer[];
  /** Relay candidates only (iceTransportPolicy 'relay'): the media goes through TURN. */
  relay: boolean;
  audio: boolean;
  video: boolean;
  /** Whether this side sends media (the workload's direction). */
  send: boolean;
  /** Whether this side receives media. */
  receive: boolean;
  /**
   * Candidates this side announces: its UDP candidates of the server's IP family, and on
   * the server only those on the workload's host address (the server namespace holds
   * every host's address; a call to one host must come from that host).
   */
  family: 4 | 6;
  address: string | null;
  /** Non-trickle ICE: how long gathering may take before the description goes anyway. */
  gatherMs: number;
}

/** Cumulative counters of one media kind, as getStats() reports them. */
export interface KindSnapshot {
  packetsSent: number;
  targetBitrate: number | null;
  rtt: number | null;
  inbound: boolean;
  packetsReceived: number;
  packetsLost: number;
  packetsDiscarded: number;
  bytesReceived: number;
  jitter: number;
  totalSamplesReceived: number;
  concealedSamples: number;
  concealmentEvents: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  /** Video: frames decoded and dropped, and Chromium's freezes (count, seconds in them). */
  framesDecoded: number;
  framesDropped: number;
  freezeCount: number;
  totalFreezesDuration: number;
}

export interface Snapshot {
  state: string;
  kinds: Record<string, KindSnapshot>;
}

type Pc = RTCPeerConnection;
interface PeerGlobals {
  qlPc?: Pc;
  qlSetup?: PeerSetup;
  /** The fake devices' tracks this side sends (none when it only receives). */
  qlTracks?: MediaStreamTrack[];
  /** The local description once gathered, with only the candidates this side announces. */
  qlGathered?: () => Promise<string>;
}

/** Creates the peer connection with its local media; used by both sides before offer/answer. */
export async function openPeer(setup: PeerSetup): Promise<void> {
  const g = globalThis as unknown as PeerGlobals;
  const pc = new RTCPeerConnection({
    iceServers: setup.iceServers,
    iceTransportPolicy: setup.relay ? 'relay' : 'all',
  });
  g.qlPc = pc;
  g.qlSetup = setup;
  pc.ontrack = (e) => {
    const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
    el.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    el.muted = e.track.kind === 'video';
    document.body.append(el);
    void el.play().catch(() => {});
  };
  // Page functions cannot share helpers by closure across evaluate() calls: this one is
  // installed here for placeCall and answerCall. Non-trickle ICE: wait for gathering (at
  // most setup.gatherMs), then keep the announced candidates (see PeerSetup).
  g.qlGathered = async () => {
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, setup.gatherMs);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState !== 'complete') return;
        clearTimeout(timer);
        resolve();
      });
    });
    return pc
      .localDescription!.sdp.split('\r\n')
      .filter((line) => {
        if (!line.startsWith('a=candidate:')) return true;
        // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
        const f = line.split(' ');
        const address = f[4] ?? '';
        if ((f[2] ?? '').toLowerCase() !== 'udp') return false;
        if (f[7] !== 'host') return true; // relayed or reflexive: the server's to say
        if (setup.address !== null) return address === setup.address;
        return setup.family === 6 ? address.includes(':') : !address.includes(':');
      })
      .join('\r\n');
  };
  g.qlTracks = [];
  if (setup.send) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: setup.audio,
      video: setup.video ? { width: 640, height: 360, frameRate: 30 } : false,
    });
    g.qlTracks = stream.getTracks();
  }
}

/** The caller asks the app's server for its ICE servers, as apps hand out TURN credentials. */
export async function fetchIceServers(path: string): Promise<RTCIceServer[]> {
  const res = await fetch(path, { cache: 'no-store', signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`ICE servers: HTTP ${res.status}`);
  return ((await res.json()) as { iceServers: RTCIceServer[] }).iceServers;
}

/**
 * The caller: offers, posts the offer to the signalling path and applies the answer.
 * Resolves once connected with the time it took (ms, page clock) and the ICE path, or
 * rejects when the call fails or does not connect within `connectMs`.
 */
export async function placeCall(o: {
  path: string;
  connectMs: number;
}): Promise<{ ms: number; path: string }> {
  const g = globalThis as unknown as PeerGlobals;
  const pc = g.qlPc!;
  const setup = g.qlSetup!;
  const started = performance.now();
  for (const kind of ['audio', 'video'] as const) {
    if (kind === 'video' && !setup.video) continue;
    const track = g.qlTracks!.find((t) => t.kind === kind);
    const direction = track === undefined ? 'recvonly' : setup.receive ? 'sendrecv' : 'sendonly';
    const stream = new MediaStream(track === undefined ? [] : [track]);
    pc.addTransceiver(track ?? kind, { direction, streams: [stream] });
  }
  await pc.setLocalDescription();
  const offer = await g.qlGathered!();
  // How many candidates each side announced: none here means gathering failed (a blocked
  // STUN/TURN server), which a failed call's error should say.
  const count = (sdp: string | undefined) =>
    (sdp ?? '').split('\r\n').filter((line) => line.startsWith('a=candidate:')).length;
  const connected = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      const ours = count(offer);
      const theirs = count(pc.remoteDescription?.sdp);
      const state = `${pc.connectionState}; candidates: ${ours} ours, ${theirs} theirs`;
      reject(new Error(`not connected after ${o.connectMs} ms (${state})`));
    }, o.connectMs);
    const check = () => {
      if (pc.connectionState === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        clearTimeout(timer);
        reject(new Error(`call ${pc.connectionState}`));
      }
    };
    pc.addEventListener('connectionstatechange', check);
  });
  const res = await fetch(o.path, {
    method: 'POST',
    body: offer,
    cache: 'no-store',
    headers: { 'content-type': 'application/sdp' },
    signal: AbortSignal.timeout(o.connectMs),
  });
  if (res.status !== 200) throw new Error(`signalling: HTTP ${res.status}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  await connected;
  const ms = performance.now() - started;
  // The ICE path: the local candidate of the transport's selected pair. A relay candidate's
  // own protocol is the relayed address's (always UDP); the way to the TURN server is its
  // relayProtocol (udp, tcp or tls), which is what a censor in the path sees.
  let path = 'udp';
  const report = await pc.getStats();
  report.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
    if (s.type !== 'transport' || s.selectedCandidatePairId === undefined) return;
    const pair = report.get(s.selectedCandidatePairId) as { localCandidateId?: string } | undefined;
    const local = report.get(pair?.localCandidateId ?? '') as
      { protocol?: string; candidateType?: string; relayProtocol?: string } | undefined;
    if (local === undefined) return;
    const type = local.candidateType ?? 'host';
    const via = type === 'relay' ? local.relayProtocol : undefined;
    path = `${via ?? local.protocol ?? 'udp'} ${type}`;
  });
  return { ms, path };
}

/** The callee: applies the offer, answers with the media this side sends. */
export async function answerCall(offer: string): Promise<string> {
  const g = globalThis as unknown as PeerGlobals;
  const pc = g.qlPc!;
  const setup = g.qlSetup!;
  // The caller's addresses are not used: as for a real client behind NAT, the callee
  // learns them (peer-reflexive) from the caller's first checks. So the caller opens the
  // media flow, as a censor in the path sees real calls open (`initiator: client`).
  const blind = offer
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:'))
    .join('\r\n');
  await pc.setRemoteDescription({ type: 'offer', sdp: blind });
  for (const t of pc.getTransceivers()) {
    const track = g.qlTracks!.find((k) => k.kind === t.receiver.track.kind);
    if (track !== undefined) {
      await t.sender.replaceTrack(track);
      t.direction = setup.receive ? 'sendrecv' : 'sendonly';
    } else {
      t.direction = 'recvonly';
    }
  }
  await pc.setLocalDescription();
  return g.qlGathered!();
}

/** A media kind before its first packet (Node side; the page gets it as an argument). */
export const ZERO_KIND: KindSnapshot = {
  packetsSent: 0,
  targetBitrate: null,
  rtt: null,
  inbound: false,
  packetsReceived: 0,
  packetsLost: 0,
  packetsDiscarded: 0,
  bytesReceived: 0,
  jitter: 0,
  totalSamplesReceived: 0,
  concealedSamples: 0,
  concealmentEvents: 0,
  jitterBufferDelay: 0,
  jitterBufferEmittedCount: 0,
  framesDecoded: 0,
  framesDropped: 0,
  freezeCount: 0,
  totalFreezesDuration: 0,
};

/** Cumulative statistics of the call, per media kind (`zero`: ZERO_KIND). */
export async function snapshot(zero: KindSnapshot): Promise<Snapshot> {
  const g = globalThis as unknown as PeerGlobals;
  const pc = g.qlPc;
  if (pc === undefined) return { state: 'new', kinds: {} };
  const kinds: Record<string, KindSnapshot> = {};
  const of = (kind: string): KindSnapshot => (kinds[kind] ??= { ...zero });
  const report = await pc.getStats();
  report.forEach((s: Record<string, number | string | undefined>) => {
    const kind = String(s.kind ?? '');
    const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    if (s.type === 'outbound-rtp') {
      const k = of(kind);
      k.packetsSent += n('packetsSent');
      if (typeof s.targetBitrate === 'number')
        k.targetBitrate = (k.targetBitrate ?? 0) + s.targetBitrate;
    } else if (s.type === 'remote-inbound-rtp') {
      if (typeof s.roundTripTime === 'number') of(kind).rtt = s.roundTripTime;
    } else if (s.type === 'inbound-rtp') {
      const k = of(kind);
      k.inbound = true;
      k.packetsReceived += n('packetsReceived');
      k.packetsLost += n('packetsLost');
      k.packetsDiscarded += n('packetsDiscarded');
      k.bytesReceived += n('bytesReceived');
      k.jitter = Math.max(k.jitter, n('jitter'));
      k.totalSamplesReceived += n('totalSamplesReceived');
      k.concealedSamples += n('concealedSamples');
      k.concealmentEvents += n('concealmentEvents');
      k.jitterBufferDelay += n('jitterBufferDelay');
      k.jitterBufferEmittedCount += n('jitterBufferEmittedCount');
      k.framesDecoded += n('framesDecoded');
      k.framesDropped += n('framesDropped');
      k.freezeCount += n('freezeCount');
      k.totalFreezesDuration += n('totalFreezesDuration');
    }
  });
  return { state: pc.connectionState, kinds };
}

/** Ends the call; the caller also tells the callee (`bye`), as an app's signalling does. */
export async function hangUp(bye: string | null): Promise<void> {
  (globalThis as unknown as PeerGlobals).qlPc?.close();
  if (bye === null) return;
  await fetch(bye, { method: 'POST', cache: 'no-store', signal: AbortSignal.timeout(1000) }).catch(
    () => {},
  );
}

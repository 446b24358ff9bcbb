//! The real-time driver's step when a scenario is loaded: the forwarder's checks, then
//! the shaping pipeline (shape/), with the time of the step passed in.
//!
//! Per frame read: not-lab and malformed frames are dropped as by `Forwarder`; the
//! pipeline then sees the packet (flow table, classifier). A flow that nothing applies to
//! (no active action, transparent link) bypasses the stages and its frame is written as
//! read — a GSO super-packet stays whole. Otherwise a super-packet is cut into segments
//! (io/gso.rs), a partial checksum is completed, and each packet enters the stages at
//! `now`; whatever the pipeline releases, now or at a later `advance`, is written to the
//! TUN of its direction with an all-zero virtio-net header (offload on), except that
//! consecutive packets of one flow released together leave as one super-packet
//! (coalesce.rs) when the forwarder coalesces: the shaping stages saw every packet on its
//! own, at its own time, and only the write to the device is shared (a saturated delay
//! line releases dozens of segments per wakeup). Not behind a bottleneck (rate or trace):
//! it releases packets one at a time anyway (one per 12 us at 1 Gbit/s, so little joins:
//! measured 6.2-7.0 against 7.0-7.3 us of CPU per packet), and the kernel counts a
//! super-packet's bytes without the headers of the segments it merged, so the TUN's
//! counters, which the bench reads the achieved rate from, would show up to 3.5% less.
//!
//! Counting (see counters.rs): per direction, `packets`/`bytes`/`not-lab`/`malformed`
//! count frames read, as without a scenario; `forwarded` and `write-error` count IP
//! packets written in that direction of travel — a super-packet written whole counts as
//! its segments, and forged RSTs count where they go — so over both directions
//! `forwarded + write-error` equals the pipeline's `emitted`, and every packet that
//! entered the pipeline is emitted, dropped by a reason, or still in flight.

use crate::drive::coalesce::{Coalescer, Fit};
use crate::drive::counters::{Counters, DirectionCounters, DropReason, Tally};
use crate::drive::forward::{write_pending, Forwarder, StepResult};
use crate::io::device::Device;
use crate::io::gso::{self, Offload};
use crate::shape::packet::HEADROOM;
use crate::shape::pipeline::Prepared;
use crate::shape::{Dir, Pipeline, Pkt, Reason};
use crate::wire::{packet, vnet};
use std::io;

pub struct Shaper {
    fwd: Forwarder,
    pipeline: Pipeline,
    offload: bool,
    /// Reused across steps: released packets, and the segments of one super-packet.
    out: Vec<Pkt>,
    segs: Vec<Vec<u8>>,
    /// Per direction of travel: released packets joining one write (as the forwarder's).
    coalescers: Option<[Coalescer; 2]>,
}

/// Per direction of travel: what one step adds to the shared counters.
type Tallies = [Tally; 2];

fn counters_of(counters: &Counters, dir: Dir) -> &DirectionCounters {
    match dir {
        Dir::Up => &counters.up,
        Dir::Down => &counters.down,
    }
}

/// How many segments a GSO super-packet stands for (exactly as gso::segment cuts it).
fn segments_of(o: &Offload, ip: &[u8]) -> u64 {
    if !o.is_gso() || o.gso_size == 0 {
        return 1;
    }
    match packet::parse(ip) {
        Ok(p) => p.payload_len().div_ceil(usize::from(o.gso_size)).max(1) as u64,
        Err(_) => 1,
    }
}

impl Shaper {
    /// `pipeline` starts with no active policy (JS sets them, timeline step by step).
    pub fn new(fwd: Forwarder, mut pipeline: Pipeline, offload: bool) -> Shaper {
        // The empty set always resolves.
        let _ = pipeline.set_active(&[]);
        let coalescers = fwd
            .protocols()
            .map(|p| [Coalescer::new(p), Coalescer::new(p)]);
        Shaper {
            coalescers,
            fwd,
            pipeline,
            offload,
            out: Vec::new(),
            segs: Vec::new(),
        }
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }

    /// When the pipeline next has something to release (ns on its clock).
    pub fn next_wakeup(&self) -> Option<u64> {
        self.pipeline.next_wakeup()
    }

    /// Read up to one batch from the device of `dir` (client for `Up`), shape it at time
    /// `now`, and write out everything due by `now`. A receive error ends the step after
    /// what was read so far has been counted and flushed.
    pub fn step(
        &mut self,
        dir: Dir,
        client: &mut dyn Device,
        server: &mut dyn Device,
        now: u64,
        counters: &Counters,
    ) -> io::Result<StepResult> {
        let mut tallies = Tallies::default();
        let (from, to): (&mut dyn Device, &mut dyn Device) = match dir {
            Dir::Up => (&mut *client, &mut *server),
            Dir::Down => (&mut *server, &mut *client),
        };
        let result = self.read_batch(dir, from, to, now, &mut tallies);
        self.pipeline.advance(now, &mut self.out);
        self.flush(client, server, &mut tallies);
        self.pipeline.flush_tap();
        for d in [Dir::Up, Dir::Down] {
            counters_of(counters, d).add(&tallies[d.index()]);
        }
        result
    }

    /// Release and write out everything due by `now` (a timer expiry).
    pub fn advance(
        &mut self,
        client: &mut dyn Device,
        server: &mut dyn Device,
        now: u64,
        counters: &Counters,
    ) {
        let mut tallies = Tallies::default();
        self.pipeline.advance(now, &mut self.out);
        self.flush(client, server, &mut tallies);
        self.pipeline.flush_tap();
        for d in [Dir::Up, Dir::Down] {
            counters_of(counters, d).add(&tallies[d.index()]);
        }
    }

    fn read_batch(
        &mut self,
        dir: Dir,
        from: &mut dyn Device,
        to: &mut dyn Device,
        now: u64,
        tallies: &mut Tallies,
    ) -> io::Result<StepResult> {
        let header = if self.offload { vnet::HEADER_LEN } else { 0 };
        let mut result = StepResult {
            read: 0,
            drained: false,
        };
        while result.read < self.fwd.batch() {
            let n = match from.recv(self.fwd.buf_mut()) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    result.drained = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            result.read += 1;
            let t = &mut tallies[dir.index()];
            t.packets += 1;
            t.bytes += n.saturating_sub(header) as u64;
            let frame = &self.fwd.buf()[..n];
            if let Err(reason) = self.fwd.classify(frame) {
                t.drop(reason);
                continue;
            }
            let ip = &frame[header..];
            let off = if self.offload {
                Offload::of(&vnet::VnetHeader::new_unchecked(frame))
            } else {
                Offload::default()
            };
            let segments = segments_of(&off, ip);
            // None: dropped (and counted) by the pipeline at the flow level.
            let Some(prep) = self.pipeline.prepare(ip, dir, now, segments) else {
                continue;
            };
            if !self.pipeline.needs_processing(&prep, dir) {
                self.pipeline.bypassed(&prep, ip, dir, now, segments);
                let t = &mut tallies[dir.index()];
                match to.send(frame) {
                    Ok(()) => t.forwarded += segments,
                    Err(_) => t.write_error += segments,
                }
                continue;
            }
            self.segs.clear();
            if gso::segment(off, ip, self.pipeline.pool(), &mut self.segs).is_err() {
                self.pipeline
                    .drop_prepared(&prep, ip, dir, now, Reason::Malformed, segments);
                continue;
            }
            let whole = self.segs.len() == 1;
            for buf in self.segs.drain(..) {
                // Actions read the headers (lengths, sequence numbers) of the packet they
                // see, so each segment carries its own parse, not the super-packet's.
                let seg = if whole {
                    None
                } else {
                    packet::parse(&buf[HEADROOM..]).ok().map(|parsed| Prepared {
                        parsed,
                        slot: prep.slot,
                        flow_id: prep.flow_id,
                    })
                };
                let p = seg.as_ref().unwrap_or(&prep);
                self.pipeline.enter(buf, p, dir, now, 0, &mut self.out);
            }
        }
        Ok(result)
    }

    /// Write every released packet to the TUN its direction leads to, then recycle it.
    fn flush(&mut self, client: &mut dyn Device, server: &mut dyn Device, tallies: &mut Tallies) {
        for mut pkt in self.out.drain(..) {
            let to: &mut dyn Device = match pkt.dir {
                Dir::Up => &mut *server,
                Dir::Down => &mut *client,
            };
            let t = &mut tallies[pkt.dir.index()];
            if self.offload {
                // Segments are whole, checksums complete: nothing left for the kernel.
                pkt.buf[..HEADROOM].fill(0);
            }
            let coalescers = self
                .coalescers
                .as_mut()
                .filter(|_| !self.pipeline.link_serialises(pkt.dir));
            if let Some(co) = coalescers {
                let co = &mut co[pkt.dir.index()];
                let fit = co.fit(&pkt.buf);
                if fit != Fit::Joins {
                    write_pending(co, to, t);
                }
                match fit {
                    Fit::Joins => co.join(&pkt.buf),
                    Fit::Starts => co.start(&pkt.buf),
                    Fit::Alone => send(to, &pkt.buf, t),
                }
            } else {
                send(to, if self.offload { &pkt.buf } else { pkt.ip() }, t);
            }
            self.pipeline.recycle(pkt);
        }
        if let Some([up, down]) = &mut self.coalescers {
            write_pending(up, server, &mut tallies[Dir::Up.index()]);
            write_pending(down, client, &mut tallies[Dir::Down.index()]);
        }
    }
}

/// Write one packet as it is, counting it.
fn send(to: &mut dyn Device, bytes: &[u8], t: &mut Tally) {
    match to.send(bytes) {
        Ok(()) => t.forwarded += 1,
        Err(_) => t.drop(DropReason::WriteError),
    }
}

const _: () = assert!(HEADROOM == vnet::HEADER_LEN);

#[cfg(test)]
pub(crate) mod test {
    use super::*;
    use crate::config::prefix::{Prefix, PrefixSet};
    use crate::io::device::MemDevice;
    use crate::shape::compiled::Scenario;
    use crate::shape::pipeline::Options;
    use crate::wire::packet::{build_tcp, build_udp, l4_checksum_ok, parse};
    use crate::wire::tcp::{ACK, PSH};
    use crate::wire::vnet::test::tso4_header;
    use std::net::IpAddr;

    const MS: u64 = 1_000_000;

    pub(crate) const LINK: &str = r#"{"rate_bps":null,"trace_file":null,"delay_ns":0,"jitter_ns":0,"loss":0,"queue_bytes":null,"queue_packets":null,"aqm":"droptail"}"#;

    /// A compiled scenario with these policies (JSON array text) and links.
    pub(crate) fn scenario_json(policies: &str, up: &str, down: &str) -> String {
        format!(
            r#"{{"format":1,"name":"t","seed":7,"duration_ns":60000000000,
            "network":{{"mtu":1500,"ipv6":true,"tcp_congestion":null,"uplink":{up},"downlink":{down}}},
            "hosts":[{{"name":"server","names":["server.lab"],"address":"198.19.0.1","address6":"fd71:6c61:6200:2::1"}}],
            "classes":[],"policies":{policies},
            "timeline":[],"workloads":[],"expect":[],"dns":{{}}}}"#
        )
    }

    fn police_policy(proto: &str) -> String {
        format!(
            r#"[{{"name":"police","classes":[],"except_classes":[],"proto":{proto},"direction":"both","idle_timeout_ns":null,
            "actions":[{{"type":"police","direction":"both","rate_bps":1000000000,"burst_bytes":10000000}}]}}]"#
        )
    }

    fn shaper(json: &str, offload: bool) -> Shaper {
        let s = Scenario::parse_json(json).unwrap();
        let prefixes = PrefixSet::new(vec![
            Prefix::parse("198.18.0.0/15").unwrap(),
            Prefix::parse("fd71:6c61:6200::/48").unwrap(),
        ]);
        let p = Pipeline::new(&s, Options::default(), &Default::default()).unwrap();
        Shaper::new(Forwarder::new(prefixes, 1500, offload), p, offload)
    }

    /// As `shaper`, with the forwarder coalescing what it writes (USO taken).
    fn coalescing_shaper(json: &str) -> Shaper {
        let prefixes = PrefixSet::new(vec![Prefix::parse("198.18.0.0/15").unwrap()]);
        let fwd = Forwarder::new(prefixes, 1500, true).with_coalescing(true);
        let s = Scenario::parse_json(json).unwrap();
        Shaper::new(
            fwd,
            Pipeline::new(&s, Options::default(), &Default::default()).unwrap(),
            true,
        )
    }

    #[test]
    fn a_delay_line_releases_a_super_packets_segments_as_one_write() {
        let delay = LINK.replace(r#""delay_ns":0"#, r#""delay_ns":20000000"#);
        let mut sh = coalescing_shaper(&scenario_json("[]", &delay, &delay));
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let frame = tso_frame();
        client.push(&frame);
        sh.step(Dir::Up, &mut client, &mut server, MS, &counters)
            .unwrap();
        assert!(server.tx.is_empty());
        sh.advance(&mut client, &mut server, 21 * MS, &counters);
        // The pipeline saw 28 segments; the device gets them back as one TSO write
        // carrying the same bytes.
        assert_eq!(sh.pipeline().stats.totals.entered, 28);
        assert_eq!(server.tx.len(), 1);
        let out = &server.tx[0];
        assert_eq!(out[1], vnet::GSO_TCPV4);
        assert_eq!(out[4..6], frame[4..6], "the sender's segment size");
        let ip = parse(&frame[vnet::HEADER_LEN..]).unwrap();
        let got = parse(&out[vnet::HEADER_LEN..]).unwrap();
        assert_eq!(
            out[vnet::HEADER_LEN + got.payload..],
            frame[vnet::HEADER_LEN + ip.payload..]
        );
        assert_eq!(counters.snapshot().up.forwarded, 28);
        assert_coherent(&sh, &counters);
    }

    #[test]
    fn behind_a_rate_released_segments_are_written_one_by_one() {
        let rated = LINK.replace(r#""rate_bps":null"#, r#""rate_bps":1000000000"#);
        let rated = rated.replace(r#""queue_bytes":null"#, r#""queue_bytes":1000000"#);
        let mut sh = coalescing_shaper(&scenario_json("[]", &rated, &rated));
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        client.push(&tso_frame());
        sh.step(Dir::Up, &mut client, &mut server, MS, &counters)
            .unwrap();
        sh.advance(&mut client, &mut server, 10 * MS, &counters);
        assert_eq!(server.tx.len(), 28);
        assert!(server.tx.iter().all(|f| f[1] == vnet::GSO_NONE));
        assert_coherent(&sh, &counters);
    }

    #[test]
    fn corrupted_datagrams_stay_corrupted_when_written_together() {
        let policy = r#"[{"name":"c","classes":[],"except_classes":[],"proto":null,"direction":"both","idle_timeout_ns":null,
            "actions":[{"type":"corrupt","direction":"both","rate":1.0}]}]"#;
        let mut sh = coalescing_shaper(&scenario_json(policy, LINK, LINK));
        sh.pipeline_mut().set_active(&["c".to_owned()]).unwrap();
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        client.push(&uso_frame());
        sh.step(Dir::Up, &mut client, &mut server, MS, &counters)
            .unwrap();
        assert_eq!(server.tx.len(), 1);
        assert_eq!(server.tx[0][1], vnet::GSO_UDP_L4);
        // Cut as the kernel cuts it: every datagram has one flipped bit and a checksum
        // that is valid over the damaged bytes (corrupt's contract).
        let off = Offload::of(&vnet::VnetHeader::new_checked(&server.tx[0][..]).unwrap());
        let mut segs = Vec::new();
        gso::segment(
            off,
            &server.tx[0][HEADROOM..],
            sh.pipeline.pool(),
            &mut segs,
        )
        .unwrap();
        assert_eq!(segs.len(), 9);
        for (i, seg) in segs.iter().enumerate() {
            let seg = &seg[HEADROOM..];
            let p = parse(seg).unwrap();
            assert!(l4_checksum_ok(seg, &p));
            let flipped: u32 = seg[p.payload..p.end]
                .iter()
                .enumerate()
                .map(|(k, b)| (b ^ ((i * 1200 + k) % 249) as u8).count_ones())
                .sum();
            assert_eq!(flipped, 1, "datagram {i}");
        }
        assert_coherent(&sh, &counters);
    }

    fn c4() -> (IpAddr, u16) {
        ([198, 18, 0, 2].into(), 40000)
    }
    fn s4() -> (IpAddr, u16) {
        ([198, 19, 0, 1].into(), 5201)
    }

    fn udp(payload: usize) -> Vec<u8> {
        let mut b = Vec::new();
        build_udp(&mut b, c4(), s4(), &vec![7u8; payload]);
        b
    }

    /// A TSO frame as the kernel hands it over: virtio-net header, then one 40 000-byte
    /// TCP super-packet with a partial (pseudo-header) checksum.
    fn tso_frame() -> Vec<u8> {
        let data: Vec<u8> = (0..40_000).map(|i| (i % 251) as u8).collect();
        let mut ip = Vec::new();
        build_tcp(&mut ip, c4(), s4(), 1000, 1, ACK | PSH, 512, &data);
        let p = parse(&ip).unwrap();
        let pseudo = crate::wire::checksum::fold(crate::wire::checksum::pseudo(
            p.src,
            p.dst,
            6,
            (p.end - p.l4) as u32,
        ));
        ip[p.l4 + 16..p.l4 + 18].copy_from_slice(&pseudo.to_be_bytes());
        let mut frame = tso4_header().to_vec();
        frame.extend_from_slice(&ip);
        frame
    }

    fn with_zero_header(ip: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; vnet::HEADER_LEN];
        f.extend_from_slice(ip);
        f
    }

    /// An offloading shaper for `policies` (JSON), the policy `active` switched on if any.
    fn offload_shaper(policies: &str, active: Option<&str>) -> Shaper {
        let mut sh = shaper(&scenario_json(policies, LINK, LINK), true);
        if let Some(name) = active {
            sh.pipeline_mut().set_active(&[name.to_owned()]).unwrap();
        }
        sh
    }

    /// `frames` from the client TUN through one uplink step at 1 ms: the server TUN and
    /// the counters.
    fn step_up(sh: &mut Shaper, frames: &[&[u8]]) -> (MemDevice, Counters) {
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        for f in frames {
            client.push(f);
        }
        sh.step(Dir::Up, &mut client, &mut server, MS, &counters)
            .unwrap();
        (server, counters)
    }

    /// Conservation across both layers (see the module doc).
    fn assert_coherent(sh: &Shaper, counters: &Counters) {
        let t = sh.pipeline().stats.totals;
        assert_eq!(
            t.entered + t.duplicated + t.injected,
            t.emitted + t.dropped + t.in_flight
        );
        let s = counters.snapshot();
        assert_eq!(
            s.up.forwarded + s.up.write_error + s.down.forwarded + s.down.write_error,
            t.emitted
        );
    }

    #[test]
    fn link_delay_releases_at_exactly_plus_20_ms() {
        let delay = LINK.replace(r#""delay_ns":0"#, r#""delay_ns":20000000"#);
        let mut sh = shaper(&scenario_json("[]", &delay, &delay), false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let t0 = 5 * MS;
        client.push(&udp(100));
        sh.step(Dir::Up, &mut client, &mut server, t0, &counters)
            .unwrap();
        assert!(server.tx.is_empty());
        assert_eq!(sh.next_wakeup(), Some(t0 + 20 * MS));
        sh.advance(&mut client, &mut server, t0 + 20 * MS - 1, &counters);
        assert!(server.tx.is_empty());
        sh.advance(&mut client, &mut server, t0 + 20 * MS, &counters);
        assert_eq!(server.tx, vec![udp(100)]);
        assert_eq!(sh.next_wakeup(), None);
        let s = counters.snapshot();
        assert_eq!((s.up.packets, s.up.forwarded), (1, 1));
        assert_coherent(&sh, &counters);
    }

    #[test]
    fn a_policed_flow_has_its_super_packet_segmented() {
        let mut sh = offload_shaper(&police_policy("null"), Some("police"));
        let (server, counters) = step_up(&mut sh, &[&tso_frame()]);
        assert_eq!(server.tx.len(), 40_000usize.div_ceil(1448));
        let mut seq = 1000u32;
        for frame in &server.tx {
            assert_eq!(&frame[..vnet::HEADER_LEN], &[0u8; vnet::HEADER_LEN]);
            let seg = &frame[vnet::HEADER_LEN..];
            let p = parse(seg).unwrap();
            assert!(seg.len() <= 1500);
            assert!(l4_checksum_ok(seg, &p));
            assert_eq!(p.tcp.unwrap().seq, seq);
            seq = seq.wrapping_add(p.payload_len() as u32);
        }
        let s = counters.snapshot();
        assert_eq!((s.up.packets, s.up.forwarded), (1, 28));
        let t = sh.pipeline().stats.totals;
        assert_eq!((t.entered, t.emitted, t.bypassed), (28, 28, 0));
        assert_coherent(&sh, &counters);
    }

    #[test]
    fn actions_see_each_segment_with_its_own_headers() {
        // drop-after counts IP payload (TCP header + data) per packet: 20 + 1448 per
        // segment, so 3 segments fit in 5000 bytes and the 4th cuts the flow.
        let policy = r#"[{"name":"cut","classes":[],"except_classes":[],"proto":null,"direction":"both","idle_timeout_ns":null,
            "actions":[{"type":"drop-after","direction":"both","bytes":5000,"packets":null,"time_ns":null}]}]"#;
        let mut sh = offload_shaper(policy, Some("cut"));
        let (server, counters) = step_up(&mut sh, &[&tso_frame()]);
        assert_eq!(server.tx.len(), 3);
        assert_eq!(sh.pipeline().stats.drops[Reason::DropAfter.index()], 25);
        assert_coherent(&sh, &counters);
    }

    #[test]
    fn a_bypassed_flow_keeps_its_super_packet_whole() {
        // The policy is for UDP, and before any setActive nothing is active anyway.
        for (proto, active) in [("\"udp\"", true), ("null", false)] {
            let mut sh = offload_shaper(&police_policy(proto), active.then_some("police"));
            let frame = tso_frame();
            let (server, counters) = step_up(&mut sh, &[&frame, &with_zero_header(&udp(10))]);
            assert_eq!(server.tx[0], frame);
            assert_eq!(server.tx.len(), 2);
            let t = sh.pipeline().stats.totals;
            let udp_bypassed = u64::from(!active);
            assert_eq!(t.bypassed, 28 + udp_bypassed);
            assert_eq!(counters.snapshot().up.forwarded, 29);
            assert_coherent(&sh, &counters);
        }
    }

    /// A USO frame as the kernel hands it over: a virtio-net header (GSO_UDP_L4, 1200
    /// bytes per datagram), then one UDP super-packet of 10 000 bytes with a partial
    /// checksum.
    fn uso_frame() -> Vec<u8> {
        let data: Vec<u8> = (0..10_000).map(|i| (i % 249) as u8).collect();
        let mut ip = Vec::new();
        build_udp(&mut ip, c4(), s4(), &data);
        let p = parse(&ip).unwrap();
        let pseudo = crate::wire::checksum::fold(crate::wire::checksum::pseudo(
            p.src,
            p.dst,
            17,
            (p.end - p.l4) as u32,
        ));
        ip[p.l4 + 6..p.l4 + 8].copy_from_slice(&pseudo.to_be_bytes());
        let mut frame = vec![0u8; vnet::HEADER_LEN];
        frame[0] = vnet::FLAG_NEEDS_CSUM;
        frame[1] = vnet::GSO_UDP_L4;
        frame[2..4].copy_from_slice(&((p.l4 + 8) as u16).to_le_bytes());
        frame[4..6].copy_from_slice(&1200u16.to_le_bytes());
        frame[6..8].copy_from_slice(&(p.l4 as u16).to_le_bytes());
        frame[8..10].copy_from_slice(&6u16.to_le_bytes());
        frame.extend_from_slice(&ip);
        frame
    }

    #[test]
    fn a_udp_super_packet_is_cut_only_for_a_flow_an_action_applies_to() {
        for active in [true, false] {
            let mut sh = offload_shaper(&police_policy("\"udp\""), active.then_some("police"));
            let frame = uso_frame();
            let (server, counters) = step_up(&mut sh, &[&frame]);
            // 8 datagrams of 1200 bytes and one of 400, counted as such either way.
            assert_eq!(counters.snapshot().up.forwarded, 9);
            if !active {
                assert_eq!(server.tx, vec![frame]);
                assert_eq!(sh.pipeline().stats.totals.bypassed, 9);
                continue;
            }
            assert_eq!(server.tx.len(), 9);
            let mut joined = Vec::new();
            for out in &server.tx {
                assert_eq!(&out[..vnet::HEADER_LEN], &[0u8; vnet::HEADER_LEN]);
                let seg = &out[vnet::HEADER_LEN..];
                let p = parse(seg).unwrap();
                assert!(l4_checksum_ok(seg, &p));
                joined.extend_from_slice(&seg[p.payload..p.end]);
            }
            let whole = parse(&frame[vnet::HEADER_LEN..]).unwrap();
            assert_eq!(joined, &frame[vnet::HEADER_LEN + whole.payload..]);
            let t = sh.pipeline().stats.totals;
            assert_eq!((t.entered, t.emitted, t.bypassed), (9, 9, 0));
            assert_coherent(&sh, &counters);
        }
    }

    #[test]
    fn drops_are_counted_once_by_their_layer() {
        let mut sh = shaper(&scenario_json("[]", LINK, LINK), false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut outside = udp(10);
        outside[16..20].copy_from_slice(&[8, 8, 8, 8]);
        client.push(&outside);
        client.push(&[0x45, 0, 0]);
        client.push(&udp(10));
        server.fail_sends = Some(5);
        sh.step(Dir::Up, &mut client, &mut server, MS, &counters)
            .unwrap();
        let s = counters.snapshot().up;
        assert_eq!(
            (
                s.packets,
                s.not_lab,
                s.malformed,
                s.write_error,
                s.forwarded
            ),
            (3, 1, 1, 1, 0)
        );
        assert_coherent(&sh, &counters);
    }

    #[test]
    fn released_packets_go_to_the_tun_of_their_direction() {
        let delay = LINK.replace(r#""delay_ns":0"#, r#""delay_ns":1000000"#);
        let mut sh = shaper(&scenario_json("[]", LINK, &delay), false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut reply = Vec::new();
        build_udp(&mut reply, s4(), c4(), &[1, 2, 3]);
        server.push(&reply);
        client.push(&udp(3));
        sh.step(Dir::Down, &mut client, &mut server, 0, &counters)
            .unwrap();
        sh.step(Dir::Up, &mut client, &mut server, 10, &counters)
            .unwrap();
        // Uplink is transparent: the up packet passed at once; down waits 1 ms.
        assert_eq!(server.tx, vec![udp(3)]);
        assert!(client.tx.is_empty());
        sh.advance(&mut client, &mut server, MS, &counters);
        assert_eq!(client.tx, vec![reply]);
        assert_coherent(&sh, &counters);
    }
}

//! One forwarding step: drain a batch from one device, keep what is addressed inside the
//! lab, write it to the other device, count everything.

use crate::config::prefix::PrefixSet;
use crate::drive::coalesce::{Coalescer, Fit, Protocols};
use crate::drive::counters::{DirectionCounters, DropReason, Tally};
use crate::io::device::Device;
use crate::wire::{ip::IpRepr, vnet};
use std::io;

/// Packets per direction before the loop looks at the other direction and the stop fd.
/// Large enough to amortise the epoll_wait, small enough that one busy direction cannot
/// starve the other for long (64 GSO super-packets is ~4 MB).
pub const DEFAULT_BATCH: usize = 64;

/// Slack above the MTU when offload is off, so an over-long packet shows up as a
/// length mismatch (malformed) rather than being silently cut to fit.
const HEADROOM: usize = 64;

/// The largest IP packet a TUN can hand us: 64 KiB super-packets with offload.
const MAX_IP_PACKET: usize = 65535;

/// Buffer size for one read: a whole super-packet plus its virtio-net header with
/// offload, otherwise one MTU-sized packet plus headroom.
pub fn buffer_len(mtu: u32, offload: bool) -> usize {
    if offload {
        MAX_IP_PACKET + vnet::HEADER_LEN
    } else {
        (mtu as usize).min(MAX_IP_PACKET) + HEADROOM
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepResult {
    /// Packets read in this step.
    pub read: usize,
    /// True when the source reported nothing pending before the batch was full.
    pub drained: bool,
}

pub struct Forwarder {
    prefixes: PrefixSet,
    offload: bool,
    batch: usize,
    /// Allocated once; every packet is read into it and written out of it.
    buf: Box<[u8]>,
    /// Consecutive TCP segments, and UDP datagrams when the TUNs took UDP segmentation
    /// offload, of a flow leave as one super-packet (coalesce.rs); only with offload.
    coalescer: Option<Coalescer>,
}

impl Forwarder {
    pub fn new(prefixes: PrefixSet, mtu: u32, offload: bool) -> Forwarder {
        Forwarder {
            prefixes,
            offload,
            batch: DEFAULT_BATCH,
            buf: vec![0u8; buffer_len(mtu, offload)].into_boxed_slice(),
            coalescer: None,
        }
    }

    /// Write runs of TCP segments as TSO super-packets (with offload), and runs of UDP
    /// datagrams as GSO_UDP_L4 ones when `udp`: the TUNs written to must have taken UDP
    /// segmentation offload.
    pub fn with_coalescing(mut self, udp: bool) -> Forwarder {
        self.coalescer = self.coalescing(udp).map(Coalescer::new);
        self
    }

    /// What may coalesce given the offload and whether the TUNs took USO.
    fn coalescing(&self, udp: bool) -> Option<Protocols> {
        self.offload.then_some(Protocols { udp, tcp: true })
    }

    /// The protocols this forwarder coalesces, for the shaping step's own coalescers.
    pub(crate) fn protocols(&self) -> Option<Protocols> {
        self.coalescer.as_ref().map(Coalescer::protocols)
    }

    pub fn with_batch(mut self, batch: usize) -> Forwarder {
        self.batch = batch.max(1);
        self
    }

    pub fn buffer_len(&self) -> usize {
        self.buf.len()
    }

    /// Packets per step (the shaping step reads in the same batches).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The read buffer, for the shaping step (shaper.rs), which reads frames like `step`.
    pub(crate) fn buf(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn buf_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Decide whether a frame as read from a TUN (virtio-net header first when offload is
    /// on) may be forwarded. Pure, so it is tested without any device.
    pub fn classify(&self, frame: &[u8]) -> Result<(), DropReason> {
        let packet = if self.offload {
            vnet::VnetHeader::new_checked(frame).map_err(|_| DropReason::Malformed)?;
            &frame[vnet::HEADER_LEN..]
        } else {
            frame
        };
        let repr = IpRepr::parse(packet).map_err(|_| DropReason::Malformed)?;
        if self.prefixes.contains(repr.dst_addr) {
            Ok(())
        } else {
            Err(DropReason::NotLab)
        }
    }

    /// Move up to one batch from `from` to `to`. A receive error ends the step after the
    /// packets so far have been counted; write errors are counted and do not.
    pub fn step<F, T>(
        &mut self,
        from: &mut F,
        to: &mut T,
        counters: &DirectionCounters,
    ) -> io::Result<StepResult>
    where
        F: Device + ?Sized,
        T: Device + ?Sized,
    {
        let header = if self.offload { vnet::HEADER_LEN } else { 0 };
        let mut tally = Tally::default();
        let mut result = StepResult {
            read: 0,
            drained: false,
        };
        let mut error = None;
        while result.read < self.batch {
            let n = match from.recv(&mut self.buf) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    result.drained = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            result.read += 1;
            tally.packets += 1;
            tally.bytes += n.saturating_sub(header) as u64;
            let frame = &self.buf[..n];
            match self.classify(frame) {
                Err(reason) => tally.drop(reason),
                Ok(()) => {
                    if let Some(co) = &mut self.coalescer {
                        match co.fit(frame) {
                            Fit::Joins => {
                                co.join(frame);
                                continue;
                            }
                            Fit::Starts => {
                                write_pending(co, to, &mut tally);
                                co.start(frame);
                                continue;
                            }
                            Fit::Alone => write_pending(co, to, &mut tally),
                        }
                    }
                    match to.send(frame) {
                        Ok(()) => tally.forwarded += 1,
                        Err(_) => tally.drop(DropReason::WriteError),
                    }
                }
            }
        }
        if let Some(co) = &mut self.coalescer {
            write_pending(co, to, &mut tally);
        }
        counters.add(&tally);
        match error {
            Some(e) => Err(e),
            None => Ok(result),
        }
    }
}

/// Write what the coalescer holds, counting each packet it carries.
pub(crate) fn write_pending<T: Device + ?Sized>(co: &mut Coalescer, to: &mut T, tally: &mut Tally) {
    if let Some((frame, datagrams)) = co.finish() {
        match to.send(frame) {
            Ok(()) => tally.forwarded += datagrams,
            Err(_) => tally.write_error += datagrams,
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::config::prefix::Prefix;
    use crate::drive::counters::Counters;
    use crate::io::device::MemDevice;
    use crate::wire::ip::test::{V4_ECHO, V6_UDP};
    use crate::wire::vnet::test::tso4_header;

    fn lab() -> PrefixSet {
        PrefixSet::new(vec![
            Prefix::parse("198.18.0.0/15").unwrap(),
            Prefix::parse("fd71:6c61:6200::/48").unwrap(),
        ])
    }

    /// V4_ECHO with source and destination swapped: the reply direction.
    fn v4_reply() -> Vec<u8> {
        let mut p = V4_ECHO.to_vec();
        p[12..16].copy_from_slice(&[198, 19, 0, 1]);
        p[16..20].copy_from_slice(&[198, 18, 0, 1]);
        p
    }

    #[test]
    fn with_udp_coalescing_a_run_of_datagrams_is_one_write_counted_per_datagram() {
        let mut fwd = Forwarder::new(lab(), 1500, true).with_coalescing(true);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut frame = vec![0u8; vnet::HEADER_LEN];
        crate::wire::packet::build_udp(
            &mut frame,
            ([198, 18, 0, 2].into(), 40000),
            ([198, 19, 0, 1].into(), 5201),
            &[9; 1200],
        );
        for _ in 0..3 {
            client.push(&frame);
        }
        fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(server.tx.len(), 1);
        assert_eq!(server.tx[0][1], vnet::GSO_UDP_L4);
        assert_eq!(server.tx[0].len(), frame.len() + 2 * 1200);
        let s = counters.snapshot();
        assert_eq!((s.up.packets, s.up.forwarded), (3, 3));
    }

    #[test]
    fn moves_packets_both_ways_and_counts_them() {
        let mut fwd = Forwarder::new(lab(), 1500, false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        client.push(&V4_ECHO);
        client.push(&V6_UDP);
        server.push(&v4_reply());

        let up = fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(
            up,
            StepResult {
                read: 2,
                drained: true
            }
        );
        let down = fwd.step(&mut server, &mut client, &counters.down).unwrap();
        assert_eq!(down.read, 1);

        assert_eq!(server.tx, vec![V4_ECHO.to_vec(), V6_UDP.to_vec()]);
        assert_eq!(client.tx, vec![v4_reply()]);
        let s = counters.snapshot();
        assert_eq!(
            s.up,
            Tally {
                packets: 2,
                bytes: (V4_ECHO.len() + V6_UDP.len()) as u64,
                forwarded: 2,
                ..Tally::default()
            }
        );
        assert_eq!(s.down.forwarded, 1);
        assert_eq!(s.down.bytes, V4_ECHO.len() as u64);
    }

    #[test]
    fn outside_the_lab_is_dropped_as_not_lab() {
        let mut fwd = Forwarder::new(lab(), 1500, false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut p = V4_ECHO;
        p[16..20].copy_from_slice(&[8, 8, 8, 8]);
        client.push(&p);
        let mut p6 = V6_UDP;
        p6[24] = 0x20; // 2071:6c61:... is not in fd71:6c61:6200::/48
        client.push(&p6);
        fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert!(server.tx.is_empty());
        let s = counters.snapshot().up;
        assert_eq!((s.packets, s.forwarded, s.not_lab), (2, 0, 2));
    }

    #[test]
    fn malformed_packets_are_dropped_never_panic() {
        let mut fwd = Forwarder::new(lab(), 1500, false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut bad_version = V4_ECHO;
        bad_version[0] = 0x55;
        let mut noise = Vec::new();
        let mut x: u32 = 12345;
        for _ in 0..200 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            noise.push((x >> 16) as u8);
        }
        noise[0] = 0x4f; // looks like IPv4 with options, lengths are garbage
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            V4_ECHO[..10].to_vec(),
            V4_ECHO[..27].to_vec(),
            V6_UDP[..40].to_vec(),
            bad_version.to_vec(),
            noise,
            vec![0xff; 1500],
        ];
        for c in &cases {
            client.push(c);
        }
        let r = fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(r.read, cases.len());
        assert!(server.tx.is_empty());
        let s = counters.snapshot().up;
        assert_eq!(s.malformed, cases.len() as u64);
        assert_eq!(s.forwarded, 0);
    }

    #[test]
    fn oversized_packet_is_truncated_to_the_buffer_and_dropped() {
        let mut fwd = Forwarder::new(lab(), 1280, false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut big = vec![0u8; 3000];
        big[..20].copy_from_slice(&V4_ECHO[..20]);
        big[2..4].copy_from_slice(&3000u16.to_be_bytes());
        client.push(&big);
        fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(counters.snapshot().up.malformed, 1);
        assert_eq!(fwd.buffer_len(), 1280 + HEADROOM);
    }

    #[test]
    fn write_errors_are_counted_and_do_not_stop_the_batch() {
        let mut fwd = Forwarder::new(lab(), 1500, false);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        server.fail_sends = Some(5);
        client.push(&V4_ECHO);
        client.push(&V4_ECHO);
        let r = fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(r.read, 2);
        let s = counters.snapshot().up;
        assert_eq!((s.forwarded, s.write_error), (0, 2));
    }

    #[test]
    fn batch_limit_leaves_the_rest_for_the_next_step() {
        let mut fwd = Forwarder::new(lab(), 1500, false).with_batch(3);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        for _ in 0..5 {
            client.push(&V4_ECHO);
        }
        let r = fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(
            r,
            StepResult {
                read: 3,
                drained: false
            }
        );
        let r = fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(
            r,
            StepResult {
                read: 2,
                drained: true
            }
        );
        assert_eq!(server.tx.len(), 5);
    }

    #[test]
    fn offload_passes_the_virtio_header_through_unchanged() {
        let mut fwd = Forwarder::new(lab(), 1500, true);
        assert_eq!(fwd.buffer_len(), 65535 + vnet::HEADER_LEN);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        // A TSO super-packet: header, then a 40 000-byte IPv4 packet.
        let mut ip = vec![0u8; 40_000];
        ip[..20].copy_from_slice(&V4_ECHO[..20]);
        ip[2..4].copy_from_slice(&40_000u16.to_be_bytes());
        ip[9] = 6;
        let mut frame = tso4_header().to_vec();
        frame.extend_from_slice(&ip);
        client.push(&frame);
        // And a plain v6 packet with an all-zero (no offload) header.
        let mut frame6 = vec![0u8; vnet::HEADER_LEN];
        frame6.extend_from_slice(&V6_UDP);
        client.push(&frame6);

        fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert_eq!(server.tx, vec![frame.clone(), frame6]);
        let s = counters.snapshot().up;
        assert_eq!(s.forwarded, 2);
        // Bytes are IP bytes: the virtio-net header is not counted.
        assert_eq!(s.bytes, (ip.len() + V6_UDP.len()) as u64);
    }

    #[test]
    fn offload_rejects_bad_virtio_headers_and_bare_packets() {
        let mut fwd = Forwarder::new(lab(), 1500, true);
        let counters = Counters::default();
        let (mut client, mut server) = (MemDevice::new(), MemDevice::new());
        let mut bad = tso4_header().to_vec();
        bad[1] = 0x42; // unknown GSO type
        bad.extend_from_slice(&V4_ECHO);
        client.push(&bad);
        client.push(&V4_ECHO[..8]); // shorter than the virtio-net header
        client.push(&tso4_header()); // header with no packet
        fwd.step(&mut client, &mut server, &counters.up).unwrap();
        assert!(server.tx.is_empty());
        assert_eq!(counters.snapshot().up.malformed, 3);
    }

    #[test]
    fn receive_errors_end_the_step_after_counting() {
        struct Broken(usize);
        impl Device for Broken {
            fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
                if self.0 == 0 {
                    return Err(io::Error::from_raw_os_error(77));
                }
                self.0 -= 1;
                buf[..V4_ECHO.len()].copy_from_slice(&V4_ECHO);
                Ok(Some(V4_ECHO.len()))
            }
            fn send(&mut self, _: &[u8]) -> io::Result<()> {
                Ok(())
            }
            fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
                None
            }
        }
        let mut fwd = Forwarder::new(lab(), 1500, false);
        let counters = Counters::default();
        let mut server = MemDevice::new();
        let e = fwd
            .step(&mut Broken(2), &mut server, &counters.up)
            .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(77));
        assert_eq!(counters.snapshot().up.forwarded, 2);
    }
}

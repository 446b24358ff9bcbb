//! pcapng blocks, written (the IETF draft "PCAP Next Generation Dump File Format",
//! draft-ietf-opsawg-pcapng): a Section Header Block, Interface Description Blocks,
//! Enhanced Packet Blocks with a comment and flags, Interface Statistics Blocks. Little
//! endian, every block and option padded to 32 bits, each block carrying its length at
//! both ends.
//!
//! Written by hand rather than with a library: Debian ships no crate that writes pcapng
//! (only `pcap-sys`, bindings to libpcap, whose dump files are the older pcap format,
//! which has no per-packet comments for qoslab's drop reasons), and the blocks qoslab
//! writes are these four, a few dozen lines.

/// LINKTYPE_RAW: the packet starts with its IPv4 or IPv6 header, as a TUN device's do.
pub const LINKTYPE_RAW: u16 = 101;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const ISB: u32 = 5;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;
const ISB_STARTTIME: u16 = 2;
const ISB_ENDTIME: u16 = 3;
const ISB_IFRECV: u16 = 4;
const ISB_IFDROP: u16 = 5;

/// epb_flags direction bits (bits 0-1): inbound, outbound.
pub const INBOUND: u32 = 1;
pub const OUTBOUND: u32 = 2;

fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    // An option's length is 16 bits; longer values (never written here) are cut.
    let len = value.len().min(0xFFFC);
    u16le(out, code);
    u16le(out, len as u16);
    out.extend_from_slice(&value[..len]);
    out.resize(out.len() + pad4(len) - len, 0);
}

/// Start a block of `kind` in `out`; returns where it starts, for `end_block`.
fn begin_block(out: &mut Vec<u8>, kind: u32) -> usize {
    let start = out.len();
    u32le(out, kind);
    u32le(out, 0); // total length, filled in by end_block
    start
}

/// End the options (if any were written: `options`), then the block with its length at
/// both ends.
fn end_block(out: &mut Vec<u8>, start: usize, options: bool) {
    if options {
        u16le(out, OPT_END);
        u16le(out, 0);
    }
    let total = (out.len() - start + 4) as u32;
    u32le(out, total);
    out[start + 4..start + 8].copy_from_slice(&total.to_le_bytes());
}

/// A Section Header Block naming the writing application.
pub fn section_header(out: &mut Vec<u8>, application: &str) {
    let start = begin_block(out, SHB);
    u32le(out, BYTE_ORDER_MAGIC);
    u16le(out, 1); // major
    u16le(out, 0); // minor
    out.extend_from_slice(&u64::MAX.to_le_bytes()); // section length: not given
    option(out, SHB_USERAPPL, application.as_bytes());
    end_block(out, start, true);
}

/// An Interface Description Block: raw IP, this snap length, nanosecond timestamps.
pub fn interface(out: &mut Vec<u8>, name: &str, description: &str, snaplen: u32) {
    let start = begin_block(out, IDB);
    u16le(out, LINKTYPE_RAW);
    u16le(out, 0); // reserved
    u32le(out, snaplen);
    option(out, IF_NAME, name.as_bytes());
    option(out, IF_DESCRIPTION, description.as_bytes());
    option(out, IF_TSRESOL, &[9]); // 10^-9 s
    end_block(out, start, true);
}

/// An Enhanced Packet Block: the first `snaplen` bytes of `packet` on interface `iface`
/// at `ts_ns` (ns since the Unix epoch), with direction `flags` and an optional comment.
pub fn packet(
    out: &mut Vec<u8>,
    iface: u32,
    ts_ns: u64,
    packet: &[u8],
    snaplen: usize,
    flags: u32,
    comment: Option<&str>,
) {
    let start = begin_block(out, EPB);
    let captured = packet.len().min(snaplen);
    u32le(out, iface);
    u32le(out, (ts_ns >> 32) as u32);
    u32le(out, ts_ns as u32);
    u32le(out, captured as u32);
    u32le(out, packet.len() as u32);
    out.extend_from_slice(&packet[..captured]);
    out.resize(out.len() + pad4(captured) - captured, 0);
    if let Some(c) = comment {
        option(out, OPT_COMMENT, c.as_bytes());
    }
    option(out, EPB_FLAGS, &flags.to_le_bytes());
    end_block(out, start, true);
}

/// An Interface Statistics Block: packets seen and packets the capture itself lost on
/// `iface` between `from_ns` and `ts_ns`.
pub fn statistics(out: &mut Vec<u8>, iface: u32, from_ns: u64, ts_ns: u64, recv: u64, drop: u64) {
    let start = begin_block(out, ISB);
    u32le(out, iface);
    u32le(out, (ts_ns >> 32) as u32);
    u32le(out, ts_ns as u32);
    let ts = |t: u64| {
        let mut b = Vec::with_capacity(8);
        b.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(t as u32).to_le_bytes());
        b
    };
    option(out, ISB_STARTTIME, &ts(from_ns));
    option(out, ISB_ENDTIME, &ts(ts_ns));
    option(out, ISB_IFRECV, &recv.to_le_bytes());
    option(out, ISB_IFDROP, &drop.to_le_bytes());
    end_block(out, start, true);
}

/// The length of the block at the start of `b` (from its header), if whole.
pub fn block_len(b: &[u8]) -> Option<usize> {
    let len = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?) as usize;
    (len >= 12 && len <= b.len()).then_some(len)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn section_and_interface_blocks_byte_for_byte() {
        let mut b = Vec::new();
        section_header(&mut b, "q");
        assert_eq!(
            b,
            [
                0x0A, 0x0D, 0x0D, 0x0A, 40, 0, 0, 0, // type, length 40
                0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, // magic, version 1.0
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // section length -1
                4, 0, 1, 0, b'q', 0, 0, 0, // shb_userappl "q", padded
                0, 0, 0, 0, // opt_endofopt
                40, 0, 0, 0,
            ]
        );
        let mut i = Vec::new();
        interface(&mut i, "up-in", "", 2048);
        assert_eq!(
            &i[..16],
            &[1, 0, 0, 0, 48, 0, 0, 0, 101, 0, 0, 0, 0, 8, 0, 0]
        );
        assert_eq!(
            &i[16..28],
            &[2, 0, 5, 0, b'u', b'p', b'-', b'i', b'n', 0, 0, 0]
        );
        assert_eq!(&i[28..32], &[3, 0, 0, 0]); // an empty description
        assert_eq!(&i[32..40], &[9, 0, 1, 0, 9, 0, 0, 0]); // nanoseconds
        assert_eq!(block_len(&i), Some(48));
    }

    #[test]
    fn a_packet_block_cuts_at_the_snap_length_and_carries_its_comment_and_direction() {
        let mut b = Vec::new();
        let ts = 0x0000_0001_0000_0002u64;
        packet(
            &mut b,
            4,
            ts,
            &[0x45, 1, 2, 3, 4, 5],
            5,
            OUTBOUND,
            Some("drop"),
        );
        let u32at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        assert_eq!(u32at(0), 6);
        assert_eq!((u32at(8), u32at(12), u32at(16)), (4, 1, 2));
        assert_eq!((u32at(20), u32at(24)), (5, 6), "captured 5 of 6 bytes");
        assert_eq!(&b[28..36], &[0x45, 1, 2, 3, 4, 0, 0, 0]);
        assert_eq!(
            &b[36..48],
            &[1, 0, 4, 0, b'd', b'r', b'o', b'p', 2, 0, 4, 0]
        );
        assert_eq!(u32at(48), OUTBOUND);
        assert_eq!(u32at(52), 0, "end of options");
        assert_eq!(u32at(4) as usize, b.len());
        assert_eq!(u32at(b.len() - 4) as usize, b.len());
        assert_eq!(block_len(&b[..b.len() - 1]), None);
    }

    #[test]
    fn a_statistics_block_counts_what_the_capture_lost() {
        let mut b = Vec::new();
        statistics(&mut b, 2, 10, 20, 7, 3);
        let len = block_len(&b).unwrap();
        assert_eq!(len, b.len());
        assert_eq!(len % 4, 0);
        // ifdrop (5) is the last option before the end: 8 bytes of 3.
        assert_eq!(
            &b[len - 20..len - 4],
            &[5, 0, 8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}

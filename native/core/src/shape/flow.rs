//! The flow table: bidirectional 5-tuples keyed from the client's side, with the
//! classification state, the latest TCP sequence numbers (for forged RSTs) and an idle
//! timeout. Actions keep their own per-flow state (action/mod.rs `PerFlow`), so a flow
//! stays the same size whatever actions exist; per-class packet and byte counts live in
//! the pipeline's stats, not here. Every byte of `Flow` is paid 100k times over: the table
//! keeps within `FLOW_BYTES_BUDGET` (a test holds it there). Bounded: at capacity the
//! least recently seen of a small sample is evicted (approximate LRU, as Redis does), and
//! the eviction is counted.
//!
//! Default idle timeouts: TCP 10 min (the 2021 TSPU throttler forgot idle flows after
//! ≈10 min), UDP 60 s (the GFW's UDP flow timeout), anything else 30 s. A policy's
//! `idle_timeout_ns` replaces the default for the flows it applies to (the longest wins).

use super::hash::{self, FxMap};
use super::packet::Dir;
use crate::wire::packet::{Parsed, PROTO_TCP, PROTO_UDP};
use crate::wire::quic_initial::ClientHelloReader;
use std::net::IpAddr;

pub const TCP_IDLE_NS: u64 = 600_000_000_000;
pub const UDP_IDLE_NS: u64 = 60_000_000_000;
pub const OTHER_IDLE_NS: u64 = 30_000_000_000;
pub const DEFAULT_MAX_FLOWS: usize = 262_144;
/// Flows per storage chunk (see `Slots`).
const CHUNK: usize = 4096;
/// Slots examined when choosing a flow to evict.
const EVICT_SAMPLE: usize = 8;
/// Slots checked for expiry on every new flow, so dead flows are reclaimed steadily.
const SWEEP_PER_NEW: usize = 4;
/// What a flow may cost in the table (slot plus index), in bytes: the pipeline's
/// per-flow budget is 256 and actions such as `delay` add ~30 of their own on top.
pub const FLOW_BYTES_BUDGET: usize = 224;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub client: IpAddr,
    pub server: IpAddr,
    pub client_port: u16,
    pub server_port: u16,
    pub proto: u8,
}

impl FlowKey {
    /// The key of a packet travelling in `dir` (up: the source is the client).
    pub fn of(p: &Parsed, dir: Dir) -> FlowKey {
        match dir {
            Dir::Up => FlowKey {
                client: p.src,
                server: p.dst,
                client_port: p.src_port,
                server_port: p.dst_port,
                proto: p.proto,
            },
            Dir::Down => FlowKey {
                client: p.dst,
                server: p.src,
                client_port: p.dst_port,
                server_port: p.src_port,
                proto: p.proto,
            },
        }
    }
}

/// One direction's TCP numbers: the latest segment's seq, the seq after it, its ack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpSide {
    pub seq: u32,
    pub next: u32,
    pub ack: u32,
    pub seen: bool,
}

/// A ClientHello being put together: from TCP segments (`reassembly: segments`) or from
/// a flow's QUIC Initials (decrypted). One pointer per flow whichever it is.
#[derive(Debug, Clone)]
pub enum Pending {
    Segments(Reassembly),
    Initials(Box<ClientHelloReader>),
}

/// A ClientHello being put together from several segments (`reassembly: segments`).
#[derive(Debug, Clone, Default)]
pub struct Reassembly {
    pub dir: Option<Dir>,
    pub buf: Vec<u8>,
    pub want: usize,
    pub next_seq: u32,
    pub segments: u32,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub key: FlowKey,
    /// Unique for the table's lifetime; 0 marks a free slot.
    pub id: u64,
    pub created: u64,
    pub last_seen: u64,
    pub idle_timeout: u64,
    /// The first packet came from the client side.
    pub client_opened: bool,
    /// Still looking at payloads to classify.
    pub inspecting: bool,
    pub payload_packets: [u32; 2],
    /// Class bits (sticky) and the policies they select (recomputed on change).
    pub classes: u64,
    pub policies: u64,
    pub tcp: [TcpSide; 2],
    /// A ClientHello in the making; dropped when the inspection window closes.
    pub pending: Option<Box<Pending>>,
}

impl Flow {
    /// An unused slot (id 0).
    fn vacant() -> Flow {
        let unspecified = IpAddr::from([0u8; 4]);
        let key = FlowKey {
            client: unspecified,
            server: unspecified,
            client_port: 0,
            server_port: 0,
            proto: 0,
        };
        Flow::new(key, 0, 0, Dir::Up)
    }

    fn new(key: FlowKey, id: u64, now: u64, dir: Dir) -> Flow {
        Flow {
            key,
            id,
            created: now,
            last_seen: now,
            idle_timeout: default_idle(key.proto),
            client_opened: dir == Dir::Up,
            inspecting: true,
            payload_packets: [0; 2],
            classes: 0,
            policies: 0,
            tcp: [TcpSide::default(); 2],
            pending: None,
        }
    }

    /// The flow's QUIC ClientHello reader, if its Initials are being read.
    pub fn quic(&self) -> Option<&ClientHelloReader> {
        match self.pending.as_deref() {
            Some(Pending::Initials(r)) => Some(r),
            _ => None,
        }
    }

    /// Note a packet's time and remember its TCP numbers.
    pub fn account(&mut self, p: &Parsed, dir: Dir, now: u64) {
        let d = dir.index();
        self.last_seen = now;
        if let Some(t) = p.tcp {
            let syn_fin = u32::from(t.flags & (crate::wire::tcp::SYN | crate::wire::tcp::FIN) != 0);
            let next = t
                .seq
                .wrapping_add(p.payload_len() as u32)
                .wrapping_add(syn_fin);
            let side = &mut self.tcp[d];
            // Keep the furthest sequence seen (retransmissions do not move it back).
            if !side.seen || (next.wrapping_sub(side.next) as i32) >= 0 {
                side.seq = t.seq;
                side.next = next;
            }
            if t.flags & crate::wire::tcp::ACK != 0 {
                side.ack = t.ack;
            }
            side.seen = true;
        }
    }
}

pub fn default_idle(proto: u8) -> u64 {
    match proto {
        PROTO_TCP => TCP_IDLE_NS,
        PROTO_UDP => UDP_IDLE_NS,
        _ => OTHER_IDLE_NS,
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub created: u64,
    pub expired: u64,
    pub evicted: u64,
}

/// Flow storage in fixed-size chunks. A doubling `Vec` would keep up to half its
/// capacity unused (and briefly twice the table while it copies); chunks waste at most
/// one partly filled chunk, which keeps a large table within its bytes-per-flow budget.
struct Slots {
    chunks: Vec<Box<[Flow]>>,
    len: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> Option<&Flow> {
        if i >= self.len {
            return None;
        }
        self.chunks.get(i / CHUNK).map(|c| &c[i % CHUNK])
    }

    fn at(&self, i: usize) -> &Flow {
        &self.chunks[i / CHUNK][i % CHUNK]
    }

    fn at_mut(&mut self, i: usize) -> &mut Flow {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }

    fn push(&mut self, flow: Flow) -> usize {
        let i = self.len;
        if i / CHUNK == self.chunks.len() {
            let chunk: Vec<Flow> = (0..CHUNK).map(|_| Flow::vacant()).collect();
            self.chunks.push(chunk.into_boxed_slice());
        }
        *self.at_mut(i) = flow;
        self.len += 1;
        i
    }

    /// Bytes held for flows, spare slots included.
    fn allocated_bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<Flow>()
    }
}

pub struct FlowTable {
    map: FxMap<FlowKey, u32>,
    slots: Slots,
    free: Vec<u32>,
    max: usize,
    next_id: u64,
    cursor: usize,
    pub stats: FlowStats,
    /// Ids of flows that ended since the owner last drained this (to drop action state).
    pub gone: Vec<u64>,
}

pub enum Lookup {
    Existing(u32),
    New(u32),
}

impl FlowTable {
    pub fn new(max: usize) -> FlowTable {
        FlowTable {
            map: hash::map(),
            slots: Slots {
                chunks: Vec::new(),
                len: 0,
            },
            free: Vec::new(),
            max: max.max(1),
            next_id: 1,
            cursor: 0,
            stats: FlowStats::default(),
            gone: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, slot: u32) -> &Flow {
        self.slots.at(slot as usize)
    }

    pub fn get_mut(&mut self, slot: u32) -> &mut Flow {
        self.slots.at_mut(slot as usize)
    }

    /// Bytes the table holds for its flows and its index, spare capacity included.
    pub fn allocated_bytes(&self) -> usize {
        // hashbrown keeps buckets at a power of two with at most 7/8 of them used, each
        // bucket one entry plus one control byte.
        let buckets = (self.map.capacity() * 8 / 7).next_power_of_two();
        self.slots.allocated_bytes() + buckets * (std::mem::size_of::<(FlowKey, u32)>() + 1)
    }

    /// Whether `slot` still holds the flow with this id.
    pub fn is_live(&self, slot: u32, id: u64) -> bool {
        self.slots.get(slot as usize).is_some_and(|f| f.id == id)
    }

    fn expired(f: &Flow, now: u64) -> bool {
        f.id != 0 && now.saturating_sub(f.last_seen) > f.idle_timeout
    }

    fn release(&mut self, slot: u32) {
        let f = self.slots.at_mut(slot as usize);
        self.map.remove(&f.key);
        self.gone.push(f.id);
        f.id = 0;
        f.pending = None;
        self.free.push(slot);
    }

    /// The flow of a packet; a new one (or a fresh one in place of an expired one).
    pub fn lookup(&mut self, key: FlowKey, dir: Dir, now: u64) -> Lookup {
        if let Some(&slot) = self.map.get(&key) {
            if !Self::expired(self.slots.at(slot as usize), now) {
                return Lookup::Existing(slot);
            }
            self.stats.expired += 1;
            self.release(slot);
        }
        self.sweep(now, SWEEP_PER_NEW);
        if self.map.len() >= self.max {
            self.evict();
        }
        let id = self.next_id;
        self.next_id += 1;
        let flow = Flow::new(key, id, now, dir);
        let slot = match self.free.pop() {
            Some(s) => {
                *self.slots.at_mut(s as usize) = flow;
                s
            }
            None => self.slots.push(flow) as u32,
        };
        self.map.insert(key, slot);
        self.stats.created += 1;
        Lookup::New(slot)
    }

    /// Reclaim expired flows among the next `n` slots.
    pub fn sweep(&mut self, now: u64, n: usize) {
        for _ in 0..n.min(self.slots.len()) {
            self.cursor = (self.cursor + 1) % self.slots.len();
            if Self::expired(self.slots.at(self.cursor), now) {
                self.stats.expired += 1;
                self.release(self.cursor as u32);
            }
        }
    }

    fn evict(&mut self) {
        let n = self.slots.len();
        let mut victim: Option<usize> = None;
        for i in 0..n.min(EVICT_SAMPLE * 4) {
            let s = (self.cursor + 1 + i) % n;
            let f = self.slots.at(s);
            if f.id != 0 && victim.is_none_or(|v| f.last_seen < self.slots.at(v).last_seen) {
                victim = Some(s);
            }
            if i + 1 >= EVICT_SAMPLE && victim.is_some() {
                break;
            }
        }
        if let Some(v) = victim {
            self.cursor = v;
            self.stats.evicted += 1;
            self.release(v as u32);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn key(port: u16) -> FlowKey {
        FlowKey {
            client: [198, 18, 0, 2].into(),
            server: [198, 19, 1, 1].into(),
            client_port: port,
            server_port: 443,
            proto: PROTO_TCP,
        }
    }

    #[test]
    fn memory_per_flow_is_within_budget_at_100k_flows() {
        let mut t = FlowTable::new(DEFAULT_MAX_FLOWS);
        for i in 0..100_000u32 {
            let mut k = key((i % 60_000) as u16);
            k.client = IpAddr::from((0xC612_0000u32 + i / 60_000).to_be_bytes());
            t.lookup(k, Dir::Up, 0);
        }
        assert_eq!(t.len(), 100_000);
        let per_flow = t.allocated_bytes() / 100_000;
        assert!(
            per_flow <= FLOW_BYTES_BUDGET,
            "{per_flow} bytes per flow (Flow {} bytes, index entry {} bytes)",
            std::mem::size_of::<Flow>(),
            std::mem::size_of::<(FlowKey, u32)>()
        );
    }

    /// The sizes behind the budget, exactly: a field added to `Flow` fails here first,
    /// with the numbers to weigh it against (move rare state out of line instead).
    #[test]
    fn flow_and_index_entry_sizes_stay_within_budget() {
        let flow = std::mem::size_of::<Flow>();
        let entry = std::mem::size_of::<(FlowKey, u32)>();
        assert_eq!(std::mem::size_of::<FlowKey>(), 40);
        assert_eq!(std::mem::size_of::<TcpSide>(), 16);
        assert_eq!(std::mem::size_of::<Option<Box<Pending>>>(), 8);
        assert!(flow <= 144, "Flow is {flow} bytes");
        // A full chunked table at 100k flows: slots rounded up to chunks, hashbrown's
        // buckets (a power of two at most 7/8 full, one control byte each).
        let slots = 100_000usize.div_ceil(CHUNK) * CHUNK * flow;
        let buckets = (100_000usize * 8 / 7).next_power_of_two() * (entry + 1);
        let per_flow = (slots + buckets) / 100_000;
        assert!(per_flow <= FLOW_BYTES_BUDGET, "{per_flow} bytes per flow");
    }

    #[test]
    fn both_directions_find_one_flow_and_idle_flows_expire() {
        let mut t = FlowTable::new(10);
        let Lookup::New(a) = t.lookup(key(1), Dir::Up, 0) else {
            panic!()
        };
        assert!(t.get(a).client_opened);
        assert!(matches!(t.lookup(key(1), Dir::Down, 1), Lookup::Existing(s) if s == a));
        let id = t.get(a).id;
        // Idle longer than TCP's timeout: a new flow in its place.
        assert!(matches!(
            t.lookup(key(1), Dir::Up, TCP_IDLE_NS + 2),
            Lookup::New(_)
        ));
        assert_eq!(t.stats.expired, 1);
        assert_eq!(t.gone, vec![id]);
    }

    #[test]
    fn bounded_with_counted_eviction_of_the_oldest() {
        let mut t = FlowTable::new(4);
        for p in 0..4u16 {
            t.lookup(key(p), Dir::Up, u64::from(p));
        }
        t.lookup(key(100), Dir::Up, 10);
        assert_eq!(t.len(), 4);
        assert_eq!(t.stats.evicted, 1);
        // Port 0 was the least recently seen.
        assert!(matches!(t.lookup(key(0), Dir::Up, 11), Lookup::New(_)));
        assert_eq!(t.stats.evicted, 2);
    }
}

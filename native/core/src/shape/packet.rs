//! The packet as it travels the pipeline, and the buffer pool it lives in.

use crate::wire::packet::{self, Parsed};
use crate::wire::vnet;

/// `Up` is client → server (read from the client TUN), `Down` the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    Up = 0,
    Down = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn other(self) -> Dir {
        match self {
            Dir::Up => Dir::Down,
            Dir::Down => Dir::Up,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Up => "up",
            Dir::Down => "down",
        }
    }
}

/// Room kept in front of every packet so the real-time driver can write a zeroed
/// virtio-net header without copying.
pub const HEADROOM: usize = vnet::HEADER_LEN;

/// Tag of packets the pipeline made itself (forged RSTs).
pub const TAG_INJECTED: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct Pkt {
    /// HEADROOM bytes, then the IP packet.
    pub buf: Vec<u8>,
    pub dir: Dir,
    pub parsed: Parsed,
    /// Flow table slot and the flow's unique id (a stale id means the flow is gone).
    pub flow_slot: u32,
    pub flow_id: u64,
    /// Caller's identity for the packet (the simulator's packet index); copies keep it.
    pub tag: u32,
    /// When the packet entered the pipeline, and when it entered its current stage.
    pub born: u64,
    pub stage_at: u64,
    /// Next stage to run: an action index, then `actions.len()` (link), then emit.
    pub stage: u32,
}

impl Pkt {
    pub fn ip(&self) -> &[u8] {
        &self.buf[HEADROOM..]
    }
    pub fn ip_mut(&mut self) -> &mut [u8] {
        &mut self.buf[HEADROOM..]
    }
    /// IP length in bytes (what rates and queues count).
    pub fn len(&self) -> usize {
        self.buf.len() - HEADROOM
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Re-read the headers after the bytes changed.
    pub fn reparse(&mut self) -> bool {
        match packet::parse(&self.buf[HEADROOM..]) {
            Ok(p) => {
                self.parsed = p;
                true
            }
            Err(_) => false,
        }
    }
}

/// Recycled buffers: the hot path takes and returns them instead of allocating.
#[derive(Debug, Default)]
pub struct Pool {
    free: Vec<Vec<u8>>,
}

/// Buffers beyond this many are freed rather than kept (bounds idle memory).
const POOL_MAX: usize = 4096;

impl Pool {
    /// An empty buffer with the headroom in place.
    pub fn take(&mut self) -> Vec<u8> {
        let mut b = self.free.pop().unwrap_or_else(|| Vec::with_capacity(2048));
        b.clear();
        b.resize(HEADROOM, 0);
        b
    }

    /// A buffer holding `ip` after the headroom.
    pub fn take_with(&mut self, ip: &[u8]) -> Vec<u8> {
        let mut b = self.take();
        b.extend_from_slice(ip);
        b
    }

    pub fn give(&mut self, b: Vec<u8>) {
        if self.free.len() < POOL_MAX {
            self.free.push(b);
        }
    }
}

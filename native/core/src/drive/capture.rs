//! Packet capture to pcapng (wire/pcapng.rs), off the forwarding thread.
//!
//! The pipeline hands every packet to this tap (shape/tap.rs) where it enters the lab,
//! where it leaves and where the lab drops it. The tap filters (classes, endpoints),
//! encodes an Enhanced Packet Block of the packet's first `snaplen` bytes into a batch
//! and, at the end of each driver step (or when the batch is full), hands the batch to a
//! writer thread through a bounded channel. When the channel is full the batch is lost
//! and counted, never waited for: the capture may lose packets, forwarding never waits
//! on a disk. The writer keeps files under `file_bytes`, starting a new one (header and
//! interfaces again) when the next block would not fit and keeping the newest `files`.
//!
//! Five interfaces, so a reader can tell before from after shaping and see what the lab
//! dropped: `up-in` (from the client, as sent), `up-out` (toward the server, as it
//! arrived), `down-in`, `down-out`, and `dropped` (each packet's comment names the reason
//! and direction). The final file ends with a statistics block per interface: packets
//! seen and packets the capture lost.

use crate::error::{Code, Error};
use crate::shape::flow::Flow;
use crate::shape::tap::{Point, Tap};
use crate::shape::Dir;
use crate::wire::pcapng;
use std::fs::{self, File};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A batch is handed over at this size even within a step.
const BATCH_BYTES: usize = 256 * 1024;
/// Batches waiting for the writer at most (so at most ~8 MiB queued).
const QUEUE: usize = 32;

const INTERFACES: [(&str, &str); 5] = [
    (
        "up-in",
        "client to lab: packets as the client sent them, before shaping",
    ),
    (
        "up-out",
        "lab to server: packets as they reached the server, after shaping",
    ),
    (
        "down-in",
        "server to lab: packets as the server sent them, before shaping",
    ),
    (
        "down-out",
        "lab to client: packets as they reached the client, after shaping",
    ),
    (
        "dropped",
        "packets qoslab dropped; each one's comment names the reason",
    ),
];
const DROPPED: usize = 4;

/// Flows to capture: of these classes or to these server endpoints (both empty: all).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub classes: u64,
    /// Server address, IP protocol, inclusive port range.
    pub endpoints: Vec<(IpAddr, u8, u16, u16)>,
}

impl Filter {
    fn wants(&self, flow: Option<&Flow>) -> bool {
        if self.classes == 0 && self.endpoints.is_empty() {
            return true;
        }
        let Some(f) = flow else { return false };
        f.classes & self.classes != 0
            || self.endpoints.iter().any(|&(a, p, lo, hi)| {
                f.key.server == a && f.key.proto == p && (lo..=hi).contains(&f.key.server_port)
            })
    }
}

#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// The first file; later ones are `<stem>.<n>.pcapng` beside it.
    pub path: PathBuf,
    pub snaplen: usize,
    pub file_bytes: u64,
    pub files: u32,
    pub filter: Filter,
}

/// What the capture did, read by the JS thread (counters JSON `capture`).
#[derive(Debug, Default)]
pub struct CaptureStats {
    pub packets: AtomicU64,
    /// Packets lost because the writer fell behind (never forwarding's loss).
    pub lost: AtomicU64,
    pub bytes: AtomicU64,
    pub files: AtomicU64,
    /// Why the writer stopped writing (a full disk, a vanished folder), if it did.
    pub error: Mutex<Option<String>>,
}

impl CaptureStats {
    pub fn to_json(&self) -> String {
        let error = self.error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut out = format!(
            "{{\"packets\":{},\"lost\":{},\"bytes\":{},\"files\":{},\"error\":",
            self.packets.load(Relaxed),
            self.lost.load(Relaxed),
            self.bytes.load(Relaxed),
            self.files.load(Relaxed)
        );
        match error {
            Some(e) => crate::config::json::write_str(&mut out, &e),
            None => out.push_str("null"),
        }
        out.push('}');
        out
    }
}

/// The file of number `n`: the first as given, later ones numbered before the extension.
fn file_name(first: &Path, n: u64) -> PathBuf {
    if n == 0 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("capture");
    let ext = first
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("pcapng");
    first.with_file_name(format!("{stem}.{n}.{ext}"))
}

/// The header every file starts with: the section and the five interfaces.
fn file_header(snaplen: usize) -> Vec<u8> {
    let mut h = Vec::new();
    pcapng::section_header(&mut h, concat!("qoslab ", env!("CARGO_PKG_VERSION")));
    for (name, description) in INTERFACES {
        pcapng::interface(&mut h, name, description, snaplen as u32);
    }
    h
}

/// The writer thread's side: files, rotation, the byte budget of each.
struct Files {
    config: CaptureConfig,
    header: Vec<u8>,
    file: File,
    written: u64,
    number: u64,
    stats: Arc<CaptureStats>,
}

impl Files {
    fn create(config: CaptureConfig, stats: Arc<CaptureStats>) -> io::Result<Files> {
        let header = file_header(config.snaplen);
        let mut file = File::create(&config.path)?;
        file.write_all(&header)?;
        stats.files.store(1, Relaxed);
        stats.bytes.store(header.len() as u64, Relaxed);
        Ok(Files {
            written: header.len() as u64,
            header,
            file,
            number: 0,
            config,
            stats,
        })
    }

    /// The next file; the oldest beyond `files` is removed.
    fn rotate(&mut self) -> io::Result<()> {
        self.number += 1;
        let path = file_name(&self.config.path, self.number);
        self.file = File::create(&path)?;
        self.file.write_all(&self.header)?;
        self.written = self.header.len() as u64;
        self.stats.files.fetch_add(1, Relaxed);
        self.stats.bytes.fetch_add(self.written, Relaxed);
        if let Some(old) = self.number.checked_sub(u64::from(self.config.files)) {
            let _ = fs::remove_file(file_name(&self.config.path, old));
        }
        Ok(())
    }

    /// Write whole blocks, each in a file where it fits.
    fn write(&mut self, mut batch: &[u8]) -> io::Result<()> {
        while let Some(len) = pcapng::block_len(batch) {
            if self.written + len as u64 > self.config.file_bytes
                && self.written > self.header.len() as u64
            {
                self.rotate()?;
            }
            self.file.write_all(&batch[..len])?;
            self.written += len as u64;
            self.stats.bytes.fetch_add(len as u64, Relaxed);
            batch = &batch[len..];
        }
        Ok(())
    }
}

fn writer(mut files: Files, batches: Receiver<Vec<u8>>, spare: SyncSender<Vec<u8>>) {
    let mut failed = false;
    for mut batch in batches {
        if !failed {
            if let Err(e) = files.write(&batch) {
                failed = true;
                let mut slot = files.stats.error.lock().unwrap_or_else(|p| p.into_inner());
                *slot = Some(format!("writing {}: {e}", files.config.path.display()));
            }
        }
        batch.clear();
        let _ = spare.try_send(batch);
    }
    let _ = files.file.flush();
}

/// The tap the pipeline calls: filters, encodes, batches, hands over.
pub struct Capture {
    snaplen: usize,
    filter: Filter,
    /// ns since the Unix epoch at pipeline time 0.
    wall_base: u64,
    batch: Vec<u8>,
    /// Packets per interface in the batch, seen in all, and lost.
    in_batch: [u64; 5],
    seen: [u64; 5],
    lost: [u64; 5],
    first_ns: Option<u64>,
    last_ns: u64,
    tx: Option<SyncSender<Vec<u8>>>,
    spare: Receiver<Vec<u8>>,
    stats: Arc<CaptureStats>,
    thread: Option<JoinHandle<()>>,
}

impl Capture {
    /// Create the first file and start the writer. Errors (a folder that does not exist,
    /// no permission) come back here, before any packet flows.
    pub fn start(
        config: CaptureConfig,
        wall_base: u64,
    ) -> Result<(Capture, Arc<CaptureStats>), Error> {
        let stats = Arc::new(CaptureStats::default());
        let (snaplen, filter) = (config.snaplen, config.filter.clone());
        let path = config.path.clone();
        let files = Files::create(config, Arc::clone(&stats)).map_err(|e| {
            Error::new(
                Code::BadConfig,
                format!("cannot write the packet capture {}: {e}", path.display()),
            )
        })?;
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let (spare_tx, spare) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("ql-pcap".into())
            .spawn(move || writer(files, rx, spare_tx))
            .map_err(|e| Error::os(Code::Thread, "cannot spawn the capture writer", &e))?;
        let capture = Capture {
            snaplen,
            filter,
            wall_base,
            batch: Vec::with_capacity(BATCH_BYTES),
            in_batch: [0; 5],
            seen: [0; 5],
            lost: [0; 5],
            first_ns: None,
            last_ns: 0,
            tx: Some(tx),
            spare,
            stats: Arc::clone(&stats),
            thread: Some(thread),
        };
        Ok((capture, stats))
    }

    fn hand_over(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES));
        let batch = std::mem::replace(&mut self.batch, next);
        let sent = match &self.tx {
            Some(tx) => match tx.try_send(batch) {
                Ok(()) => true,
                Err(TrySendError::Full(b) | TrySendError::Disconnected(b)) => {
                    self.batch = b;
                    self.batch.clear();
                    false
                }
            },
            None => false,
        };
        let n: u64 = self.in_batch.iter().sum();
        if sent {
            self.stats.packets.fetch_add(n, Relaxed);
        } else {
            for (lost, n) in self.lost.iter_mut().zip(self.in_batch) {
                *lost += n;
            }
            self.stats.lost.fetch_add(n, Relaxed);
        }
        self.in_batch = [0; 5];
    }
}

impl Tap for Capture {
    fn packet(&mut self, point: Point, dir: Dir, now: u64, ip: &[u8], flow: Option<&Flow>) {
        if !self.filter.wants(flow) {
            return;
        }
        let up = dir == Dir::Up;
        let (iface, flags) = match point {
            Point::In => (if up { 0 } else { 2 }, pcapng::INBOUND),
            Point::Out | Point::Forged => (if up { 1 } else { 3 }, pcapng::OUTBOUND),
            Point::Dropped(_) => (DROPPED, 0),
        };
        let comment = match point {
            Point::Dropped(r) => Some(format!(
                "dropped by qoslab: {} ({})",
                r.as_str(),
                dir.as_str()
            )),
            Point::Forged => Some("forged by qoslab (reset)".to_owned()),
            _ => None,
        };
        let ts = self.wall_base.saturating_add(now);
        pcapng::packet(
            &mut self.batch,
            iface as u32,
            ts,
            ip,
            self.snaplen,
            flags,
            comment.as_deref(),
        );
        self.in_batch[iface] += 1;
        self.seen[iface] += 1;
        self.first_ns.get_or_insert(ts);
        self.last_ns = ts;
        if self.batch.len() >= BATCH_BYTES {
            self.hand_over();
        }
    }

    fn flush(&mut self) {
        self.hand_over();
    }
}

impl Drop for Capture {
    /// The last batch and a statistics block per interface, then wait for the writer, so
    /// the files are complete when the lab has closed.
    fn drop(&mut self) {
        self.hand_over();
        let mut trailer = Vec::new();
        let from = self.first_ns.unwrap_or(self.wall_base);
        for (i, (seen, lost)) in self.seen.iter().zip(self.lost).enumerate() {
            pcapng::statistics(
                &mut trailer,
                i as u32,
                from,
                self.last_ns.max(from),
                *seen,
                lost,
            );
        }
        if let Some(tx) = self.tx.take() {
            // The end: waiting for room is fine now.
            let _ = tx.send(trailer);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::shape::testkit::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qlcap-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// (interface, comment) of every packet block in a file.
    fn packets(path: &Path) -> Vec<(u32, Option<String>, u32)> {
        let b = fs::read(path).unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(len) = pcapng::block_len(&b[at..]) {
            let blk = &b[at..at + len];
            let u32at = |i: usize| u32::from_le_bytes(blk[i..i + 4].try_into().unwrap());
            if u32at(0) == 6 {
                let cap = u32at(20) as usize;
                let mut o = 28 + ((cap + 3) & !3);
                let mut comment = None;
                while o + 4 <= len - 4 {
                    let code = u16::from_le_bytes([blk[o], blk[o + 1]]);
                    let l = u16::from_le_bytes([blk[o + 2], blk[o + 3]]) as usize;
                    if code == 1 {
                        comment = Some(String::from_utf8_lossy(&blk[o + 4..o + 4 + l]).into());
                    }
                    if code == 0 {
                        break;
                    }
                    o += 4 + ((l + 3) & !3);
                }
                out.push((u32at(8), comment, cap as u32));
            }
            at += len;
        }
        out
    }

    fn config(dir: &Path, file_bytes: u64, files: u32) -> CaptureConfig {
        CaptureConfig {
            path: dir.join("capture.pcapng"),
            snaplen: 100,
            file_bytes,
            files,
            filter: Filter::default(),
        }
    }

    #[test]
    fn before_after_and_dropped_each_on_its_interface_with_the_reason() {
        let dir = temp("points");
        // 1 in 2 packets lost on the uplink (seeded), both directions through.
        let up = obj(LINK, &[("loss", "0.5")]);
        let mut p = pipeline_with(&scenario_json(&[], &[], &up, LINK), &[]);
        let (cap, stats) = Capture::start(config(&dir, 1 << 30, 1), 0).unwrap();
        p.set_tap(Box::new(cap));
        let mut pkts = stream(20, MS, 300);
        pkts.push((30 * MS, Dir::Down, udp_down(60)));
        let got = run(&mut p, pkts);
        let lost = 20 - got.iter().filter(|g| g.2 == Dir::Up).count();
        drop(p); // the writer finishes the file
        let recs = packets(&dir.join("capture.pcapng"));
        let on = |i: u32| recs.iter().filter(|r| r.0 == i).count();
        assert_eq!((on(0), on(1), on(2), on(3)), (20, 20 - lost, 1, 1));
        assert_eq!(on(4), lost);
        assert!(recs
            .iter()
            .filter(|r| r.0 == 4)
            .all(|r| r.1.as_deref() == Some("dropped by qoslab: loss (up)")));
        assert!(recs.iter().all(|r| r.2 <= 100), "cut at the snap length");
        assert_eq!(stats.packets.load(Relaxed), recs.len() as u64);
        assert_eq!(stats.lost.load(Relaxed), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_rotate_under_their_cap_and_only_the_newest_stay() {
        let dir = temp("rotate");
        let mut p = pipeline_with(&scenario_json(&[], &[], LINK, LINK), &[]);
        let (cap, stats) = Capture::start(config(&dir, 4000, 2), 0).unwrap();
        p.set_tap(Box::new(cap));
        run(&mut p, stream(100, MS, 300));
        drop(p);
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let n = stats.files.load(Relaxed);
        assert!(n > 3, "{n} files");
        assert_eq!(
            names,
            vec![
                format!("capture.{}.pcapng", n - 2),
                format!("capture.{}.pcapng", n - 1)
            ]
        );
        for name in &names {
            let len = fs::metadata(dir.join(name)).unwrap().len();
            assert!(len <= 4000, "{name}: {len} bytes");
            // Every file starts with the section header and its interfaces.
            assert_eq!(
                &fs::read(dir.join(name)).unwrap()[..4],
                &[0x0A, 0x0D, 0x0D, 0x0A]
            );
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_filter_keeps_the_flows_of_its_classes_only() {
        let dir = temp("filter");
        let classes = [class("voice", &[matcher(&[("udp_ports", "[[443, 443]]")])])];
        let mut p = pipeline(&classes, &[]);
        let mut c = config(&dir, 1 << 30, 1);
        c.filter.classes = 1;
        let (cap, _) = Capture::start(c, 0).unwrap();
        p.set_tap(Box::new(cap));
        run(
            &mut p,
            vec![
                (0, Dir::Up, udp_from(5000, b"to port 443")),
                (MS, Dir::Up, tcp_from(5001, 1, crate::wire::tcp::SYN, b"")),
            ],
        );
        drop(p);
        let recs = packets(&dir.join("capture.pcapng"));
        assert_eq!(recs.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 1]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_path_is_an_error_before_any_packet() {
        let c = config(Path::new("/nonexistent-qoslab-dir"), 1 << 20, 1);
        let e = Capture::start(c, 0).err().unwrap();
        assert!(
            e.message().contains("cannot write the packet capture"),
            "{}",
            e.message()
        );
    }
}

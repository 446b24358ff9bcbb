//! The core benchmark (issue 3): the shaping pipeline in virtual time, with no
//! dependencies. `npm run bench` runs it through bench/core.js; on its own:
//!
//! ```text
//! cargo run --release --example core_bench --manifest-path native/Cargo.toml -- --json
//! ```
//!
//! `--fuzz-packets N` changes the fuzz's packet count (default 10,000,000);
//! `--quic-fuzz-initials N` the QUIC fuzz's (default 10,000,000); `--quic-only` runs
//! only the ClientHello classifier and the QUIC measurements; `--memory-only` only the
//! bytes-per-flow rows.
//!
//! Each measurement is one JSON object per line with `--json` (a readable line without):
//! `{"bench":"core","metric":..,"label":..,"value":..,"unit":..,"target":..,"met":..}`
//! plus details. `met` is `null` where there is no target.
//!
//! 1. pipeline cost per packet for 0, 3 and 8 actions (TCP download mix, 1000 flows), and
//!    for 0 actions with per-flow metering off (what metering costs);
//! 2. SNI classification cost with 10,000 globs (exact, suffix, substring);
//! 3. memory per flow at 100,000 flows, counted by a global allocator wrapper;
//! 4. fuzz: random and mutated packets through many actions and both links;
//! 5. achieved against configured rate, `rate` action and link, 64 kbit/s .. 1 Gbit/s;
//! 6. delay error of the `delay` action and the link delay;
//! 7. QUIC Initial classification cost, and mutated Initials through the classifier
//!    (`core_bench_parts/quic.rs`).
//!
//! Everything runs in virtual time, so 5 and 6 measure the arithmetic of the stages, not
//! timers; the real-time driver's timer error is measured by the end-to-end tests.

#[path = "core_bench_parts/quic.rs"]
mod quic_part;

use qoslab_core::config::json::write_str;
use qoslab_core::drive::sim::{self, Source};
use qoslab_core::rng::Rng;
use qoslab_core::shape::classify::Classifier;
use qoslab_core::shape::compiled::{ClassSpec, MatcherSpec, Scenario};
use qoslab_core::shape::flow::{Flow, FlowKey, FlowTable, Lookup, DEFAULT_MAX_FLOWS};
use qoslab_core::shape::packet::TAG_INJECTED;
use qoslab_core::shape::pipeline::{Options, Pipeline};
use qoslab_core::shape::stats::Totals;
use qoslab_core::shape::trace::Trace;
use qoslab_core::shape::{Dir, Pkt, Reason};
use qoslab_core::wire::packet::{build_tcp, build_udp, parse, PROTO_TCP};
use qoslab_core::wire::tcp::{ACK, PSH, SYN};
use qoslab_core::wire::{quic, stun, tls};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

// ---- allocation counting (measurement 3) ------------------------------------------------

/// The system allocator, counting live and peak bytes (requested sizes).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn add_live(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add_live(l.size());
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        add_live(l.size());
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: `p` came from this allocator, i.e. from `System`, with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        add_live(new);
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: forwarded as is; `p` came from `System` with layout `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Relaxed)
}

// ---- the report ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Target {
    None,
    AtMost(f64),
    /// Pass/fail measurements (fuzz): the boolean is the verdict.
    Holds(bool, &'static str),
}

struct Report {
    json: bool,
    missed: usize,
}

impl Report {
    /// One measurement; `extra` is a list of (key, JSON value text).
    fn emit(
        &mut self,
        metric: &str,
        label: &str,
        value: f64,
        unit: &str,
        target: Target,
        extra: &[(&str, String)],
    ) {
        let (target_text, met) = match target {
            Target::None => (None, None),
            Target::AtMost(t) => (Some(format!("<= {}", num(t))), Some(value <= t)),
            Target::Holds(ok, what) => (Some(what.to_string()), Some(ok)),
        };
        if met == Some(false) {
            self.missed += 1;
        }
        if self.json {
            let mut o = String::from("{\"bench\":\"core\",\"metric\":");
            write_str(&mut o, metric);
            o.push_str(",\"label\":");
            write_str(&mut o, label);
            let _ = write!(o, ",\"value\":{},\"unit\":", num(value));
            write_str(&mut o, unit);
            o.push_str(",\"target\":");
            match &target_text {
                Some(t) => write_str(&mut o, t),
                None => o.push_str("null"),
            }
            let _ = write!(
                o,
                ",\"met\":{}",
                met.map_or("null".into(), |m| m.to_string())
            );
            for (k, v) in extra {
                o.push(',');
                write_str(&mut o, k);
                o.push(':');
                o.push_str(v);
            }
            o.push('}');
            println!("{o}");
        } else {
            let verdict = match met {
                None => "",
                Some(true) => "met",
                Some(false) => "MISSED",
            };
            println!(
                "{:<22} {:<28} {:>14} {:<12} {:<18} {}",
                metric,
                label,
                num(value),
                unit,
                target_text.unwrap_or_default(),
                verdict
            );
        }
    }
}

/// A finite number as JSON (non-finite values become null).
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "null".into();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

// ---- scenarios as compiled JSON --------------------------------------------------------------

const NO_LINK: &str = r#"{"rate_bps":null,"trace_file":null,"delay_ns":0,"jitter_ns":0,"loss":0,"queue_bytes":null,"queue_packets":null,"aqm":"droptail"}"#;

fn link(rate: Option<u64>, delay: u64, jitter: u64, loss: f64, queue: &str, aqm: &str) -> String {
    let rate = rate.map_or("null".into(), |r| r.to_string());
    format!(
        r#"{{"rate_bps":{rate},"trace_file":null,"delay_ns":{delay},"jitter_ns":{jitter},"loss":{loss},{queue},"aqm":"{aqm}"}}"#
    )
}

fn sni_class(name: &str, globs: &[&str]) -> String {
    let list: Vec<String> = globs.iter().map(|g| format!("{g:?}")).collect();
    format!(
        r#"{{"name":"{name}","any_of":[{{"sni":[{}],"hosts":null,"cidr":null,"tcp_ports":null,"udp_ports":null,"proto":null,"alpn":null,"ech":null,"ja4":null,"quic":null,"stun":false,"payload":null,"inspect_packets":1,"reassembly":"none","initiator":"client"}}]}}"#,
        list.join(",")
    )
}

fn policy(name: &str, classes: &str, proto: &str, actions: &[&str]) -> String {
    format!(
        r#"{{"name":"{name}","classes":{classes},"except_classes":[],"proto":{proto},"direction":"both","idle_timeout_ns":null,"actions":[{}]}}"#,
        actions.join(",")
    )
}

fn refs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

fn action(ty: &str, fields: &str) -> String {
    let sep = if fields.is_empty() { "" } else { "," };
    format!(r#"{{"type":"{ty}","direction":"both"{sep}{fields}}}"#)
}

fn scenario(classes: &[String], policies: &[String], up: &str, down: &str) -> Scenario {
    scenario_with_timeline(classes, policies, up, down, &[])
}

fn scenario_with_timeline(
    classes: &[String],
    policies: &[String],
    up: &str,
    down: &str,
    timeline: &[(u64, Vec<String>)],
) -> Scenario {
    let names: Vec<String> = (0..policies.len()).map(|i| format!("\"p{i}\"")).collect();
    let mut tl = format!(
        r#"{{"at_ns":0,"phase":"main","enable":[],"disable":[],"active":[{}],"dns_active":[]}}"#,
        names.join(",")
    );
    for (at, active) in timeline {
        let a: Vec<String> = active.iter().map(|n| format!("{n:?}")).collect();
        let _ = write!(
            tl,
            r#",{{"at_ns":{at},"phase":"p","enable":[],"disable":[],"active":[{}],"dns_active":[]}}"#,
            a.join(",")
        );
    }
    let json = format!(
        r#"{{"format":1,"name":"bench","seed":7,"duration_ns":3600000000000,
        "network":{{"mtu":1500,"ipv6":true,"tcp_congestion":null,"uplink":{up},"downlink":{down}}},
        "hosts":[{{"name":"server","names":["server.lab"],"address":"198.19.0.1","address6":"fd71:6c61:6200:2::1"}}],
        "classes":[{}],"policies":[{}],"timeline":[{tl}],"workloads":[],"expect":[],"dns":{{}}}}"#,
        classes.join(","),
        policies.join(",")
    );
    Scenario::parse_json(&json).unwrap_or_else(|e| panic!("bench scenario: {e}\n{json}"))
}

fn no_traces(_: &str) -> Result<Trace, qoslab_core::Error> {
    Trace::new(&[1, 2, 3])
}

fn pipeline(s: &Scenario) -> Pipeline {
    metered_pipeline(s, true)
}

/// As `pipeline`, with per-flow metering on or off (shape/meter/: on is how labs run).
fn metered_pipeline(s: &Scenario, flow_metrics: bool) -> Pipeline {
    let opts = Options {
        flow_metrics,
        ..Options::default()
    };
    Pipeline::with_traces(s, opts, &no_traces).expect("bench pipeline")
}

/// The actions of measurement 1: 3 (delay, loss, rate) and 8 (plus police, duplicate,
/// corrupt, reorder, drop-after). Rates sit above the offered load: no standing queue.
fn actions(n: usize) -> Vec<String> {
    let all = [
        action(
            "delay",
            r#""time_ns":20000000,"jitter_ns":0,"distribution":"uniform","correlation":0,"reorder":false"#,
        ),
        action("loss", r#""rate":0.01"#),
        action(
            "rate",
            r#""rate_bps":2000000000,"queue_bytes":null,"queue_packets":1000,"aqm":"droptail""#,
        ),
        action("police", r#""rate_bps":3000000000,"burst_bytes":1000000"#),
        action("duplicate", r#""rate":0.001"#),
        action("corrupt", r#""rate":0.001"#),
        action("reorder", r#""rate":0.01,"gap":4"#),
        action(
            "drop-after",
            r#""bytes":1000000000000,"packets":null,"time_ns":null"#,
        ),
    ];
    all[..n].to_vec()
}

// ---- traffic ---------------------------------------------------------------------------------

fn client(i: usize) -> (IpAddr, u16) {
    (
        [198, 18, (i >> 8) as u8 & 0x3f, i as u8].into(),
        40000 + (i % 20000) as u16,
    )
}

fn server(i: usize) -> (IpAddr, u16) {
    ([198, 19, 0, 1 + (i % 16) as u8].into(), 443)
}

fn tcp(
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    data: &[u8],
) -> Vec<u8> {
    let mut b = Vec::new();
    build_tcp(&mut b, src, dst, seq, ack, flags, 65535, data);
    b
}

/// A TCP download mix: per flow a handshake, a ClientHello, then repeating (data down,
/// data down, ACK up); flows take turns, one packet every `gap` ns. Full-size segments:
/// 1500-byte IP packets.
struct TcpMix {
    /// Per flow: SYN, SYN-ACK, ACK, ClientHello, data, ACK.
    templates: Vec<[Vec<u8>; 6]>,
    next: Vec<u64>,
    k: u64,
    total: u64,
    gap: u64,
}

impl TcpMix {
    fn new(flows: usize, total: u64, gap: u64) -> TcpMix {
        let payload = vec![0x5a; 1460];
        let templates = (0..flows)
            .map(|i| {
                let (c, s) = (client(i), server(i));
                let hello =
                    tls::build_client_hello(&format!("cdn{i}.example.com"), &["h2"], false, 0);
                [
                    tcp(c, s, 1000, 0, SYN, &[]),
                    tcp(s, c, 5000, 1001, SYN | ACK, &[]),
                    tcp(c, s, 1001, 5001, ACK, &[]),
                    tcp(c, s, 1001, 5001, ACK | PSH, &hello),
                    tcp(s, c, 5001, 1001 + hello.len() as u32, ACK | PSH, &payload),
                    tcp(c, s, 1001 + hello.len() as u32, 6461, ACK, &[]),
                ]
            })
            .collect();
        TcpMix {
            templates,
            next: vec![0; flows],
            k: 0,
            total,
            gap,
        }
    }
}

impl Source for TcpMix {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)> {
        if self.k >= self.total {
            return None;
        }
        let f = (self.k % self.templates.len() as u64) as usize;
        let j = self.next[f];
        self.next[f] += 1;
        let which = if j < 4 {
            j as usize
        } else {
            [4, 4, 5][(j % 3) as usize]
        };
        let dir = if which == 1 || which == 4 {
            Dir::Down
        } else {
            Dir::Up
        };
        buf.clear();
        buf.extend_from_slice(&self.templates[f][which]);
        let t = self.k * self.gap;
        self.k += 1;
        Some((t, dir, self.k as u32))
    }
}

// ---- 1. pipeline cost ----------------------------------------------------------------------

fn bench_pipeline(r: &mut Report) {
    const PACKETS: u64 = 1_500_000;
    const FLOWS: usize = 1000;
    // 2/3 of the packets are 1500 bytes: ~400 Mbit/s offered at one packet per 20 µs.
    const GAP: u64 = 20 * US;
    // The source alone (template copies), subtracted below.
    let t0 = Instant::now();
    let mut src = TcpMix::new(FLOWS, PACKETS, GAP);
    let mut buf = Vec::with_capacity(2048);
    let mut sum = 0usize;
    while src.next(&mut buf).is_some() {
        sum += buf.len();
    }
    black_box(sum);
    let source_ns = t0.elapsed().as_nanos() as f64 / PACKETS as f64;
    let class = sni_class("video", &["*.video.example", "*t.co*", "cdn7.example.com"]);
    // The last run: no action and no metering, what metering every flow costs by difference.
    for (n, metered) in [(0usize, true), (3, true), (8, true), (0, false)] {
        let policies = if n == 0 {
            vec![]
        } else {
            vec![policy("p0", "[]", "null", &refs(&actions(n)))]
        };
        let s = scenario(std::slice::from_ref(&class), &policies, NO_LINK, NO_LINK);
        let mut best = f64::MAX;
        let mut detail = (0, 0);
        for _ in 0..2 {
            let mut p = metered_pipeline(&s, metered);
            let mut src = TcpMix::new(FLOWS, PACKETS, GAP);
            let mut emitted = 0u64;
            let t0 = Instant::now();
            sim::run(&mut p, &mut src, &[], &mut |_| emitted += 1).expect("run");
            let ns = t0.elapsed().as_nanos() as f64 / PACKETS as f64;
            best = best.min(ns);
            detail = (emitted, p.stats.totals.dropped);
        }
        let label = if metered {
            format!("{n} actions")
        } else {
            format!("{n} actions, flows unmetered")
        };
        r.emit(
            "pipeline_ns_per_packet",
            &label,
            ((best - source_ns) * 10.0).round() / 10.0,
            "ns/packet",
            Target::None,
            &[
                ("actions", n.to_string()),
                ("flow_metrics", metered.to_string()),
                ("packets", PACKETS.to_string()),
                ("flows", FLOWS.to_string()),
                ("with_source_ns", num((best * 10.0).round() / 10.0)),
                ("source_ns", num((source_ns * 10.0).round() / 10.0)),
                ("emitted", detail.0.to_string()),
                ("dropped", detail.1.to_string()),
            ],
        );
    }
}

// ---- 2. classification -----------------------------------------------------------------------

fn word(rng: &mut Rng, lo: u64, hi: u64) -> String {
    let n = lo + rng.below(hi - lo + 1);
    (0..n)
        .map(|_| (b'a' + rng.below(26) as u8) as char)
        .collect()
}

fn bench_classify(r: &mut Report) {
    const GLOBS: usize = 10_000;
    const CLASSES: usize = 8;
    let mut rng = Rng::new(42);
    // 40 % exact names, 40 % `*.suffix`, 20 % `*substring*`.
    let mut exact = Vec::new();
    let mut suffix = Vec::new();
    let mut substr = Vec::new();
    let mut globs = Vec::with_capacity(GLOBS);
    for i in 0..GLOBS {
        match i % 5 {
            0 | 1 => {
                let n = format!("{}.{}.com", word(&mut rng, 3, 8), word(&mut rng, 5, 12));
                globs.push(n.clone());
                exact.push(n);
            }
            2 | 3 => {
                let n = format!("{}.{}", word(&mut rng, 5, 12), ["net", "org", "io"][i % 3]);
                globs.push(format!("*.{n}"));
                suffix.push(n);
            }
            _ => {
                let n = word(&mut rng, 6, 10);
                globs.push(format!("*{n}*"));
                substr.push(n);
            }
        }
    }
    let classes: Vec<ClassSpec> = (0..CLASSES)
        .map(|c| {
            let mut m = MatcherSpec::new();
            m.sni = Some(globs.iter().skip(c).step_by(CLASSES).cloned().collect());
            ClassSpec {
                name: format!("c{c}"),
                any_of: vec![m],
            }
        })
        .collect();
    let mut classifier = Classifier::new(&classes);
    // ClientHellos: a quarter each hit an exact name, a suffix, a substring, or nothing.
    const HELLOS: usize = 4096;
    let mut hellos = Vec::with_capacity(HELLOS);
    for i in 0..HELLOS {
        let name = match i % 4 {
            0 => exact[rng.below(exact.len() as u64) as usize].clone(),
            1 => format!(
                "{}.{}",
                word(&mut rng, 2, 10),
                suffix[rng.below(suffix.len() as u64) as usize]
            ),
            2 => format!(
                "{}{}{}.com",
                word(&mut rng, 0, 6),
                substr[rng.below(substr.len() as u64) as usize],
                word(&mut rng, 0, 6)
            ),
            _ => format!("{}.{}.com", word(&mut rng, 3, 10), word(&mut rng, 4, 12)),
        };
        let hello = tls::build_client_hello(&name, &["h2", "http/1.1"], false, 0);
        let ip = tcp(client(1), server(1), 1001, 5001, ACK | PSH, &hello);
        let parsed = parse(&ip).expect("hello parses");
        hellos.push((ip, parsed));
    }
    let mut table = FlowTable::new(16);
    let Lookup::New(slot) = table.lookup(FlowKey::of(&hellos[0].1, Dir::Up), Dir::Up, 0) else {
        unreachable!()
    };
    let fresh = |f: &mut Flow| {
        f.payload_packets = [0; 2];
        f.inspecting = true;
        f.classes = 0;
    };
    // The cost of the timing itself, reported alongside.
    let mut overhead = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let t = Instant::now();
        overhead.push(black_box(t.elapsed().as_nanos() as u64));
    }
    overhead.sort_unstable();
    let timer_ns = percentile(&overhead, 0.5);
    // Warm up, then time each ClientHello on its own.
    const REPS: usize = 50;
    let mut samples = Vec::with_capacity(HELLOS * REPS);
    let mut hits = [0u64; 4];
    for rep in 0..=REPS {
        for (i, (ip, parsed)) in hellos.iter().enumerate() {
            let f = table.get_mut(slot);
            fresh(f);
            let t = Instant::now();
            let bits = classifier.inspect(f, ip, parsed, Dir::Up);
            let ns = t.elapsed().as_nanos() as u64;
            black_box(bits);
            if rep > 0 {
                samples.push(ns);
                if bits != 0 {
                    hits[i % 4] += 1;
                }
            }
        }
    }
    samples.sort_unstable();
    let per_kind = (HELLOS / 4 * REPS) as f64;
    let extra = [
        ("globs", GLOBS.to_string()),
        ("classes", CLASSES.to_string()),
        ("samples", samples.len().to_string()),
        ("timer_overhead_ns", timer_ns.to_string()),
        (
            "hit_rate",
            format!(
                "{{\"exact\":{},\"suffix\":{},\"substring\":{},\"miss\":{}}}",
                num(hits[0] as f64 / per_kind),
                num(hits[1] as f64 / per_kind),
                num(hits[2] as f64 / per_kind),
                num(hits[3] as f64 / per_kind)
            ),
        ),
    ];
    r.emit(
        "classify_ns",
        "10k SNI globs, median",
        percentile(&samples, 0.5) as f64,
        "ns/hello",
        Target::AtMost(1000.0),
        &extra,
    );
    r.emit(
        "classify_ns",
        "10k SNI globs, p99",
        percentile(&samples, 0.99) as f64,
        "ns/hello",
        Target::None,
        &extra,
    );
}

// ---- 3. memory per flow ------------------------------------------------------------------------

fn flow_key(i: usize) -> FlowKey {
    let (c, s) = (client(i), server(i));
    FlowKey {
        client: c.0,
        server: s.0,
        client_port: c.1,
        server_port: s.1,
        proto: PROTO_TCP,
    }
}

/// A pipeline (3 actions, one SNI class; flows metered or not) after `flows` flows each
/// sent a SYN and a ClientHello, everything delivered; its live heap bytes.
fn pipeline_bytes(flows: usize, metered: bool) -> usize {
    let class = sni_class("video", &["*.video.example", "*t.co*", "cdn7.example.com"]);
    let a = actions(3);
    let s = scenario(
        &[class],
        &[policy("p0", "[]", "null", &refs(&a))],
        NO_LINK,
        NO_LINK,
    );
    let before = live();
    let mut p = metered_pipeline(&s, metered);
    let mut out = Vec::new();
    let hello = tls::build_client_hello("cdn1.example.com", &["h2"], false, 0);
    for i in 0..flows {
        let (c, sv) = (client(i), server(i));
        // 1 ms apart: a few dozen packets in flight at most, so the buffer pool and the
        // heap stay the same size whatever the number of flows.
        let t = i as u64 * MS;
        p.ingress(&tcp(c, sv, 1000, 0, SYN, &[]), Dir::Up, t, 0, &mut out);
        p.ingress(
            &tcp(c, sv, 1001, 5001, ACK | PSH, &hello),
            Dir::Up,
            t + US,
            0,
            &mut out,
        );
        for k in out.drain(..) {
            p.recycle(k);
        }
    }
    p.advance(u64::MAX / 2, &mut out);
    for k in out.drain(..) {
        p.recycle(k);
    }
    assert_eq!(p.flows_len(), flows);
    let bytes = live() - before;
    drop(p);
    bytes
}

fn bench_memory(r: &mut Report) {
    const FLOWS: usize = 100_000;
    // The flow table alone, as the pipeline makes it.
    let before = live();
    PEAK.store(before, Relaxed);
    let mut table = FlowTable::new(DEFAULT_MAX_FLOWS);
    for i in 0..FLOWS {
        table.lookup(flow_key(i), Dir::Up, i as u64);
    }
    assert_eq!(table.len(), FLOWS);
    let table_bytes = live() - before;
    let peak = PEAK.load(Relaxed) - before;
    drop(table);
    let size = std::mem::size_of::<Flow>();
    let entry = std::mem::size_of::<(FlowKey, u32)>();
    let per = table_bytes as f64 / FLOWS as f64;
    r.emit(
        "memory_bytes_per_flow",
        "flow table, 100k flows",
        per.round(),
        "bytes/flow",
        Target::AtMost(256.0),
        &[
            ("flows", FLOWS.to_string()),
            ("live_bytes", table_bytes.to_string()),
            (
                "peak_bytes_per_flow",
                num((peak as f64 / FLOWS as f64).round()),
            ),
            ("size_of_flow", size.to_string()),
            ("size_of_index_entry", entry.to_string()),
            (
                "dense_estimate_bytes_per_flow",
                ((entry + 1) * 8 / 7 + size).to_string(),
            ),
        ],
    );
    // The whole pipeline, marginal cost per flow between 1k and 100k flows (fixed costs
    // such as the buffer pool cancel out); includes per-flow action state. Without flow
    // metering (the table's and the actions' own budget), then with it: the meter is a
    // side table of its own (shape/meter/, a record of at most 512 bytes per flow).
    for (metered, label, target) in [
        (false, "pipeline (3 actions), marginal", 256.0),
        (true, "pipeline (3 actions) + flow metrics, marginal", 800.0),
    ] {
        let small = pipeline_bytes(1000, metered);
        let big = pipeline_bytes(FLOWS, metered);
        let marginal = (big as f64 - small as f64) / (FLOWS - 1000) as f64;
        r.emit(
            "memory_bytes_per_flow",
            label,
            marginal.round(),
            "bytes/flow",
            Target::AtMost(target),
            &[
                ("bytes_at_1k", small.to_string()),
                ("bytes_at_100k", big.to_string()),
                ("flow_metrics", metered.to_string()),
            ],
        );
    }
}

// ---- 4. fuzz -----------------------------------------------------------------------------------

fn templates() -> Vec<Vec<u8>> {
    let mut t = Vec::new();
    let c4: IpAddr = [198, 18, 0, 2].into();
    let s4: IpAddr = [198, 19, 0, 1].into();
    let c6: IpAddr = "fd71:6c61:6200:1::2".parse().expect("v6");
    let s6: IpAddr = "fd71:6c61:6200:2::1".parse().expect("v6");
    for (c, s) in [(c4, s4), (c6, s6)] {
        let hello = tls::build_client_hello("abs.twimg.com", &["h2"], false, 0);
        let big_hello = tls::build_client_hello("video.example.com", &["h2"], true, 1800);
        t.push(tcp((c, 40000), (s, 443), 1000, 0, SYN, &[]));
        t.push(tcp((s, 443), (c, 40000), 5000, 1001, SYN | ACK, &[]));
        t.push(tcp((c, 40000), (s, 443), 1001, 5001, ACK | PSH, &hello));
        t.push(tcp(
            (c, 40000),
            (s, 443),
            1001,
            5001,
            ACK | PSH,
            &big_hello[..1000],
        ));
        t.push(tcp(
            (c, 40000),
            (s, 443),
            2001,
            5001,
            ACK | PSH,
            &big_hello[1000..],
        ));
        t.push(tcp((s, 443), (c, 40000), 5001, 1001, ACK | PSH, &[7; 1400]));
        let mut u = Vec::new();
        build_udp(&mut u, (c, 50000), (s, 443), &quic::build_initial(1, 1200));
        t.push(u);
        let mut u = Vec::new();
        build_udp(
            &mut u,
            (c, 50001),
            (s, 3478),
            &stun::build_binding_request(),
        );
        t.push(u);
        let mut u = Vec::new();
        build_udp(&mut u, (s, 53), (c, 50002), &[1; 100]);
        t.push(u);
    }
    // IPv4 ICMP echo (checksum left zero; nothing on the path checks it).
    let mut icmp = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0];
    icmp.extend_from_slice(&[198, 18, 0, 2, 198, 19, 0, 1, 8, 0, 0, 0, 0, 1, 0, 1]);
    t.push(icmp);
    t
}

/// Random packets (10 %) and mutated templates (90 %); remembers the last one made.
struct Fuzz {
    rng: Rng,
    templates: Vec<Vec<u8>>,
    n: u64,
    total: u64,
    t: u64,
    last: Vec<u8>,
}

impl Fuzz {
    fn make(&mut self, b: &mut Vec<u8>) {
        let rng = &mut self.rng;
        b.clear();
        if rng.below(10) == 0 {
            let len = rng.below(1600) as usize;
            b.extend((0..len).map(|_| rng.next_u64() as u8));
            if !b.is_empty() && rng.below(2) == 0 {
                b[0] = [0x45, 0x46, 0x4f, 0x60][rng.below(4) as usize];
            }
            return;
        }
        let tpl = &self.templates[rng.below(self.templates.len() as u64) as usize];
        b.extend_from_slice(tpl);
        // Flows: a few dozen of each template (client port and address vary).
        let v6 = b[0] >> 4 == 6;
        let (l4, caddr) = if v6 { (40, 8 + 15) } else { (20, 12 + 3) };
        if b.len() > l4 + 2 && rng.below(4) != 0 {
            let salt = rng.below(32) as u8;
            b[l4 + 1] ^= salt;
            b[caddr] ^= salt >> 2;
        }
        for _ in 0..rng.below(4) {
            if b.is_empty() {
                break;
            }
            let i = rng.below(b.len() as u64) as usize;
            match rng.below(6) {
                0 => b[i] ^= 1 << rng.below(8),
                1 => b[i] = rng.next_u64() as u8,
                2 => b.truncate(i),
                3 => b.extend((0..rng.below(64)).map(|_| rng.next_u64() as u8)),
                // Header fields that steer parsing: lengths, IHL, protocol, flags.
                4 => {
                    let j = [0usize, 2, 3, 4, 5, 6, 9, l4 + 12, l4 + 13][rng.below(9) as usize];
                    if j < b.len() {
                        b[j] = rng.next_u64() as u8;
                    }
                }
                _ => {
                    let j = rng.below(b.len() as u64) as usize;
                    b.swap(i, j);
                }
            }
        }
    }
}

impl Source for Fuzz {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)> {
        if self.n >= self.total {
            return None;
        }
        self.make(buf);
        self.last.clear();
        self.last.extend_from_slice(buf);
        // Mostly busy (mean 6 µs apart), sometimes long gaps so flows expire.
        self.t += match self.rng.below(100_000) {
            0 => 120 * S,
            1..=20 => 50 * MS,
            _ => self.rng.below(12 * US),
        };
        self.n += 1;
        let dir = if self.rng.below(2) == 0 {
            Dir::Up
        } else {
            Dir::Down
        };
        Some((self.t, dir, self.n as u32))
    }
}

fn fuzz_scenario() -> (Scenario, Vec<(u64, Vec<String>)>) {
    let classes = [
        sni_class("tls", &["*.twimg.com", "*t.co*", "video.example.com"]),
        r#"{"name":"quic","any_of":[{"sni":null,"hosts":null,"cidr":null,"tcp_ports":null,"udp_ports":[[443,443]],"proto":null,"alpn":null,"ech":null,"ja4":null,"quic":{"version":1,"min_size_bytes":1001},"stun":false,"payload":null,"inspect_packets":2,"reassembly":"none","initiator":"any"}]}"#.to_string(),
        r#"{"name":"seg","any_of":[{"sni":["video.example.com"],"hosts":null,"cidr":null,"tcp_ports":[[443,443]],"proto":null,"udp_ports":null,"alpn":null,"ech":null,"ja4":null,"quic":null,"stun":false,"payload":null,"inspect_packets":3,"reassembly":"segments","initiator":"client"}]}"#.to_string(),
    ];
    let all = [
        action(
            "delay",
            r#""time_ns":5000000,"jitter_ns":2000000,"distribution":"paretonormal","correlation":0.3,"reorder":true"#,
        ),
        action("loss", r#""rate":0.02"#),
        action(
            "rate",
            r#""rate_bps":50000000,"queue_bytes":null,"queue_packets":200,"aqm":"codel""#,
        ),
        action("police", r#""rate_bps":500000,"burst_bytes":3000"#),
        action("duplicate", r#""rate":0.02"#),
        action("corrupt", r#""rate":0.02"#),
        action("reorder", r#""rate":0.05,"gap":2"#),
    ];
    let tls_actions = [
        action("trigger", r#""delay_ns":1000000,"probability":0.5"#),
        action(
            "reset",
            r#""after_bytes":5000,"to":"both","replace_reply":false"#,
        ),
        action(
            "penalty",
            r#""scope":["server_ip","server_port"],"duration_ns":1000000000,"probability":0.5,"block":"both","include_trigger":false"#,
        ),
    ];
    let quic_actions = [
        action("gilbert-elliott", r#""p":0.01,"r":0.3,"h":0.5,"k":0.99"#),
        action(
            "drop-after",
            r#""bytes":20000,"packets":null,"time_ns":null"#,
        ),
        action("blackhole", ""),
    ];
    let seg_actions = [action("trace", r#""file":"t.trace""#)];
    let policies = [
        policy("p0", "[]", "null", &refs(&all)),
        policy("p1", r#"["tls"]"#, r#""tcp""#, &refs(&tls_actions)),
        policy("p2", r#"["quic"]"#, "null", &refs(&quic_actions)),
        policy("p3", r#"["seg"]"#, "null", &refs(&seg_actions)),
    ];
    // Policies switch every 200 ms of virtual time.
    let sets: [&[&str]; 4] = [&["p0", "p1", "p2", "p3"], &["p1", "p2"], &["p0", "p3"], &[]];
    let timeline: Vec<(u64, Vec<String>)> = (1..2000u64)
        .map(|i| {
            (
                i * 200 * MS,
                sets[(i % 4) as usize]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )
        })
        .collect();
    let up = link(
        Some(100_000_000),
        10 * MS,
        MS,
        0.01,
        r#""queue_bytes":200000,"queue_packets":null"#,
        "codel",
    );
    let down = link(
        Some(200_000_000),
        10 * MS,
        0,
        0.0,
        r#""queue_bytes":null,"queue_packets":300"#,
        "droptail",
    );
    (
        scenario_with_timeline(&classes, &policies, &up, &down, &timeline),
        timeline,
    )
}

struct FuzzResult {
    packets: u64,
    totals: Totals,
    drops: [u64; Reason::ALL.len()],
    panics: Vec<String>,
    violations: Vec<String>,
}

fn fuzz_chunk(seed: u64, total: u64, s: &Scenario, timeline: &[(u64, Vec<String>)]) -> FuzzResult {
    let mut p = Pipeline::with_traces(
        s,
        Options {
            max_in_flight: 20_000,
            ..Options::default()
        },
        &no_traces,
    )
    .expect("fuzz pipeline");
    let mut src = Fuzz {
        rng: Rng::new(seed),
        templates: templates(),
        n: 0,
        total,
        t: 0,
        last: Vec::new(),
    };
    let mut emitted = 0u64;
    let mut per_tag_extra = 0u64;
    let mut seen = std::collections::HashSet::new();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        sim::run(&mut p, &mut src, timeline, &mut |k: &Pkt| {
            emitted += 1;
            if k.tag != TAG_INJECTED {
                // Tags are unique per fed packet; more emissions than one per tag must
                // be explained by duplicates.
                if !seen.insert(k.tag) {
                    per_tag_extra += 1;
                }
            }
            black_box(k.ip().len());
        })
    }));
    let mut r = FuzzResult {
        packets: src.n,
        totals: p.stats.totals,
        drops: p.stats.drops,
        panics: Vec::new(),
        violations: Vec::new(),
    };
    match outcome {
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let hex: String = src.last.iter().map(|b| format!("{b:02x}")).collect();
            r.panics.push(format!(
                "seed {seed} packet {} at {} ns: {msg}; last packet {hex}",
                src.n, src.t
            ));
        }
        Ok(Err(e)) => r.violations.push(format!("seed {seed}: run failed: {e}")),
        Ok(Ok(())) => {
            let t = p.stats.totals;
            if t.entered != src.n {
                r.violations.push(format!(
                    "seed {seed}: fed {} but entered {}",
                    src.n, t.entered
                ));
            }
            if t.emitted != emitted {
                r.violations.push(format!(
                    "seed {seed}: {emitted} emitted but counted {}",
                    t.emitted
                ));
            }
            if t.entered + t.duplicated + t.injected != t.emitted + t.dropped + t.in_flight
                || t.in_flight != 0
            {
                r.violations
                    .push(format!("seed {seed}: conservation broken: {t:?}"));
            }
            if per_tag_extra > t.duplicated {
                r.violations.push(format!(
                    "seed {seed}: {per_tag_extra} repeated emissions but {} duplicates",
                    t.duplicated
                ));
            }
        }
    }
    r
}

fn bench_fuzz(r: &mut Report, total: u64) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    const CHUNK: u64 = 250_000;
    let chunks = total.div_ceil(CHUNK);
    // Panics are caught and reported with a reproducer; keep the default hook quiet.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let t0 = Instant::now();
    let results: Vec<FuzzResult> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|th| {
                sc.spawn(move || {
                    let (s, timeline) = fuzz_scenario();
                    (0..chunks)
                        .filter(|c| c % threads as u64 == th)
                        .map(|c| fuzz_chunk(0xf022 + c, CHUNK, &s, &timeline))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("fuzz thread"))
            .collect()
    });
    let secs = t0.elapsed().as_secs_f64();
    panic::set_hook(hook);
    let packets: u64 = results.iter().map(|x| x.packets).sum();
    let panics: Vec<&String> = results.iter().flat_map(|x| &x.panics).collect();
    let violations: Vec<&String> = results.iter().flat_map(|x| &x.violations).collect();
    let list = |v: &[&String]| {
        let mut o = String::from("[");
        for (i, s) in v.iter().take(5).enumerate() {
            if i > 0 {
                o.push(',');
            }
            write_str(&mut o, s);
        }
        o.push(']');
        o
    };
    let mut t = Totals::default();
    let mut drops = [0u64; Reason::ALL.len()];
    for x in &results {
        t.entered += x.totals.entered;
        t.emitted += x.totals.emitted;
        t.dropped += x.totals.dropped;
        t.duplicated += x.totals.duplicated;
        t.injected += x.totals.injected;
        for (d, n) in drops.iter_mut().zip(x.drops) {
            *d += n;
        }
    }
    let mut by_reason = String::from("{");
    for (i, reason) in Reason::ALL.iter().enumerate() {
        if i > 0 {
            by_reason.push(',');
        }
        write_str(&mut by_reason, reason.as_str());
        let _ = write!(by_reason, ":{}", drops[i]);
    }
    by_reason.push('}');
    let ok = panics.is_empty() && violations.is_empty() && packets >= 10_000_000;
    r.emit(
        "fuzz_packets_per_s",
        &format!("{}M packets, {threads} threads", packets / 1_000_000),
        (packets as f64 / secs).round(),
        "packets/s",
        Target::Holds(ok, ">=10M, no panic, conserved"),
        &[
            ("packets", packets.to_string()),
            ("seconds", num(secs)),
            ("threads", threads.to_string()),
            ("entered", t.entered.to_string()),
            ("emitted", t.emitted.to_string()),
            ("dropped", t.dropped.to_string()),
            ("duplicated", t.duplicated.to_string()),
            ("injected", t.injected.to_string()),
            ("drops", by_reason),
            ("panics", panics.len().to_string()),
            ("violations", violations.len().to_string()),
            ("panic_details", list(&panics)),
            ("violation_details", list(&violations)),
        ],
    );
}

// ---- 5. rate accuracy ----------------------------------------------------------------------------

/// A constant stream of same-size UDP packets.
struct Constant {
    pkt: Vec<u8>,
    interval: u64,
    n: u64,
    total: u64,
    dir: Dir,
}

impl Source for Constant {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)> {
        if self.n >= self.total {
            return None;
        }
        buf.clear();
        buf.extend_from_slice(&self.pkt);
        let t = self.n * self.interval;
        self.n += 1;
        Some((t, self.dir, self.n as u32 - 1))
    }
}

fn udp_packet(ip_len: usize) -> Vec<u8> {
    let mut b = Vec::new();
    build_udp(&mut b, client(1), server(1), &vec![0; ip_len - 28]);
    b
}

fn bench_rate(r: &mut Report) {
    const SIZE: usize = 1500;
    const OFFERED: u64 = 30_000;
    let rates: [(u64, &str); 6] = [
        (64_000, "64k"),
        (128_000, "128k"),
        (1_000_000, "1m"),
        (10_000_000, "10m"),
        (100_000_000, "100m"),
        (1_000_000_000, "1g"),
    ];
    for via in ["action", "link"] {
        for (bps, name) in rates {
            let (policies, up) = if via == "action" {
                let a = action(
                    "rate",
                    &format!(
                        r#""rate_bps":{bps},"queue_bytes":null,"queue_packets":100,"aqm":"droptail""#
                    ),
                );
                (vec![policy("p0", "[]", "null", &[&a])], NO_LINK.to_string())
            } else {
                (
                    vec![],
                    link(
                        Some(bps),
                        0,
                        0,
                        0.0,
                        r#""queue_bytes":null,"queue_packets":100"#,
                        "droptail",
                    ),
                )
            };
            let s = scenario(&[], &policies, &up, NO_LINK);
            let mut p = pipeline(&s);
            // Offered at 1.5x the rate: the queue never empties.
            let interval = (SIZE as u64 * 8 * S).div_ceil(bps * 3 / 2);
            let mut src = Constant {
                pkt: udp_packet(SIZE),
                interval,
                n: 0,
                total: OFFERED,
                dir: Dir::Up,
            };
            let mut times = Vec::new();
            sim::run(&mut p, &mut src, &[], &mut |k| {
                times.push((k.stage_at, k.len()))
            })
            .expect("run");
            // Bytes after the first delivery over the time from the first to the last:
            // exact for a server that never idles.
            let first = times.first().map_or(0, |x| x.0);
            let last = times.last().map_or(0, |x| x.0);
            let bytes: usize = times.iter().skip(1).map(|x| x.1).sum();
            let achieved = bytes as f64 * 8.0 * S as f64 / (last - first).max(1) as f64;
            let ratio = achieved / bps as f64;
            let err = (ratio - 1.0).abs();
            r.emit(
                "rate_ratio",
                &format!("{via} {name}"),
                (ratio * 1e6).round() / 1e6,
                "achieved/configured",
                Target::Holds(err <= 0.01, "error <= 1%"),
                &[
                    ("via", format!("{via:?}")),
                    ("configured_bps", bps.to_string()),
                    ("achieved_bps", num(achieved.round())),
                    ("error", num(err)),
                    ("delivered", times.len().to_string()),
                    ("offered", OFFERED.to_string()),
                    ("virtual_s", num((last - first) as f64 / S as f64)),
                ],
            );
        }
    }
}

// ---- 6. delay accuracy -----------------------------------------------------------------------------

fn bench_delay(r: &mut Report) {
    const DELAY: u64 = 20 * MS;
    const PACKETS: u64 = 200_000;
    for via in ["action", "link"] {
        let (policies, up) = if via == "action" {
            let a = action(
                "delay",
                &format!(
                    r#""time_ns":{DELAY},"jitter_ns":0,"distribution":"uniform","correlation":0,"reorder":false"#
                ),
            );
            (vec![policy("p0", "[]", "null", &[&a])], NO_LINK.to_string())
        } else {
            (
                vec![],
                link(
                    None,
                    DELAY,
                    0,
                    0.0,
                    r#""queue_bytes":null,"queue_packets":null"#,
                    "droptail",
                ),
            )
        };
        let s = scenario(&[], &policies, &up, NO_LINK);
        let mut p = pipeline(&s);
        // Irregular arrivals (0–200 µs apart) over 100 UDP flows.
        let mut rng = Rng::new(5);
        let mut sent = Vec::with_capacity(PACKETS as usize);
        let mut t = 0;
        let pkts: Vec<Vec<u8>> = (0..100)
            .map(|i| {
                let mut b = Vec::new();
                build_udp(&mut b, client(i), server(i), &[0; 172]);
                b
            })
            .collect();
        let mut list = Vec::with_capacity(PACKETS as usize);
        for k in 0..PACKETS {
            t += rng.below(200 * US);
            sent.push(t);
            list.push((t, (k % 100) as usize));
        }
        struct L<'a>(&'a [(u64, usize)], &'a [Vec<u8>], usize);
        impl Source for L<'_> {
            fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)> {
                let (t, f) = *self.0.get(self.2)?;
                buf.clear();
                buf.extend_from_slice(&self.1[f]);
                self.2 += 1;
                Some((t, Dir::Up, self.2 as u32 - 1))
            }
        }
        let mut errors = Vec::with_capacity(PACKETS as usize);
        sim::run(&mut p, &mut L(&list, &pkts, 0), &[], &mut |k| {
            let d = k.stage_at - sent[k.tag as usize];
            errors.push(d.abs_diff(DELAY));
        })
        .expect("run");
        errors.sort_unstable();
        let ms = |ns: u64| ns as f64 / MS as f64;
        let p99 = ms(percentile(&errors, 0.99));
        let extra = [
            ("via", format!("{via:?}")),
            ("configured_ms", num(ms(DELAY))),
            ("delivered", errors.len().to_string()),
            ("max_error_ms", num(ms(errors.last().copied().unwrap_or(0)))),
            ("timer_error_included", "false".into()),
        ];
        r.emit(
            "delay_error_ms",
            &format!("{via} 20 ms, p50"),
            ms(percentile(&errors, 0.5)),
            "ms",
            Target::None,
            &extra,
        );
        r.emit(
            "delay_error_ms",
            &format!("{via} 20 ms, p99"),
            p99,
            "ms",
            Target::AtMost(0.1),
            &extra,
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let fuzz_total = args
        .iter()
        .position(|a| a == "--fuzz-packets")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000u64);
    let quic_fuzz_total = args
        .iter()
        .position(|a| a == "--quic-fuzz-initials")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000u64);
    let mut r = Report { json, missed: 0 };
    if args.iter().any(|a| a == "--quic-only") {
        // The ClientHello classifier and the QUIC measurements alone.
        bench_classify(&mut r);
        quic_part::bench_quic_classify(&mut r);
        quic_part::bench_quic_fuzz(&mut r, quic_fuzz_total);
        return;
    }
    if args.iter().any(|a| a == "--memory-only") {
        // The bytes-per-flow rows alone (no timing, so no need for a quiet machine).
        bench_memory(&mut r);
        return;
    }
    bench_pipeline(&mut r);
    bench_classify(&mut r);
    quic_part::bench_quic_classify(&mut r);
    bench_memory(&mut r);
    bench_rate(&mut r);
    bench_delay(&mut r);
    bench_fuzz(&mut r, fuzz_total);
    quic_part::bench_quic_fuzz(&mut r, quic_fuzz_total);
    if !json {
        println!("{} target(s) missed", r.missed);
    }
}

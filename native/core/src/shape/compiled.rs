//! The compiled configuration (src/scenario/compiled.ts, `CompiledConfig`) as the core
//! reads it. Every field of the TypeScript type is read and checked; unknown keys are
//! errors naming their path. Actions are parsed by their own files through the registry
//! in action/mod.rs, so this file does not change when an action is added; the types it
//! shares with actions and links (`Direction`, `Aqm`, `ActionSpec`) live in spec.rs.

use super::action;
use super::fields::Fields;
use super::spec::{ActionSpec, Aqm, Direction};
use crate::config::json::Value;
use crate::config::prefix::Prefix;
use crate::error::Error;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `tcp` | `udp` | `icmp` as IP protocol numbers (icmp covers ICMPv6 too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    fn from_index(i: usize) -> Proto {
        [Proto::Tcp, Proto::Udp, Proto::Icmp][i]
    }
    const NAMES: [&'static str; 3] = ["tcp", "udp", "icmp"];
    pub fn of(p: &crate::wire::packet::Parsed) -> Option<Proto> {
        if p.is_tcp() {
            Some(Proto::Tcp)
        } else if p.is_udp() {
            Some(Proto::Udp)
        } else if p.is_icmp() {
            Some(Proto::Icmp)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinkSpec {
    pub rate_bps: Option<u64>,
    pub trace_file: Option<String>,
    pub delay_ns: u64,
    pub jitter_ns: u64,
    pub loss: f64,
    pub queue_bytes: Option<u64>,
    pub queue_packets: Option<u64>,
    pub aqm: Aqm,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub names: Vec<String>,
    pub address: Ipv4Addr,
    pub address6: Option<Ipv6Addr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuicSpec {
    pub version: Option<u32>,
    pub min_size_bytes: Option<u64>,
}

/// One byte rule of a `payload` matcher: `(payload[offset..] & mask) == value & mask`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteRule {
    pub offset: usize,
    pub value: Vec<u8>,
    /// Same length as `value`; all 0xff when the scenario gives no mask.
    pub mask: Vec<u8>,
}

/// `payload`: byte rules over the transport payload and its size (inclusive bounds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayloadSpec {
    pub rules: Vec<ByteRule>,
    pub size_min: Option<u64>,
    pub size_max: Option<u64>,
}

impl PayloadSpec {
    /// ValdikSS's reading of the TSPU's QUIC rule (payload over 1000 bytes and
    /// int32be at byte 1 == 1, whatever byte 0 holds), as the tests and the bench use it;
    /// scenarios write it in YAML.
    pub fn tspu_quic_v1() -> PayloadSpec {
        PayloadSpec {
            rules: vec![ByteRule {
                offset: 1,
                value: vec![0, 0, 0, 1],
                mask: vec![0xff; 4],
            }],
            size_min: Some(1001),
            size_max: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatcherSpec {
    pub sni: Option<Vec<String>>,
    /// ALPN globs: one of the ClientHello's ALPN values matches one of them.
    pub alpn: Option<Vec<String>>,
    /// The ClientHello carries (true) or lacks (false) encrypted_client_hello (0xfe0d).
    pub ech: Option<bool>,
    /// JA4 fingerprint globs.
    pub ja4: Option<Vec<String>>,
    pub hosts: Option<Vec<Prefix>>,
    pub cidr: Option<Vec<Prefix>>,
    pub tcp_ports: Option<Vec<(u16, u16)>>,
    pub udp_ports: Option<Vec<(u16, u16)>>,
    pub proto: Option<Vec<Proto>>,
    pub quic: Option<QuicSpec>,
    pub stun: bool,
    pub payload: Option<PayloadSpec>,
    pub inspect_packets: u32,
    /// `reassembly: segments`.
    pub reassemble: bool,
    /// `initiator: any`.
    pub any_initiator: bool,
}

impl MatcherSpec {
    /// Keys read from payloads (decided over the inspection window, not at once).
    pub fn has_payload_keys(&self) -> bool {
        self.sni.is_some()
            || self.alpn.is_some()
            || self.ech.is_some()
            || self.ja4.is_some()
            || self.quic.is_some()
            || self.stun
            || self.payload.is_some()
    }

    /// The defaults compiled.ts documents, for tests and hand-built configs.
    pub fn new() -> MatcherSpec {
        MatcherSpec {
            inspect_packets: 1,
            ..MatcherSpec::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClassSpec {
    pub name: String,
    pub any_of: Vec<MatcherSpec>,
}

#[derive(Debug)]
pub struct PolicySpec {
    pub name: String,
    pub classes: Vec<String>,
    pub except_classes: Vec<String>,
    /// `undecided: { hold }`: how long an undecided flow's payload packets wait for the
    /// verdict (pipeline.rs, hold.rs). None: they pass.
    pub undecided_hold_ns: Option<u64>,
    pub proto: Option<Proto>,
    pub direction: Direction,
    pub idle_timeout_ns: Option<u64>,
    pub actions: Vec<ActionSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at_ns: u64,
    pub phase: String,
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    pub active: Vec<String>,
}

#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub duration_ns: u64,
    pub mtu: u32,
    pub ipv6: bool,
    pub uplink: LinkSpec,
    pub downlink: LinkSpec,
    pub hosts: Vec<Host>,
    pub classes: Vec<ClassSpec>,
    pub policies: Vec<PolicySpec>,
    pub timeline: Vec<TimelineEntry>,
}

/// Classes and policies are bitmasks in the hot path.
pub const MAX_CLASSES: usize = 64;
pub const MAX_POLICIES: usize = 64;

impl Scenario {
    pub fn parse_json(json: &str) -> Result<Scenario, Error> {
        let v = Value::parse(json)
            .map_err(|e| Error::bad_config(format!("scenario is not valid JSON: {e}")))?;
        Scenario::from_value(&v, "scenario")
    }

    pub fn from_value(v: &Value, path: &str) -> Result<Scenario, Error> {
        let mut f = Fields::new(v, path)?;
        let format = f.u64("format")?;
        if format != 1 {
            return Err(Error::bad_config(format!(
                "{}: this core reads compiled format 1, got {format}",
                f.at("format")
            )));
        }
        let name = f.str("name")?.to_owned();
        let seed = f.u64("seed")?;
        let duration_ns = f.u64("duration_ns")?;
        let (mtu, ipv6, uplink, downlink) = parse_network(f.value("network")?, &f.at("network"))?;
        let hosts = list(f.array("hosts")?, &f.at("hosts"), parse_host)?;
        let classes = list(f.array("classes")?, &f.at("classes"), parse_class)?;
        let policies = list(f.array("policies")?, &f.at("policies"), parse_policy)?;
        let timeline = list(f.array("timeline")?, &f.at("timeline"), parse_timeline)?;
        // The orchestrator's parts: read so that their presence is checked, not used.
        f.array("workloads")?;
        f.array("expect")?;
        // The capture reaches the core through the lab configuration (config/lab.rs).
        f.ignore("capture");
        f.value("dns")?;
        f.finish()?;
        let s = Scenario {
            name,
            seed,
            duration_ns,
            mtu,
            ipv6,
            uplink,
            downlink,
            hosts,
            classes,
            policies,
            timeline,
        };
        s.check_names(path)?;
        Ok(s)
    }

    /// Names referenced by policies and the timeline must exist; limits hold.
    fn check_names(&self, path: &str) -> Result<(), Error> {
        if self.classes.len() > MAX_CLASSES || self.policies.len() > MAX_POLICIES {
            return Err(Error::bad_config(format!(
                "{path}: at most {MAX_CLASSES} classes and {MAX_POLICIES} policies are supported"
            )));
        }
        for (i, p) in self.policies.iter().enumerate() {
            for c in p.classes.iter().chain(&p.except_classes) {
                if self.class_index(c).is_none() {
                    return Err(Error::bad_config(format!(
                        "{path}.policies[{i}]: unknown class {c:?}"
                    )));
                }
            }
        }
        for (i, t) in self.timeline.iter().enumerate() {
            for n in t.active.iter().chain(&t.enable).chain(&t.disable) {
                if self.policy_index(n).is_none() {
                    return Err(Error::bad_config(format!(
                        "{path}.timeline[{i}]: unknown policy {n:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }

    pub fn policy_index(&self, name: &str) -> Option<usize> {
        self.policies.iter().position(|p| p.name == name)
    }

    /// The policies in force at time `t` per the timeline (none before its first entry;
    /// compile.ts always emits one at 0).
    pub fn active_at(&self, t: u64) -> Vec<String> {
        self.timeline
            .iter()
            .take_while(|e| e.at_ns <= t)
            .last()
            .map(|e| e.active.clone())
            .unwrap_or_default()
    }

    /// A scenario with nothing in it (tests build on it).
    pub fn empty() -> Scenario {
        Scenario {
            name: "test".into(),
            seed: 1,
            duration_ns: 60_000_000_000,
            mtu: 1500,
            ipv6: true,
            uplink: LinkSpec::default(),
            downlink: LinkSpec::default(),
            hosts: Vec::new(),
            classes: Vec::new(),
            policies: Vec::new(),
            timeline: Vec::new(),
        }
    }
}

fn list<T>(
    items: &[Value],
    path: &str,
    parse: impl Fn(&Value, &str) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| parse(v, &format!("{path}[{i}]")))
        .collect()
}

fn parse_network(v: &Value, path: &str) -> Result<(u32, bool, LinkSpec, LinkSpec), Error> {
    let mut f = Fields::new(v, path)?;
    let mtu = f.u64("mtu")?;
    if !(68..=65535).contains(&mtu) {
        return Err(Error::bad_config(format!(
            "{}: expected 68..=65535, got {mtu}",
            f.at("mtu")
        )));
    }
    let ipv6 = f.bool("ipv6")?;
    // The orchestrator's: set in the namespaces' kernels, not the core's business.
    f.opt_str("tcp_congestion")?;
    let up = parse_link(f.value("uplink")?, &f.at("uplink"))?;
    let down = parse_link(f.value("downlink")?, &f.at("downlink"))?;
    f.finish()?;
    Ok((mtu as u32, ipv6, up, down))
}

pub fn parse_link(v: &Value, path: &str) -> Result<LinkSpec, Error> {
    let mut f = Fields::new(v, path)?;
    let l = LinkSpec {
        rate_bps: f.opt_u64("rate_bps")?,
        trace_file: f.opt_str("trace_file")?.map(str::to_owned),
        delay_ns: f.u64("delay_ns")?,
        jitter_ns: f.u64("jitter_ns")?,
        loss: f.prob("loss")?,
        queue_bytes: f.opt_u64("queue_bytes")?,
        queue_packets: f.opt_u64("queue_packets")?,
        aqm: Aqm::parse(&mut f, "aqm")?,
    };
    if l.rate_bps == Some(0) {
        return Err(Error::bad_config(format!(
            "{path}.rate_bps: must be > 0 or null"
        )));
    }
    f.finish()?;
    Ok(l)
}

fn parse_host(v: &Value, path: &str) -> Result<Host, Error> {
    let mut f = Fields::new(v, path)?;
    let name = f.str("name")?.to_owned();
    let names = f.strings("names")?;
    let a = f.str("address")?;
    let address = a.parse().map_err(|_| {
        Error::bad_config(format!("{}: not an IPv4 address: {a:?}", f.at("address")))
    })?;
    let address6 = match f.opt_str("address6")? {
        None => None,
        Some(a) => Some(a.parse().map_err(|_| {
            Error::bad_config(format!("{}: not an IPv6 address: {a:?}", f.at("address6")))
        })?),
    };
    f.finish()?;
    Ok(Host {
        name,
        names,
        address,
        address6,
    })
}

fn parse_class(v: &Value, path: &str) -> Result<ClassSpec, Error> {
    let mut f = Fields::new(v, path)?;
    let name = f.str("name")?.to_owned();
    let any_of = list(f.array("any_of")?, &f.at("any_of"), parse_matcher)?;
    f.finish()?;
    Ok(ClassSpec { name, any_of })
}

fn prefixes(f: &mut Fields<'_>, key: &str) -> Result<Option<Vec<Prefix>>, Error> {
    let path = f.at(key);
    let Some(items) = f.opt_strings(key)? else {
        return Ok(None);
    };
    items
        .iter()
        .enumerate()
        .map(|(i, s)| Prefix::parse(s).map_err(|e| Error::bad_config(format!("{path}[{i}]: {e}"))))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn port_ranges(f: &mut Fields<'_>, key: &str) -> Result<Option<Vec<(u16, u16)>>, Error> {
    let path = f.at(key);
    let Some(items) = f.opt_array(key)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let pair = item
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| Error::bad_config(format!("{p}: expected [low, high], got {item}")))?;
        let lo = super::fields::as_u64(&pair[0], &p)?;
        let hi = super::fields::as_u64(&pair[1], &p)?;
        if lo == 0 || hi > 65535 || lo > hi {
            return Err(Error::bad_config(format!(
                "{p}: expected 1 <= low <= high <= 65535"
            )));
        }
        out.push((lo as u16, hi as u16));
    }
    Ok(Some(out))
}

fn parse_hex(s: &str, path: &str) -> Result<Vec<u8>, Error> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::bad_config(format!(
            "{path}: expected an even number of hex digits, got {s:?}"
        )));
    }
    Ok((0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect())
}

fn parse_payload(v: &Value, path: &str) -> Result<PayloadSpec, Error> {
    let mut f = Fields::new(v, path)?;
    let rules = list(f.array("rules")?, &f.at("rules"), |v, path| {
        let mut rf = Fields::new(v, path)?;
        let offset = rf.u64("offset")?;
        let value_path = rf.at("hex");
        let value = parse_hex(rf.str("hex")?, &value_path)?;
        let mask_path = rf.at("mask");
        let mask = match rf.opt_str("mask")? {
            None => vec![0xff; value.len()],
            Some(m) => parse_hex(m, &mask_path)?,
        };
        rf.finish()?;
        if value.is_empty() || mask.len() != value.len() || offset > 65535 {
            return Err(Error::bad_config(format!(
                "{path}: expected 1 or more bytes, a mask of the same length and offset <= 65535"
            )));
        }
        Ok(ByteRule {
            offset: offset as usize,
            value,
            mask,
        })
    })?;
    let spec = PayloadSpec {
        rules,
        size_min: f.opt_u64("size_min_bytes")?,
        size_max: f.opt_u64("size_max_bytes")?,
    };
    f.finish()?;
    Ok(spec)
}

fn parse_matcher(v: &Value, path: &str) -> Result<MatcherSpec, Error> {
    let mut f = Fields::new(v, path)?;
    let sni = f
        .opt_strings("sni")?
        .map(|v| v.into_iter().map(|s| s.to_ascii_lowercase()).collect());
    let hosts = prefixes(&mut f, "hosts")?;
    let cidr = prefixes(&mut f, "cidr")?;
    let tcp_ports = port_ranges(&mut f, "tcp_ports")?;
    let udp_ports = port_ranges(&mut f, "udp_ports")?;
    let proto = match f.opt_array("proto")? {
        None => None,
        Some(items) => {
            let p = f.at("proto");
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                let idx = it
                    .as_str()
                    .and_then(|s| Proto::NAMES.iter().position(|n| *n == s));
                out.push(Proto::from_index(idx.ok_or_else(|| {
                    Error::bad_config(format!("{p}[{i}]: expected tcp, udp or icmp, got {it}"))
                })?));
            }
            Some(out)
        }
    };
    let quic = match f.nullable("quic")? {
        None => None,
        Some(q) => {
            let mut qf = Fields::new(q, f.at("quic"))?;
            let version = qf.opt_u64("version")?;
            if version.is_some_and(|v| v > u64::from(u32::MAX)) {
                return Err(Error::bad_config(format!(
                    "{}: exceeds 32 bits",
                    qf.at("version")
                )));
            }
            let min_size_bytes = qf.opt_u64("min_size_bytes")?;
            qf.finish()?;
            Some(QuicSpec {
                version: version.map(|v| v as u32),
                min_size_bytes,
            })
        }
    };
    let stun = f.bool("stun")?;
    let alpn = f.opt_strings("alpn")?;
    let ech = match f.nullable("ech")? {
        None => None,
        Some(v) => Some(v.as_bool().ok_or_else(|| {
            Error::bad_config(format!(
                "{}: expected true, false or null, got {v}",
                f.at("ech")
            ))
        })?),
    };
    let ja4 = f.opt_strings("ja4")?;
    let payload = match f.nullable("payload")? {
        None => None,
        Some(p) => Some(parse_payload(p, &f.at("payload"))?),
    };
    let inspect = f.u64("inspect_packets")?;
    if inspect == 0 || inspect > 1_000_000 {
        return Err(Error::bad_config(format!(
            "{}: expected 1..=1000000",
            f.at("inspect_packets")
        )));
    }
    let reassemble = f.one_of("reassembly", &["none", "segments"])? == 1;
    let any_initiator = f.one_of("initiator", &["client", "any"])? == 1;
    f.finish()?;
    Ok(MatcherSpec {
        sni,
        alpn,
        ech,
        ja4,
        hosts,
        cidr,
        tcp_ports,
        udp_ports,
        proto,
        quic,
        stun,
        payload,
        inspect_packets: inspect as u32,
        reassemble,
        any_initiator,
    })
}

fn parse_policy(v: &Value, path: &str) -> Result<PolicySpec, Error> {
    let mut f = Fields::new(v, path)?;
    let name = f.str("name")?.to_owned();
    let classes = f.strings("classes")?;
    let except_classes = f.strings("except_classes")?;
    let undecided_hold_ns = f.absent_or_u64("undecided_hold_ns")?;
    let proto = match f.opt_str("proto")? {
        None => None,
        Some(s) => Some(Proto::from_index(
            Proto::NAMES.iter().position(|n| *n == s).ok_or_else(|| {
                Error::bad_config(format!(
                    "{}: expected tcp, udp, icmp or null, got {s:?}",
                    f.at("proto")
                ))
            })?,
        )),
    };
    let direction = Direction::parse(&mut f, "direction")?;
    let idle_timeout_ns = f.opt_u64("idle_timeout_ns")?;
    let actions = list(f.array("actions")?, &f.at("actions"), action::parse)?;
    f.finish()?;
    Ok(PolicySpec {
        name,
        classes,
        except_classes,
        undecided_hold_ns,
        proto,
        direction,
        idle_timeout_ns,
        actions,
    })
}

fn parse_timeline(v: &Value, path: &str) -> Result<TimelineEntry, Error> {
    let mut f = Fields::new(v, path)?;
    let e = TimelineEntry {
        at_ns: f.u64("at_ns")?,
        phase: f.str("phase")?.to_owned(),
        enable: f.strings("enable")?,
        disable: f.strings("disable")?,
        active: f.strings("active")?,
    };
    // The resolver's rules in force: the orchestrator's, read so the key is checked.
    f.strings("dns_active")?;
    f.finish()?;
    Ok(e)
}

#[cfg(test)]
mod test {
    use super::*;

    /// Every compiled scenario in `$QL_COMPILED_DIR` (written by the TypeScript compiler)
    /// loads, and builds a pipeline. Skipped without the variable.
    #[test]
    fn compiled_scenarios_from_typescript_load() {
        let Ok(dir) = std::env::var("QL_COMPILED_DIR") else {
            return;
        };
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let json = std::fs::read_to_string(&path).unwrap();
            let s = Scenario::parse_json(&json).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let read = |_: &str| crate::shape::trace::Trace::new(&[1, 2, 3]);
            crate::shape::Pipeline::with_traces(&s, Default::default(), &read)
                .unwrap_or_else(|e| panic!("{path:?}: {e}"));
            n += 1;
        }
        eprintln!("{n} compiled scenarios loaded");
    }

    #[test]
    fn errors_name_the_path() {
        let e = Scenario::parse_json(r#"{"format":2}"#).unwrap_err();
        assert!(e.message().contains("scenario.format"), "{e}");
        let e = Scenario::parse_json("{").unwrap_err();
        assert!(e.message().contains("not valid JSON"));
    }
}

//! The twin's input besides the compiled scenario: what each workload's application does,
//! as src/simulate/plan.ts writes it from the protocols' traits (`SimulationPlan` in
//! src/native/index.ts documents every key). Unknown keys are errors.

use super::cc::CcKind;
use crate::config::json::Value;
use crate::error::Error;
use crate::shape::fields::{as_u64, Fields};
use crate::shape::trace::TraceSet;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stamped messages paced each way over one connection (reconnecting with backoff).
    Messages,
    /// Objects requested back to back (bulk).
    Transfers,
    /// Voice frames at a fixed interval each way over UDP.
    Frames,
    /// A WebRTC call: RTP audio each way after ICE and DTLS.
    Rtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    Quic,
}

/// What the client's first bytes are without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    Http,
    Mqtt,
    Random,
}

#[derive(Debug, Clone)]
pub struct Tls {
    pub sni: String,
    pub alpn: Vec<String>,
}

/// A TURN relay a call's client reaches: over UDP, or over TCP (with TLS when named).
#[derive(Debug, Clone)]
pub struct Relay {
    pub server: SocketAddr,
    pub tcp: bool,
    pub tls_sni: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub kind: Kind,
    pub transport: Transport,
    pub client: IpAddr,
    pub server: SocketAddr,
    pub start: u64,
    pub stop: u64,
    pub interval: u64,
    pub size: u64,
    pub up: bool,
    pub down: bool,
    pub connections: u64,
    pub deadline: u64,
    pub tls: Option<Tls>,
    pub plain: Option<Plain>,
    /// Request/response bytes exchanged after TLS before the connection carries messages.
    pub opening: Vec<(u64, u64)>,
    /// Bytes around each message, client→server and server→client.
    pub framing: (u64, u64),
    /// Bytes the receiver answers each message with (up messages, down messages).
    pub reply: (u64, u64),
    /// A QUIC client that splits its ClientHello over two Initials (Chromium).
    pub split_hello: bool,
    /// rtp: the TURN relay the media goes through, if any.
    pub relay: Option<Relay>,
    /// What the lab's stacks add to a message's one-way time beyond the network.
    pub stack_ns: u64,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub until: u64,
    pub max_packets: u64,
    pub tcp: CcKind,
    /// The lab's own path (TUNs, the proxy's thread, the kernel): one-way delay and the
    /// rate it forwards at.
    pub lab_delay: u64,
    pub lab_rate: Option<u64>,
    pub workloads: Vec<Workload>,
    /// The traces the scenario names (the core opens no scenario path).
    pub traces: TraceSet,
}

/// Generated packets at most unless the plan says otherwise.
pub const DEFAULT_MAX_PACKETS: u64 = 2_000_000;

fn pair(v: &Value, path: &str) -> Result<(u64, u64), Error> {
    match v.as_array() {
        Some([a, b]) => Ok((
            as_u64(a, &format!("{path}[0]"))?,
            as_u64(b, &format!("{path}[1]"))?,
        )),
        _ => Err(Error::bad_config(format!("{path}: expected [up, down]"))),
    }
}

fn workload(v: &Value, path: &str) -> Result<Workload, Error> {
    let mut f = Fields::new(v, path)?;
    let name = f.str("name")?.to_string();
    let kind = [Kind::Messages, Kind::Transfers, Kind::Frames, Kind::Rtp]
        [f.one_of("kind", &["messages", "transfers", "frames", "rtp"])?];
    let transport = [Transport::Tcp, Transport::Udp, Transport::Quic]
        [f.one_of("transport", &["tcp", "udp", "quic"])?];
    let client: IpAddr = f
        .str("client")?
        .parse()
        .map_err(|_| Error::bad_config(format!("{}: expected an IP address", f.at("client"))))?;
    let server: SocketAddr = f
        .str("server")?
        .parse()
        .map_err(|_| Error::bad_config(format!("{}: expected address:port", f.at("server"))))?;
    if client.is_ipv4() != server.is_ipv4() {
        return Err(Error::bad_config(format!(
            "{path}: client and server must be the same family"
        )));
    }
    let start = f.u64("start_ns")?;
    let stop = f.u64("stop_ns")?;
    let interval = f.u64("interval_ns")?;
    if interval == 0 {
        return Err(Error::bad_config(format!(
            "{}: must be > 0",
            f.at("interval_ns")
        )));
    }
    let size = f.u64("size_bytes")?;
    let up = f.bool("up")?;
    let down = f.bool("down")?;
    let connections = f.u64("connections")?.max(1);
    let deadline = f.u64("deadline_ns")?;
    let tls = match f.nullable("tls")? {
        None => None,
        Some(t) => {
            let mut tf = Fields::new(t, f.at("tls"))?;
            let sni = tf.str("sni")?.to_string();
            let alpn = tf.strings("alpn")?;
            tf.finish()?;
            Some(Tls { sni, alpn })
        }
    };
    let plain = match f.nullable("plain")? {
        None => None,
        Some(_) => Some(
            [Plain::Http, Plain::Mqtt, Plain::Random]
                [f.one_of("plain", &["http", "mqtt-connect", "random"])?],
        ),
    };
    let opening = f
        .array("opening")?
        .iter()
        .enumerate()
        .map(|(i, v)| pair(v, &format!("{path}.opening[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let framing = pair(f.value("framing")?, &f.at("framing"))?;
    let reply = pair(f.value("reply")?, &f.at("reply"))?;
    let split_hello = f.bool("split_hello")?;
    let stack_ns = f.u64("stack_ns")?;
    let relay = match f.nullable("relay")? {
        None => None,
        Some(r) => {
            let mut rf = Fields::new(r, f.at("relay"))?;
            let at: SocketAddr = rf.str("server")?.parse().map_err(|_| {
                Error::bad_config(format!("{}: expected address:port", rf.at("server")))
            })?;
            let tcp = rf.one_of("transport", &["udp", "tcp", "tls"])? > 0;
            let tls_sni = rf.opt_str("tls_sni")?.map(str::to_string);
            rf.finish()?;
            Some(Relay {
                server: at,
                tcp,
                tls_sni,
            })
        }
    };
    f.finish()?;
    Ok(Workload {
        name,
        kind,
        transport,
        client,
        server,
        start,
        stop,
        interval,
        size,
        up,
        down,
        connections,
        deadline,
        tls,
        plain,
        opening,
        framing,
        reply,
        split_hello,
        relay,
        stack_ns,
    })
}

impl Plan {
    pub fn parse(text: &str, duration: u64) -> Result<Plan, Error> {
        let v = Value::parse(text)
            .map_err(|e| Error::bad_config(format!("plan is not valid JSON: {e}")))?;
        let mut f = Fields::new(&v, "plan")?;
        let until = f.absent_or_u64("until_ns")?.unwrap_or(duration);
        let max_packets = f
            .absent_or_u64("max_packets")?
            .unwrap_or(DEFAULT_MAX_PACKETS);
        let tcp = [CcKind::Cubic, CcKind::Bbr][f.one_of("tcp", &["cubic", "bbr"])?];
        let lab_delay = f.u64("lab_delay_ns")?;
        let lab_rate = f.opt_u64("lab_rate_bps")?;
        let traces = TraceSet::parse(f.absent_or_null("traces")?, "plan.traces")?;
        let workloads = f
            .array("workloads")?
            .iter()
            .enumerate()
            .map(|(i, w)| workload(w, &format!("plan.workloads[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        f.finish()?;
        Ok(Plan {
            until,
            max_packets,
            tcp,
            lab_delay,
            lab_rate,
            workloads,
            traces,
        })
    }
}

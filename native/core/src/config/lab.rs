//! The lab configuration as the TypeScript side sends it (NativeLabConfig in
//! src/native/index.ts), parsed once into typed values.

use crate::config::json::Value;
use crate::config::prefix::{Prefix, PrefixSet};
use crate::error::Error;
use crate::io::tun::check_name;
use crate::shape::compiled::Scenario;
use crate::shape::trace::TraceSet;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug)]
pub struct LabConfig {
    pub client_tun: String,
    pub server_tun: String,
    pub mtu: u32,
    pub offload: bool,
    pub lab_prefixes: PrefixSet,
    /// The compiled scenario (CompiledConfig in src/scenario/compiled.ts). Without one the
    /// lab only forwards; with one every packet goes through the shaping pipeline.
    pub scenario: Option<Scenario>,
    /// Meter every flow (shape/meter/; default true): off only so the bench can weigh
    /// what metering costs in the same run.
    pub flow_metrics: bool,
    /// Write a pcapng capture (drive/capture.rs); needs a scenario.
    pub capture: Option<CaptureSpec>,
    /// The traces the scenario names, read by the caller (the core opens no scenario path).
    pub traces: TraceSet,
}

/// The capture as configured; class names are resolved against the scenario when the
/// lab opens.
#[derive(Debug, Clone)]
pub struct CaptureSpec {
    pub path: PathBuf,
    pub snaplen: usize,
    pub file_bytes: u64,
    pub files: u32,
    pub classes: Vec<String>,
    /// Server address, IP protocol number, inclusive port range.
    pub endpoints: Vec<(IpAddr, u8, u16, u16)>,
}

const FIELDS: [&str; 9] = [
    "clientTun",
    "serverTun",
    "mtu",
    "offload",
    "labPrefixes",
    "scenario",
    "flowMetrics",
    "capture",
    "traces",
];

/// IPv4's minimum link MTU; IPv6 needs 1280 but a v4-only lab is legitimate.
const MIN_MTU: f64 = 68.0;
const MAX_MTU: f64 = 65535.0;

fn field<'a>(obj: &'a Value, name: &str) -> Result<&'a Value, Error> {
    obj.get(name)
        .ok_or_else(|| Error::bad_config(format!("config.{name} is missing")))
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> Error {
    Error::bad_config(format!(
        "config.{name} must be {expected}, got {}",
        got.kind()
    ))
}

fn tun_name(obj: &Value, name: &str) -> Result<String, Error> {
    let v = field(obj, name)?;
    let s = v.as_str().ok_or_else(|| wrong_type(name, "a string", v))?;
    check_name(s).map_err(|m| Error::bad_config(format!("config.{name}: {m}")))?;
    Ok(s.to_owned())
}

impl LabConfig {
    pub fn parse(json: &str) -> Result<LabConfig, Error> {
        let root = Value::parse(json)
            .map_err(|e| Error::bad_config(format!("config is not valid JSON: {e}")))?;
        let obj = root.as_object().ok_or_else(|| {
            Error::bad_config(format!("config must be an object, got {}", root.kind()))
        })?;
        // Unknown keys are refused: a misspelt option silently ignored is worse than an error.
        if let Some((k, _)) = obj.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err(Error::bad_config(format!(
                "config.{k} is not a known field (expected one of {})",
                FIELDS.join(", ")
            )));
        }

        let client_tun = tun_name(&root, "clientTun")?;
        let server_tun = tun_name(&root, "serverTun")?;
        if client_tun == server_tun {
            return Err(Error::bad_config(format!(
                "config.serverTun must differ from config.clientTun (both {client_tun:?})"
            )));
        }

        let v = field(&root, "mtu")?;
        let mtu = v.as_f64().ok_or_else(|| wrong_type("mtu", "a number", v))?;
        if mtu.fract() != 0.0 || !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(Error::bad_config(format!(
                "config.mtu must be an integer from {MIN_MTU} to {MAX_MTU}, got {mtu}"
            )));
        }

        let v = field(&root, "offload")?;
        let offload = v
            .as_bool()
            .ok_or_else(|| wrong_type("offload", "a boolean", v))?;

        let v = field(&root, "labPrefixes")?;
        let items = v
            .as_array()
            .ok_or_else(|| wrong_type("labPrefixes", "an array of CIDR strings", v))?;
        if items.is_empty() {
            return Err(Error::bad_config(
                "config.labPrefixes must not be empty: every packet would be dropped as not-lab",
            ));
        }
        let mut prefixes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let s = item
                .as_str()
                .ok_or_else(|| wrong_type(&format!("labPrefixes[{i}]"), "a string", item))?;
            let p = Prefix::parse(s)
                .map_err(|e| Error::bad_config(format!("config.labPrefixes[{i}]: {e}")))?;
            prefixes.push(p);
        }

        // Optional; `null` reads as absent too.
        let scenario = match root.get("scenario") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Scenario::from_value(v, "config.scenario")?),
        };

        let flow_metrics = match root.get("flowMetrics") {
            None | Some(Value::Null) => true,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| wrong_type("flowMetrics", "a boolean", v))?,
        };

        let capture = match root.get("capture") {
            None | Some(Value::Null) => None,
            Some(v) => Some(capture_spec(v)?),
        };
        if capture.is_some() && scenario.is_none() {
            return Err(Error::bad_config(
                "config.capture needs config.scenario (packets are captured in the pipeline)",
            ));
        }

        Ok(LabConfig {
            capture,
            flow_metrics,
            client_tun,
            server_tun,
            mtu: mtu as u32,
            offload,
            lab_prefixes: PrefixSet::new(prefixes),
            scenario,
            traces: TraceSet::parse(root.get("traces"), "config.traces")?,
        })
    }
}

/// `capture`: `{path, snaplen, fileBytes, files, classes, endpoints}`, every key present.
fn capture_spec(v: &Value) -> Result<CaptureSpec, Error> {
    use crate::shape::fields::Fields;
    let mut f = Fields::new(v, "config.capture")?;
    let path = PathBuf::from(f.str("path")?);
    let snaplen = f.u64("snaplen")?;
    let file_bytes = f.u64("fileBytes")?;
    let files = f.u64("files")?;
    if !(64..=262_144).contains(&snaplen) || file_bytes < 4096 || !(1..=10_000).contains(&files) {
        return Err(Error::bad_config(format!(
            "config.capture: snaplen 64..=262144 (got {snaplen}), fileBytes >= 4096 (got {file_bytes}), files 1..=10000 (got {files})"
        )));
    }
    let classes = f.strings("classes")?;
    let mut endpoints = Vec::new();
    for (i, e) in f.array("endpoints")?.iter().enumerate() {
        let at = format!("config.capture.endpoints[{i}]");
        let mut g = Fields::new(e, &at)?;
        let address: IpAddr = g
            .str("address")?
            .parse()
            .map_err(|_| Error::bad_config(format!("{at}.address: not an IP address")))?;
        let proto = [6u8, 17][g.one_of("proto", &["tcp", "udp"])?];
        let ports = g.array("ports")?;
        let port = |k: usize| {
            ports
                .get(k)
                .and_then(Value::as_f64)
                .filter(|p| p.fract() == 0.0 && (0.0..=65535.0).contains(p))
                .map(|p| p as u16)
                .ok_or_else(|| Error::bad_config(format!("{at}.ports: [low, high] expected")))
        };
        endpoints.push((address, proto, port(0)?, port(1)?));
        g.finish()?;
    }
    f.finish()?;
    Ok(CaptureSpec {
        path,
        snaplen: snaplen as usize,
        file_bytes,
        files: files as u32,
        classes,
        endpoints,
    })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::error::Code;

    const GOOD: &str = r#"{"clientTun":"qltc","serverTun":"qlts","mtu":1500,"offload":true,
        "labPrefixes":["198.18.0.0/15","fd71:6c61:6200::/48"]}"#;

    fn err(json: &str) -> String {
        let e = LabConfig::parse(json).unwrap_err();
        assert_eq!(e.code(), Code::BadConfig);
        e.message().to_owned()
    }

    fn with(key: &str, value: &str) -> String {
        let mut v = Value::parse(GOOD).unwrap();
        if let Value::Object(fields) = &mut v {
            fields.retain(|(k, _)| k != key);
            if !value.is_empty() {
                fields.push((key.to_owned(), Value::parse(value).unwrap()));
            }
        }
        v.to_string()
    }

    #[test]
    fn parses_a_good_config() {
        let c = LabConfig::parse(GOOD).unwrap();
        assert_eq!(c.client_tun, "qltc");
        assert_eq!(c.server_tun, "qlts");
        assert_eq!(c.mtu, 1500);
        assert!(c.offload);
        assert_eq!(c.lab_prefixes.prefixes().len(), 2);
        assert!(c.scenario.is_none());
        assert!(LabConfig::parse(&with("scenario", "null"))
            .unwrap()
            .scenario
            .is_none());
    }

    #[test]
    fn a_scenario_is_parsed_and_its_errors_are_located() {
        let s = crate::drive::shaper::test::scenario_json(
            "[]",
            crate::drive::shaper::test::LINK,
            crate::drive::shaper::test::LINK,
        );
        let c = LabConfig::parse(&with("scenario", &s)).unwrap();
        assert_eq!(c.scenario.unwrap().name, "t");
        let m = err(&with("scenario", "{}"));
        assert!(m.contains("config.scenario"), "{m}");
    }

    #[test]
    fn a_capture_is_read_and_needs_a_scenario() {
        let s = crate::drive::shaper::test::scenario_json(
            "[]",
            crate::drive::shaper::test::LINK,
            crate::drive::shaper::test::LINK,
        );
        let cap = r#"{"path":"/tmp/x.pcapng","snaplen":2048,"fileBytes":1000000,"files":3,
            "classes":["a"],"endpoints":[{"address":"198.19.1.1","proto":"udp","ports":[5000,5010]}]}"#;
        let json = with("scenario", &s);
        let mut v = Value::parse(&json).unwrap();
        if let Value::Object(fields) = &mut v {
            fields.push(("capture".into(), Value::parse(cap).unwrap()));
        }
        let c = LabConfig::parse(&v.to_string()).unwrap().capture.unwrap();
        assert_eq!((c.snaplen, c.file_bytes, c.files), (2048, 1_000_000, 3));
        assert_eq!(c.classes, vec!["a".to_owned()]);
        assert_eq!(
            c.endpoints,
            vec![("198.19.1.1".parse().unwrap(), 17, 5000, 5010)]
        );
        assert!(err(&with("capture", cap)).contains("needs config.scenario"));
        let small = cap.replace("2048", "10");
        let mut v = Value::parse(&json).unwrap();
        if let Value::Object(fields) = &mut v {
            fields.push(("capture".into(), Value::parse(&small).unwrap()));
        }
        assert!(err(&v.to_string()).contains("snaplen 64..=262144 (got 10)"));
    }

    #[test]
    fn traces_come_with_the_config_and_are_checked() {
        let c = LabConfig::parse(&with("traces", r#"{"/s/link.down":[1,2,5,1]}"#)).unwrap();
        assert!(c.traces.get("/s/link.down").is_ok());
        assert!(LabConfig::parse(GOOD).unwrap().traces.get("/s/x").is_err());
        assert!(err(&with("traces", "[]")).contains("config.traces must be an object"));
        let m = err(&with("traces", r#"{"/s/x":[5,1,1,1]}"#));
        assert!(m.contains(r#"config.traces["/s/x"]"#), "{m}");
    }

    #[test]
    fn errors_name_the_field() {
        assert!(err("{").contains("not valid JSON"));
        assert!(err("[]").contains("must be an object, got array"));
        assert!(err(&with("clientTun", "")).contains("config.clientTun is missing"));
        assert!(
            err(&with("clientTun", "7")).contains("config.clientTun must be a string, got number")
        );
        assert!(err(&with("serverTun", r#""way-too-long-name""#)).contains("config.serverTun"));
        assert!(err(&with("serverTun", r#""qltc""#)).contains("must differ"));
        assert!(err(&with("mtu", "1500.5")).contains("config.mtu"));
        assert!(err(&with("mtu", "10")).contains("config.mtu"));
        assert!(err(&with("mtu", "70000")).contains("config.mtu"));
        assert!(err(&with("offload", "1")).contains("config.offload must be a boolean"));
        assert!(err(&with("flowMetrics", "1")).contains("config.flowMetrics must be a boolean"));
        assert!(
            !LabConfig::parse(&with("flowMetrics", "false"))
                .unwrap()
                .flow_metrics
        );
        assert!(LabConfig::parse(GOOD).unwrap().flow_metrics);
        assert!(err(&with("labPrefixes", "[]")).contains("must not be empty"));
        assert!(err(&with("labPrefixes", r#""198.18.0.0/15""#))
            .contains("config.labPrefixes must be an array"));
        let m = err(&with("labPrefixes", r#"["198.18.0.0/15", "bogus"]"#));
        assert!(
            m.contains("config.labPrefixes[1]") && m.contains("bogus"),
            "{m}"
        );
        assert!(err(&with("mtuu", "1")).contains("config.mtuu is not a known field"));
    }
}

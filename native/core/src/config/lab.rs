//! The lab configuration as the TypeScript side sends it (NativeLabConfig in
//! src/native/index.ts), parsed once into typed values.

use crate::config::json::Value;
use crate::config::prefix::{Prefix, PrefixSet};
use crate::error::Error;
use crate::io::tun::check_name;
use crate::shape::compiled::Scenario;

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
}

const FIELDS: [&str; 7] = [
    "clientTun",
    "serverTun",
    "mtu",
    "offload",
    "labPrefixes",
    "scenario",
    "flowMetrics",
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

        Ok(LabConfig {
            flow_metrics,
            client_tun,
            server_tun,
            mtu: mtu as u32,
            offload,
            lab_prefixes: PrefixSet::new(prefixes),
            scenario,
        })
    }
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

//! Reading one JSON object of the compiled config with errors that name the path
//! (`scenario.policies[1].actions[0].rate_bps: expected ...`). Every key must be read:
//! `finish` refuses the ones nobody asked for, so a format change cannot be ignored.

use crate::config::json::Value;
use crate::error::Error;

pub struct Fields<'a> {
    path: String,
    obj: &'a [(String, Value)],
    used: Vec<bool>,
}

fn err(path: &str, msg: impl std::fmt::Display) -> Error {
    Error::bad_config(format!("{path}: {msg}"))
}

impl<'a> Fields<'a> {
    pub fn new(v: &'a Value, path: impl Into<String>) -> Result<Fields<'a>, Error> {
        let path = path.into();
        let obj = v
            .as_object()
            .ok_or_else(|| err(&path, format!("expected an object, got {}", v.kind())))?;
        Ok(Fields {
            path,
            obj,
            used: vec![false; obj.len()],
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The raw value of a required key.
    pub fn value(&mut self, key: &str) -> Result<&'a Value, Error> {
        match self.obj.iter().position(|(k, _)| k == key) {
            Some(i) => {
                self.used[i] = true;
                Ok(&self.obj[i].1)
            }
            None => Err(err(&self.at(key), "is missing")),
        }
    }

    /// A key the core does not use and may be absent (the orchestrator's own parts):
    /// marked read when present, so `finish` does not refuse it.
    pub fn ignore(&mut self, key: &str) {
        if let Some(i) = self.obj.iter().position(|(k, _)| k == key) {
            self.used[i] = true;
        }
    }

    /// A required key that may be `null`.
    pub fn nullable(&mut self, key: &str) -> Result<Option<&'a Value>, Error> {
        let v = self.value(key)?;
        Ok(if matches!(v, Value::Null) {
            None
        } else {
            Some(v)
        })
    }

    pub fn str(&mut self, key: &str) -> Result<&'a str, Error> {
        let v = self.value(key)?;
        v.as_str().ok_or_else(|| {
            err(
                &self.at(key),
                format!("expected a string, got {}", v.kind()),
            )
        })
    }

    pub fn opt_str(&mut self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.nullable(key)? {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| {
                err(
                    &self.at(key),
                    format!("expected a string or null, got {}", v.kind()),
                )
            }),
        }
    }

    pub fn bool(&mut self, key: &str) -> Result<bool, Error> {
        let v = self.value(key)?;
        v.as_bool().ok_or_else(|| {
            err(
                &self.at(key),
                format!("expected a boolean, got {}", v.kind()),
            )
        })
    }

    pub fn u64(&mut self, key: &str) -> Result<u64, Error> {
        let v = self.value(key)?;
        as_u64(v, &self.at(key))
    }

    pub fn opt_u64(&mut self, key: &str) -> Result<Option<u64>, Error> {
        let path = self.at(key);
        self.nullable(key)?.map(|v| as_u64(v, &path)).transpose()
    }

    /// A key that may be absent or `null` (added to the format later: the core's own
    /// tests and benchmarks write configs without it).
    pub fn absent_or_null(&mut self, key: &str) -> Result<Option<&'a Value>, Error> {
        if self.obj.iter().any(|(k, _)| k == key) {
            self.nullable(key)
        } else {
            Ok(None)
        }
    }

    /// `absent_or_null` for an integer.
    pub fn absent_or_u64(&mut self, key: &str) -> Result<Option<u64>, Error> {
        let path = self.at(key);
        self.absent_or_null(key)?
            .map(|v| as_u64(v, &path))
            .transpose()
    }

    /// A probability in 0..=1.
    pub fn prob(&mut self, key: &str) -> Result<f64, Error> {
        let v = self.value(key)?;
        match v.as_f64() {
            Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
            _ => Err(err(
                &self.at(key),
                format!("expected a number in 0..=1, got {v}"),
            )),
        }
    }

    /// One of a fixed set of strings; returns its index.
    pub fn one_of(&mut self, key: &str, options: &[&str]) -> Result<usize, Error> {
        let s = self.str(key)?;
        options.iter().position(|o| *o == s).ok_or_else(|| {
            err(
                &self.at(key),
                format!("expected one of {}, got {s:?}", options.join(", ")),
            )
        })
    }

    pub fn array(&mut self, key: &str) -> Result<&'a [Value], Error> {
        let v = self.value(key)?;
        v.as_array().ok_or_else(|| {
            err(
                &self.at(key),
                format!("expected an array, got {}", v.kind()),
            )
        })
    }

    pub fn opt_array(&mut self, key: &str) -> Result<Option<&'a [Value]>, Error> {
        match self.nullable(key)? {
            None => Ok(None),
            Some(v) => v.as_array().map(Some).ok_or_else(|| {
                err(
                    &self.at(key),
                    format!("expected an array or null, got {}", v.kind()),
                )
            }),
        }
    }

    pub fn strings(&mut self, key: &str) -> Result<Vec<String>, Error> {
        let path = self.at(key);
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    err(
                        &format!("{path}[{i}]"),
                        format!("expected a string, got {}", v.kind()),
                    )
                })
            })
            .collect()
    }

    pub fn opt_strings(&mut self, key: &str) -> Result<Option<Vec<String>>, Error> {
        if self.nullable(key)?.is_none() {
            return Ok(None);
        }
        self.strings(key).map(Some)
    }

    /// Refuse keys nobody read.
    pub fn finish(self) -> Result<(), Error> {
        match self.used.iter().position(|u| !u) {
            Some(i) => Err(err(
                &format!("{}.{}", self.path, self.obj[i].0),
                "is not a known field",
            )),
            None => Ok(()),
        }
    }
}

/// Integers up to 2^53 (what JSON numbers hold exactly).
pub fn as_u64(v: &Value, path: &str) -> Result<u64, Error> {
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0 => Ok(n as u64),
        _ => Err(err(
            path,
            format!("expected a non-negative integer, got {v}"),
        )),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_paths_in_errors() {
        let v = Value::parse(r#"{"a":1,"b":"x","c":null,"d":2.5,"e":true}"#).unwrap();
        let mut f = Fields::new(&v, "root").unwrap();
        assert_eq!(f.u64("a").unwrap(), 1);
        assert_eq!(f.opt_u64("c").unwrap(), None);
        assert!(f.u64("d").unwrap_err().message().contains("root.d"));
        assert!(f
            .u64("zz")
            .unwrap_err()
            .message()
            .contains("root.zz: is missing"));
        assert_eq!(f.one_of("b", &["y", "x"]).unwrap(), 1);
        let e = f.finish().unwrap_err();
        assert_eq!(e.message(), "root.e: is not a known field");
    }
}

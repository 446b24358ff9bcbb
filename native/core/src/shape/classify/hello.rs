//! The ClientHello keys — `sni`, `alpn`, `ech`, `ja4` — evaluated together: one parsed
//! ClientHello (from a TCP payload, a reassembled record or a flow's QUIC Initials)
//! is checked once against every matcher that asks, and `ok(i)` answers afterwards.

use super::sni::{glob_match, GlobSet};
use crate::shape::compiled::MatcherSpec;
use crate::wire::{ja4, tls::ClientHello};

#[derive(Debug, Default)]
struct Keys {
    sni: bool,
    alpn: Option<Vec<Box<[u8]>>>,
    ech: Option<bool>,
    ja4: Option<Vec<Box<[u8]>>>,
}

#[derive(Debug, Default)]
pub struct HelloKeys {
    /// Per matcher (indexed like the classifier's matchers).
    keys: Vec<Keys>,
    sni: GlobSet,
    any_ja4: bool,
    /// Results of the last `evaluate`, per matcher; scratch reused across packets.
    ok: Vec<bool>,
    hits: Vec<u32>,
    lower: Vec<u8>,
}

fn globs(list: &Option<Vec<String>>) -> Option<Vec<Box<[u8]>>> {
    list.as_ref()
        .map(|l| l.iter().map(|g| g.as_bytes().into()).collect())
}

impl HelloKeys {
    /// Register matcher `id` (ids are consecutive from 0).
    pub fn add(&mut self, id: u32, m: &MatcherSpec) {
        for g in m.sni.iter().flatten() {
            self.sni.insert(g, id);
        }
        self.any_ja4 |= m.ja4.is_some();
        self.keys.push(Keys {
            sni: m.sni.is_some(),
            alpn: globs(&m.alpn),
            ech: m.ech,
            ja4: globs(&m.ja4),
        });
        self.ok.push(false);
    }

    /// Whether matcher `i` has any ClientHello key.
    pub fn wants_hello(&self, i: usize) -> bool {
        let k = &self.keys[i];
        k.sni || k.alpn.is_some() || k.ech.is_some() || k.ja4.is_some()
    }

    /// Check one ClientHello (`None`: there is none in this packet) against every matcher.
    pub fn evaluate(&mut self, hello: Option<(&ClientHello, &[u8])>, quic: bool) {
        self.ok.iter_mut().for_each(|o| *o = false);
        let Some((h, buf)) = hello else {
            return;
        };
        self.hits.clear();
        if let Some(name) = h.sni(buf) {
            self.lower.clear();
            self.lower.extend(name.iter().map(u8::to_ascii_lowercase));
            self.sni.matches(&self.lower, &mut self.hits);
        }
        let fingerprint = self.any_ja4.then(|| ja4::ja4(h, buf, quic));
        for (i, k) in self.keys.iter().enumerate() {
            self.ok[i] = (!k.sni || self.hits.contains(&(i as u32)))
                && k.ech.is_none_or(|want| want == h.ech)
                && k.alpn
                    .as_ref()
                    .is_none_or(|gs| h.alpn(buf).any(|v| gs.iter().any(|g| glob_match(g, v))))
                && k.ja4.as_ref().is_none_or(|gs| {
                    let f = fingerprint.as_deref().unwrap_or_default().as_bytes();
                    gs.iter().any(|g| glob_match(g, f))
                });
        }
    }

    pub fn ok(&self, i: usize) -> bool {
        self.ok[i]
    }
}

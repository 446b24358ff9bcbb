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
        // JA4's first section costs a walk over the ClientHello; the whole fingerprint
        // two SHA-256 hashes more, taken only for a glob the first section cannot decide.
        let section_a = self.any_ja4.then(|| ja4::ja4_a(h, buf, quic));
        let mut fingerprint: Option<String> = None;
        for (i, k) in self.keys.iter().enumerate() {
            self.ok[i] = (!k.sni || self.hits.contains(&(i as u32)))
                && k.ech.is_none_or(|want| want == h.ech)
                && k.alpn
                    .as_ref()
                    .is_none_or(|gs| h.alpn(buf).any(|v| gs.iter().any(|g| glob_match(g, v))))
                && k.ja4.as_ref().is_none_or(|gs| {
                    let a = section_a.as_deref().unwrap_or_default().as_bytes();
                    gs.iter().any(|g| match prefix_glob(g, a.len()) {
                        Some(prefix) => a.starts_with(prefix),
                        None => {
                            let f = fingerprint.get_or_insert_with(|| ja4::ja4(h, buf, quic));
                            glob_match(g, f.as_bytes())
                        }
                    })
                });
        }
    }

    pub fn ok(&self, i: usize) -> bool {
        self.ok[i]
    }
}

/// For a glob that is a literal of at most `n` bytes followed by stars only (`q13d*`),
/// the literal: whether a string matches is whether its first `n` bytes start with it.
fn prefix_glob(g: &[u8], n: usize) -> Option<&[u8]> {
    let star = g.iter().position(|&c| c == b'*')?;
    (star <= n && g[star..].iter().all(|&c| c == b'*')).then(|| &g[..star])
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::tls::{build_client_hello, parse_client_hello};

    /// Deciding a glob on JA4's first section gives what matching the whole fingerprint
    /// gives, for the globs it applies to, and the others still see the whole one.
    #[test]
    fn ja4_globs_decided_by_the_first_section_agree_with_the_whole_fingerprint() {
        let rec = build_client_hello("a.example", &["h3"], false, 0);
        let h = parse_client_hello(&rec).unwrap();
        let full = ja4::ja4(&h, &rec, true);
        let a = ja4::ja4_a(&h, &rec, true);
        assert_eq!((a.len(), &full[..10]), (10, a.as_str()));
        for g in [
            "q13d*",
            "t13d*",
            "q*",
            "*",
            "q13d0*",
            "q13i*",
            "q13d0203h3**",
            "q13d0204h3*",
        ] {
            let g = g.as_bytes();
            let want = glob_match(g, full.as_bytes());
            let prefix = prefix_glob(g, a.len()).expect("a prefix glob");
            assert_eq!(
                a.as_bytes().starts_with(prefix),
                want,
                "{}",
                String::from_utf8_lossy(g)
            );
        }
        // These need the hashes: a literal past the first section, a star inside, none.
        for g in ["q13d0203h3_*", "q*_*", "*h3", &full] {
            assert_eq!(prefix_glob(g.as_bytes(), a.len()), None, "{g}");
        }
    }
}

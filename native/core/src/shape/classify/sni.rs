//! Compiled SNI globs. `*` matches any run of characters (dots included, or none).
//! Patterns are sorted by shape so that a lookup costs a few hash probes however many
//! patterns there are: exact names in one map, `*literal` patterns in a map of suffixes
//! probed once per distinct suffix length, `literal*` likewise for prefixes, substring
//! patterns `*literal*` (3+ bytes) indexed by their first three bytes and probed once per
//! position of the name, and only the remaining general globs (`a*b`, `*ab*`) are tried
//! one by one.

use crate::shape::hash::{self, FxMap};

/// A substring pattern's literal and its id.
type Literal = (Box<[u8]>, u32);

#[derive(Debug, Default)]
pub struct GlobSet {
    exact: FxMap<Box<[u8]>, Vec<u32>>,
    suffix: FxMap<Box<[u8]>, Vec<u32>>,
    suffix_lens: Vec<usize>,
    prefix: FxMap<Box<[u8]>, Vec<u32>>,
    prefix_lens: Vec<usize>,
    /// `*literal*` by the literal's first three bytes.
    substr: FxMap<u32, Vec<Literal>>,
    general: Vec<(Box<[u8]>, u32)>,
}

/// Match `name` against a glob with `*` only (the classic greedy-with-backtrack walk;
/// linear in practice, O(n·m) at worst, and never recursive).
pub fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn add(map: &mut FxMap<Box<[u8]>, Vec<u32>>, lens: Option<&mut Vec<usize>>, key: &[u8], id: u32) {
    map.entry(key.into()).or_default().push(id);
    if let Some(lens) = lens {
        if !lens.contains(&key.len()) {
            lens.push(key.len());
            lens.sort_unstable();
        }
    }
}

/// The first three bytes as a key (callers guarantee at least three).
fn gram(b: &[u8]) -> u32 {
    u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2])
}

impl GlobSet {
    pub fn new() -> GlobSet {
        GlobSet {
            exact: hash::map(),
            suffix: hash::map(),
            prefix: hash::map(),
            substr: hash::map(),
            ..GlobSet::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
            && self.suffix.is_empty()
            && self.prefix.is_empty()
            && self.general.is_empty()
    }

    /// Add a (lowercase) pattern answering with `id`.
    pub fn insert(&mut self, pattern: &str, id: u32) {
        let p = pattern.as_bytes();
        let stars = p.iter().filter(|&&c| c == b'*').count();
        match stars {
            0 => add(&mut self.exact, None, p, id),
            1 if p[0] == b'*' => add(&mut self.suffix, Some(&mut self.suffix_lens), &p[1..], id),
            1 if p[p.len() - 1] == b'*' => add(
                &mut self.prefix,
                Some(&mut self.prefix_lens),
                &p[..p.len() - 1],
                id,
            ),
            2 if p.len() >= 5 && p[0] == b'*' && p[p.len() - 1] == b'*' => {
                let lit = &p[1..p.len() - 1];
                self.substr
                    .entry(gram(lit))
                    .or_default()
                    .push((lit.into(), id));
            }
            _ => self.general.push((p.into(), id)),
        }
    }

    /// Push the ids of every pattern matching `name` (lowercase) into `out`.
    pub fn matches(&self, name: &[u8], out: &mut Vec<u32>) {
        if let Some(ids) = self.exact.get(name) {
            out.extend_from_slice(ids);
        }
        for &n in &self.suffix_lens {
            if n > name.len() {
                break;
            }
            if let Some(ids) = self.suffix.get(&name[name.len() - n..]) {
                out.extend_from_slice(ids);
            }
        }
        for &n in &self.prefix_lens {
            if n > name.len() {
                break;
            }
            if let Some(ids) = self.prefix.get(&name[..n]) {
                out.extend_from_slice(ids);
            }
        }
        if !self.substr.is_empty() {
            for i in 0..name.len().saturating_sub(2) {
                if let Some(c) = self.substr.get(&gram(&name[i..])) {
                    for (lit, id) in c {
                        if name[i..].starts_with(lit) {
                            out.push(*id);
                        }
                    }
                }
            }
        }
        for (p, id) in &self.general {
            if glob_match(p, name) {
                out.push(*id);
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ids(set: &GlobSet, name: &str) -> Vec<u32> {
        let mut v = Vec::new();
        set.matches(name.as_bytes(), &mut v);
        v.sort_unstable();
        v
    }

    #[test]
    fn twitter_2021_patterns() {
        let mut s = GlobSet::new();
        s.insert("*t.co*", 1);
        s.insert("*.twimg.com", 2);
        s.insert("twitter.com", 3);
        s.insert("www.twitter.com", 3);
        // Substring: t.co anywhere — including the collateral damage of March 2021.
        assert_eq!(ids(&s, "t.co"), vec![1]);
        assert_eq!(ids(&s, "reddit.com"), vec![1]);
        assert_eq!(ids(&s, "microsoft.com"), vec![1]);
        // Suffix: any subdomain of twimg.com, but not twimg.com itself.
        assert_eq!(ids(&s, "abs.twimg.com"), vec![2]);
        assert_eq!(ids(&s, "garbage.twimg.com"), vec![2]);
        assert_eq!(ids(&s, "twimg.com"), Vec::<u32>::new());
        // Exact: and a trailing dot evades it, as it did the real throttler.
        assert_eq!(ids(&s, "twitter.com"), vec![3]);
        assert_eq!(ids(&s, "api.twitter.com"), Vec::<u32>::new());
        assert_eq!(ids(&s, "www.twitter.com."), Vec::<u32>::new());
        assert_eq!(ids(&s, "rt.com"), vec![1]);
        assert_eq!(ids(&s, "example.org"), Vec::<u32>::new());
    }

    #[test]
    fn glob_shapes() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a*b*c", b"aXXbYc"));
        assert!(!glob_match(b"a*b*c", b"aXXbY"));
        assert!(glob_match(b"**x", b"x"));
        assert!(!glob_match(b"", b"x"));
        let mut s = GlobSet::new();
        s.insert("*", 9);
        s.insert("api.*", 8);
        assert_eq!(ids(&s, "api.max.lab"), vec![8, 9]);
        assert_eq!(ids(&s, ""), vec![9]);
    }
}

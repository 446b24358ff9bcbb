//! CIDR prefixes: the lab address space a packet's destination must fall in.

use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn bits(addr: IpAddr) -> (u128, u8) {
    match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// The mask of the top `len` bits of a `width`-bit address, as a u128.
fn mask(len: u8, width: u8) -> u128 {
    if len == 0 {
        0
    } else {
        let all = if width == 128 {
            u128::MAX
        } else {
            (1u128 << width) - 1
        };
        all & !((1u128 << (width - len)) - 1)
    }
}

impl Prefix {
    /// Parse `addr/len`. Host bits must be zero: "198.18.0.1/15" is almost always a typo
    /// for a host route or a different network, so we say so instead of guessing.
    pub fn parse(s: &str) -> Result<Prefix, ParseError> {
        let (addr_s, len_s) = s
            .split_once('/')
            .ok_or_else(|| ParseError(format!("{s:?} is not a CIDR prefix (missing /len)")))?;
        let addr: IpAddr = addr_s
            .parse()
            .map_err(|_| ParseError(format!("{s:?}: {addr_s:?} is not an IP address")))?;
        let width = bits(addr).1;
        let len: u8 = match len_s.parse::<u8>() {
            Ok(n) if n <= width && !len_s.starts_with('+') => n,
            _ => {
                return Err(ParseError(format!(
                    "{s:?}: prefix length must be 0..={width}"
                )))
            }
        };
        let (value, _) = bits(addr);
        if value & !mask(len, width) != 0 {
            return Err(ParseError(format!(
                "{s:?}: address has bits set beyond the /{len} prefix"
            )));
        }
        Ok(Prefix { addr, len })
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// IPv4 prefixes never contain IPv6 addresses (v4-mapped included), and vice versa.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = bits(self.addr);
        let (host, host_width) = bits(ip);
        width == host_width && (host & mask(self.len, width)) == net
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A handful of prefixes, matched linearly: labs have two or three, so a trie would only
/// cost cache misses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixSet {
    prefixes: Vec<Prefix>,
}

impl PrefixSet {
    pub fn new(prefixes: Vec<Prefix>) -> PrefixSet {
        PrefixSet { prefixes }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.prefixes.iter().any(|p| p.contains(ip))
    }

    pub fn prefixes(&self) -> &[Prefix] {
        &self.prefixes
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v4_lab_prefix() {
        let p = Prefix::parse("198.18.0.0/15").unwrap();
        assert_eq!(p.to_string(), "198.18.0.0/15");
        assert!(p.contains(ip("198.18.0.1")));
        assert!(p.contains(ip("198.19.255.255")));
        assert!(!p.contains(ip("198.20.0.0")));
        assert!(!p.contains(ip("198.17.255.255")));
        assert!(!p.contains(ip("::ffff:198.18.0.1")));
    }

    #[test]
    fn v6_lab_prefix() {
        let p = Prefix::parse("fd71:6c61:6200::/48").unwrap();
        assert!(p.contains(ip("fd71:6c61:6200:1::1")));
        assert!(p.contains(ip("fd71:6c61:6200:ffff:ffff:ffff:ffff:ffff")));
        assert!(!p.contains(ip("fd71:6c61:6201::1")));
        assert!(!p.contains(ip("198.18.0.1")));
    }

    #[test]
    fn edge_lengths() {
        assert!(Prefix::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        assert!(Prefix::parse("::/0").unwrap().contains(ip("::1")));
        let host = Prefix::parse("198.18.0.1/32").unwrap();
        assert!(host.contains(ip("198.18.0.1")));
        assert!(!host.contains(ip("198.18.0.2")));
        let host6 = Prefix::parse("fd71:6c61:6200::1/128").unwrap();
        assert!(host6.contains(ip("fd71:6c61:6200::1")));
        assert!(!host6.contains(ip("fd71:6c61:6200::2")));
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "198.18.0.0",
            "198.18.0.0/",
            "198.18.0.0/33",
            "198.18.0.0/-1",
            "198.18.0.0/+15",
            "198.18.0.1/15",
            "fd71::/129",
            "nonsense/8",
            "",
            "/8",
        ] {
            assert!(Prefix::parse(bad).is_err(), "{bad} should not parse");
        }
        let e = Prefix::parse("198.18.0.1/15").unwrap_err();
        assert!(e.to_string().contains("bits set"), "{e}");
    }

    #[test]
    fn set_matches_any() {
        let set = PrefixSet::new(vec![
            Prefix::parse("198.18.0.0/15").unwrap(),
            Prefix::parse("fd71:6c61:6200::/48").unwrap(),
        ]);
        assert!(set.contains(ip("198.19.0.1")));
        assert!(set.contains(ip("fd71:6c61:6200:2::1")));
        assert!(!set.contains(ip("8.8.8.8")));
        assert!(!PrefixSet::default().contains(ip("198.19.0.1")));
    }
}

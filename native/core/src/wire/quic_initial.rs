//! Reading a client's QUIC Initial packets as a DPI box does: derive the Initial keys
//! from the Destination Connection ID (RFC 9001 §5.2, RFC 9369 §3.3), remove header
//! protection (§5.4), decrypt the payload (AES-128-GCM), and gather the CRYPTO frames
//! in offset order — across several Initials when the ClientHello does not fit one, as
//! with Chrome's post-quantum key share — until the whole ClientHello is there.
//!
//! Only a flow's first Initials come here (the classifier decides); the keys are
//! public, derived from bytes on the wire, so nothing is secret.

use super::quic::{self, PacketType, VERSION_1, VERSION_2};
use super::{Error, Result};
use hkdf::{Hkdf, HkdfExtract};
use ring::aead::{self, quic as hp, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use sha2::Sha256;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::LazyLock;

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];

/// HKDF-Extract keyed with each version's salt, made once (keying HMAC costs two
/// SHA-256 blocks of the fourteen a connection's keys take).
static SALTS: LazyLock<[HkdfExtract<Sha256>; 2]> =
    LazyLock::new(|| [SALT_V1, SALT_V2].map(|s| HkdfExtract::new(Some(&s))));

/// The ClientHello is given up on past this many CRYPTO bytes (the largest real ones,
/// with post-quantum key shares, are ~2 KB).
pub const MAX_HELLO_BYTES: usize = 16 * 1024;
/// Header protection samples 16 bytes starting 4 bytes after the packet number starts.
const SAMPLE_OFFSET: usize = 4;
const SAMPLE_LEN: usize = 16;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 16;

/// TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, into `out`.
fn expand_label(secret: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) {
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    secret
        .expand_multi_info(&info, out)
        .expect("HKDF-SHA256 expands to at most 255 * 32 bytes");
}

/// The client's Initial packet protection keys for one connection, as bytes: ring's key
/// objects are built from them for each Initial (an AES key schedule costs tens of
/// nanoseconds), so a flow's reader stays `Clone` like the rest of the flow.
#[derive(Clone)]
pub struct InitialKeys {
    key: [u8; KEY_LEN],
    iv: [u8; NONCE_LEN],
    hp: [u8; KEY_LEN],
}

impl InitialKeys {
    /// Keys for packets the client sends, from the DCID of its first Initial. `None` for
    /// versions other than 1 and 2 (their salts are not known here).
    pub fn client(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
        let (salt, labels): (&HkdfExtract<Sha256>, [&[u8]; 3]) = match version {
            VERSION_1 => (&SALTS[0], [b"quic key", b"quic iv", b"quic hp"]),
            VERSION_2 => (&SALTS[1], [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"]),
            _ => return None,
        };
        let mut extract = salt.clone();
        extract.input_ikm(dcid);
        let (_, initial) = extract.finalize();
        let mut client = [0u8; 32];
        expand_label(&initial, b"client in", &mut client);
        let secret = Hkdf::<Sha256>::from_prk(&client).expect("a 32-byte secret");
        let mut k = InitialKeys {
            key: [0; KEY_LEN],
            iv: [0; NONCE_LEN],
            hp: [0; KEY_LEN],
        };
        expand_label(&secret, labels[0], &mut k.key);
        expand_label(&secret, labels[1], &mut k.iv);
        expand_label(&secret, labels[2], &mut k.hp);
        Some(k)
    }

    fn aead(&self) -> LessSafeKey {
        let key = UnboundKey::new(&aead::AES_128_GCM, &self.key).expect("a 16-byte key");
        LessSafeKey::new(key)
    }

    fn nonce(&self, pn: u64) -> Nonce {
        let mut n = self.iv;
        for (d, p) in n[NONCE_LEN - 8..].iter_mut().zip(pn.to_be_bytes()) {
            *d ^= p;
        }
        Nonce::assume_unique_for_key(n)
    }

    /// The header protection mask (RFC 9001 §5.4.3): its first byte masks the flags,
    /// the next four the packet number.
    fn mask(&self, sample: &[u8]) -> [u8; 5] {
        hp::HeaderProtectionKey::new(&hp::AES_128, &self.hp)
            .and_then(|k| k.new_mask(&sample[..SAMPLE_LEN]))
            .expect("a 16-byte key and sample")
    }
}

/// Where a client Initial sits in a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialLayout {
    pub version: u32,
    pub dcid: Range<usize>,
    /// Offset of the (protected) packet number.
    pub pn_offset: usize,
    /// One past the packet's last byte (datagrams may coalesce further packets).
    pub end: usize,
}

/// Locate the Initial at the start of a datagram.
pub fn layout(datagram: &[u8]) -> Result<InitialLayout> {
    let h = quic::parse_long_header(datagram)?;
    if h.packet_type != PacketType::Initial || !matches!(h.version, VERSION_1 | VERSION_2) {
        return Err(Error::Malformed);
    }
    let len = usize::try_from(h.length.ok_or(Error::Malformed)?).map_err(|_| Error::Malformed)?;
    let end = h.header_len.checked_add(len).ok_or(Error::Malformed)?;
    if end > datagram.len() {
        return Err(Error::Truncated);
    }
    // The sample must fit, and a 1-byte packet number plus the tag at least.
    if len < SAMPLE_OFFSET + SAMPLE_LEN || len < 1 + TAG_LEN {
        return Err(Error::Malformed);
    }
    Ok(InitialLayout {
        version: h.version,
        dcid: 6..6 + usize::from(h.dcid_len),
        pn_offset: h.header_len,
        end,
    })
}

/// Remove header and packet protection from the Initial at the start of `datagram`,
/// copying it into `out` (the datagram itself is never changed). Returns the range of
/// the decrypted frames in `out`.
pub fn open(
    keys: &InitialKeys,
    l: &InitialLayout,
    datagram: &[u8],
    out: &mut Vec<u8>,
) -> Result<Range<usize>> {
    out.clear();
    out.extend_from_slice(&datagram[..l.end]);
    let sample_at = l.pn_offset + SAMPLE_OFFSET;
    let mask = keys.mask(&out[sample_at..sample_at + SAMPLE_LEN]);
    out[0] ^= mask[0] & 0x0f; // long header: the low four bits are protected
    let pn_len = usize::from(out[0] & 0x03) + 1;
    let mut pn = 0u64;
    for i in 0..pn_len {
        out[l.pn_offset + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(out[l.pn_offset + i]);
    }
    let payload_at = l.pn_offset + pn_len;
    let tag_at = l
        .end
        .checked_sub(TAG_LEN)
        .filter(|&t| t >= payload_at)
        .ok_or(Error::Malformed)?;
    // The client's first packet numbers are small: the truncated number is the number.
    let (head, rest) = out.split_at_mut(payload_at);
    keys.aead()
        .open_in_place(
            keys.nonce(pn),
            Aad::from(&head[..]),
            &mut rest[..l.end - payload_at],
        )
        .map_err(|_| Error::Malformed)?;
    Ok(payload_at..tag_at)
}

/// How many zero bytes `b` starts with, 16 at a time where it can.
fn padding_len(b: &[u8]) -> usize {
    let whole = b
        .chunks_exact(16)
        .take_while(|c| c.iter().all(|&x| x == 0))
        .count()
        * 16;
    whole + b[whole..].iter().take_while(|&&x| x == 0).count()
}

/// The ClientHello's bytes as CRYPTO frames deliver them, in any order and with gaps.
#[derive(Debug, Clone, Default)]
pub struct CryptoStream {
    buf: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    have: Vec<Range<usize>>,
}

impl CryptoStream {
    /// Add the CRYPTO frames among `frames` (a decrypted Initial payload). PADDING, PING,
    /// ACK and CONNECTION_CLOSE are skipped; any other frame is `Malformed`, as it is for
    /// an endpoint (RFC 9000 §12.4: they are not allowed in Initial packets).
    pub fn add_frames(&mut self, frames: &[u8]) -> Result<()> {
        let mut i = 0;
        while i < frames.len() {
            // PADDING is most of a client's first Initial (it pads to 1200 bytes or
            // more): skip a run of it at once rather than a frame per byte.
            if frames[i] == 0x00 {
                i += padding_len(&frames[i..]);
                continue;
            }
            let ty = quic::varint(frames, &mut i)?;
            match ty {
                0x00 | 0x01 => {} // PADDING, PING
                0x02 | 0x03 => {
                    // ACK: largest, delay, range count, first range, ranges, (ECN counts).
                    quic::varint(frames, &mut i)?;
                    quic::varint(frames, &mut i)?;
                    let ranges = quic::varint(frames, &mut i)?;
                    quic::varint(frames, &mut i)?;
                    let more = ranges.checked_mul(2).ok_or(Error::Malformed)?;
                    let ecn = if ty == 0x03 { 3 } else { 0 };
                    for _ in 0..more.saturating_add(ecn) {
                        quic::varint(frames, &mut i)?;
                    }
                }
                0x06 => {
                    let off = quic::varint(frames, &mut i)?;
                    let len = quic::varint(frames, &mut i)?;
                    let len = usize::try_from(len).map_err(|_| Error::Malformed)?;
                    let data = frames
                        .get(i..i.checked_add(len).ok_or(Error::Malformed)?)
                        .ok_or(Error::Truncated)?;
                    i += len;
                    self.insert(off, data)?;
                }
                0x1c => {
                    quic::varint(frames, &mut i)?; // error code
                    quic::varint(frames, &mut i)?; // frame type
                    let n = quic::varint(frames, &mut i)?;
                    let n = usize::try_from(n).map_err(|_| Error::Malformed)?;
                    i = i
                        .checked_add(n)
                        .filter(|&e| e <= frames.len())
                        .ok_or(Error::Truncated)?;
                }
                _ => return Err(Error::Malformed),
            }
        }
        Ok(())
    }

    fn insert(&mut self, off: u64, data: &[u8]) -> Result<()> {
        let start = usize::try_from(off).map_err(|_| Error::Malformed)?;
        let end = start.checked_add(data.len()).ok_or(Error::Malformed)?;
        if end > MAX_HELLO_BYTES {
            return Err(Error::Malformed);
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.buf[start..end].copy_from_slice(data);
        // Merge the new range into the sorted list.
        let mut merged = start..end;
        self.have.retain(|r| {
            if r.end < merged.start || r.start > merged.end {
                true
            } else {
                merged = merged.start.min(r.start)..merged.end.max(r.end);
                false
            }
        });
        let at = self.have.partition_point(|r| r.start < merged.start);
        self.have.insert(at, merged);
        Ok(())
    }

    /// The bytes received without a gap from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        match self.have.first() {
            Some(r) if r.start == 0 => &self.buf[..r.end],
            _ => &[],
        }
    }

    /// The complete ClientHello handshake message, once every byte of it is here.
    /// `Err` if what arrived cannot start a ClientHello or cannot fit the limit.
    pub fn client_hello(&self) -> Result<Option<&[u8]>> {
        let c = self.contiguous();
        if c.len() < 4 {
            return Ok(None);
        }
        let n = super::tls::client_hello_message_len(c).ok_or(Error::Malformed)?;
        if n > MAX_HELLO_BYTES {
            return Err(Error::Malformed);
        }
        Ok((c.len() >= n).then(|| &c[..n]))
    }
}

thread_local! {
    /// Where an Initial is decrypted: one buffer per thread rather than one per flow
    /// whose ClientHello is being read (only the CRYPTO bytes are kept).
    static OPENED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What feeding one more Initial produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The whole ClientHello is in `ClientHelloReader::hello()`.
    Complete,
    /// More Initials are needed.
    NeedMore,
}

/// A flow's ClientHello being read from its first Initials: the keys come from the
/// first Initial's DCID and serve the later ones (the client keeps its Initial keys
/// even after it changes DCID).
#[derive(Clone)]
pub struct ClientHelloReader {
    keys: InitialKeys,
    version: u32,
    stream: CryptoStream,
    hello_len: usize,
    /// Datagrams whose frames were taken in.
    fed: u32,
}

impl std::fmt::Debug for ClientHelloReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHelloReader")
            .field("version", &self.version)
            .field("stream", &self.stream)
            .field("hello_len", &self.hello_len)
            .finish_non_exhaustive()
    }
}

impl ClientHelloReader {
    /// Start from the client's first Initial (the one whose DCID keys the connection).
    pub fn start(datagram: &[u8]) -> Result<(ClientHelloReader, Progress)> {
        let l = layout(datagram)?;
        let keys =
            InitialKeys::client(l.version, &datagram[l.dcid.clone()]).ok_or(Error::Malformed)?;
        let mut r = ClientHelloReader {
            keys,
            version: l.version,
            stream: CryptoStream::default(),
            hello_len: 0,
            fed: 0,
        };
        let p = r.feed_layout(&l, datagram)?;
        Ok((r, p))
    }

    /// Feed a later datagram of the same flow (non-Initials are `Malformed`).
    pub fn feed(&mut self, datagram: &[u8]) -> Result<Progress> {
        let l = layout(datagram)?;
        if l.version != self.version {
            return Err(Error::Malformed);
        }
        self.feed_layout(&l, datagram)
    }

    fn feed_layout(&mut self, l: &InitialLayout, datagram: &[u8]) -> Result<Progress> {
        if self.hello_len > 0 {
            return Ok(Progress::Complete);
        }
        OPENED.with_borrow_mut(|scratch| {
            let frames = open(&self.keys, l, datagram, scratch)?;
            self.fed += 1;
            self.stream.add_frames(&scratch[frames])
        })?;
        match self.stream.client_hello()? {
            Some(h) => {
                self.hello_len = h.len();
                Ok(Progress::Complete)
            }
            None => Ok(Progress::NeedMore),
        }
    }

    /// How many Initials the ClientHello took (so far).
    pub fn packets(&self) -> u32 {
        self.fed
    }

    /// The ClientHello handshake message (without a record header), once complete.
    pub fn hello(&self) -> Option<&[u8]> {
        (self.hello_len > 0).then(|| &self.stream.contiguous()[..self.hello_len])
    }
}

/// Protect a client Initial carrying `frames` (what a client does; tests, the bench and
/// the simulator's traffic use it). The packet number is encoded in 4 bytes and the
/// payload is padded with PADDING frames so the datagram is at least `min_size`.
pub fn seal_client_initial(
    version: u32,
    dcid: &[u8],
    pn: u32,
    frames: &[u8],
    min_size: usize,
) -> Vec<u8> {
    let keys = InitialKeys::client(version, dcid).expect("version 1 or 2");
    let type_bits: u8 = if version == VERSION_2 { 0x10 } else { 0x00 };
    let mut h = vec![0xc3 | type_bits];
    h.extend_from_slice(&version.to_be_bytes());
    h.push(dcid.len() as u8);
    h.extend_from_slice(dcid);
    h.push(0); // no SCID
    h.push(0); // no token
    let base = h.len() + 2 + 4 + TAG_LEN; // 2-byte Length varint
    let mut payload = frames.to_vec();
    let want = min_size.saturating_sub(base).max(SAMPLE_LEN);
    if payload.len() < want {
        payload.resize(want, 0);
    }
    let len = 4 + payload.len() + TAG_LEN;
    assert!(len < 0x4000, "Initial too large for a 2-byte length");
    h.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
    let pn_offset = h.len();
    h.extend_from_slice(&pn.to_be_bytes());
    let tag = keys
        .aead()
        .seal_in_place_separate_tag(keys.nonce(u64::from(pn)), Aad::from(&h[..]), &mut payload)
        .expect("an Initial is far below GCM's length limit");
    h.extend_from_slice(&payload);
    h.extend_from_slice(tag.as_ref());
    let mask = keys.mask(&h[pn_offset + SAMPLE_OFFSET..]);
    h[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        h[pn_offset + i] ^= mask[1 + i];
    }
    h
}

/// Mutated client Initials for property tests and the bench's fuzz: pairs of datagrams
/// (a ClientHello over two Initials), damaged either after sealing or before it.
pub struct InitialFuzz {
    rng: crate::rng::Rng,
    msgs: Vec<Vec<u8>>,
    /// How many pairs were damaged before sealing (so they pass the tag check).
    pub sealed_ok: u64,
}

impl InitialFuzz {
    pub fn new(seed: u64) -> InitialFuzz {
        let msgs = [
            ("www.youtube.com", 0),
            ("rr2---sn-q4flrnee.googlevideo.com", 1900),
            ("a.b", 0),
        ]
        .iter()
        .map(|&(name, pad)| {
            super::tls::build_client_hello(name, &["h3"], pad > 0, pad)[5..].to_vec()
        })
        .collect();
        InitialFuzz {
            rng: crate::rng::Rng::new(seed),
            msgs,
            sealed_ok: 0,
        }
    }

    fn mutate(rng: &mut crate::rng::Rng, b: &mut Vec<u8>) {
        for _ in 0..1 + rng.below(4) {
            if b.is_empty() {
                return;
            }
            let i = rng.below(b.len() as u64) as usize;
            match rng.below(5) {
                0 => b[i] ^= 1 << rng.below(8),
                1 => b[i] = rng.next_u64() as u8,
                2 => b.truncate(i),
                3 => b.extend((0..rng.below(32)).map(|_| rng.next_u64() as u8)),
                _ => b[i] = [0x00, 0x40, 0x80, 0xc0, 0xff, 0x06, 0x02][rng.below(7) as usize],
            }
        }
    }

    /// The next pair of datagrams.
    pub fn next_pair(&mut self) -> (Vec<u8>, Vec<u8>) {
        let rng = &mut self.rng;
        let msg = &self.msgs[rng.below(self.msgs.len() as u64) as usize];
        let cut = rng.below(msg.len() as u64 + 1) as usize;
        let version = if rng.chance(0.5) {
            VERSION_1
        } else {
            VERSION_2
        };
        let dcid: Vec<u8> = (0..rng.below(21)).map(|_| rng.next_u64() as u8).collect();
        let mut f1 = crypto_frame(0, &msg[..cut]);
        let mut f2 = crypto_frame(cut as u64, &msg[cut..]);
        let before = rng.chance(0.5);
        if before {
            let first = rng.chance(0.5);
            Self::mutate(rng, if first { &mut f1 } else { &mut f2 });
            self.sealed_ok += 1;
        }
        let f1 = if f1.len() > 1100 {
            &f1[..1100]
        } else {
            &f1[..]
        };
        let f2 = if f2.len() > 1100 {
            &f2[..1100]
        } else {
            &f2[..]
        };
        let mut a = seal_client_initial(version, &dcid, 0, f1, 1200);
        let mut b = seal_client_initial(version, &dcid, 1, f2, 1200);
        if !before {
            let first = rng.chance(0.5);
            Self::mutate(rng, if first { &mut a } else { &mut b });
        }
        (a, b)
    }
}

/// A TLS ClientHello `record` as a client sends it over QUIC: its handshake message cut
/// into `chunk`-byte CRYPTO frames, one sealed Initial each (packet numbers from 0),
/// each at least `min_size`. A `chunk` below the message's length gives Chrome's
/// post-quantum ClientHello over several Initials; `usize::MAX`, one Initial.
pub fn seal_client_hello(
    version: u32,
    dcid: &[u8],
    record: &[u8],
    chunk: usize,
    min_size: usize,
) -> Vec<Vec<u8>> {
    let msg = &record[5..];
    let mut at = 0;
    let mut out = Vec::new();
    while at < msg.len() {
        let end = msg.len().min(at.saturating_add(chunk));
        let frame = crypto_frame(at as u64, &msg[at..end]);
        out.push(seal_client_initial(
            version,
            dcid,
            out.len() as u32,
            &frame,
            min_size,
        ));
        at = end;
    }
    out
}

/// A CRYPTO frame carrying `data` at `offset`.
pub fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend_from_slice(&(0x8000_0000 | offset as u32).to_be_bytes()); // 4-byte varint
    f.extend_from_slice(&(0x4000 | data.len() as u16).to_be_bytes()); // 2-byte varint
    f.extend_from_slice(data);
    f
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::tls;

    fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect()
    }

    const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/src/wire/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
        hex(&std::fs::read_to_string(path).unwrap())
    }

    #[test]
    fn rfc9001_a1_keys() {
        // RFC 9001 A.1 and RFC 9369 A.1: the client's key, iv and hp.
        let k = InitialKeys::client(VERSION_1, &DCID).unwrap();
        assert_eq!(k.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(k.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(k.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
        // The hp key encrypts the A.2 sample to the published mask.
        let m = k.mask(&hex("d1b1c98dd7689fb8ec11d242b123dc9b"));
        assert_eq!(m.to_vec(), hex("437b9aec36"));
        let k2 = InitialKeys::client(VERSION_2, &DCID).unwrap();
        assert_eq!(k2.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(k2.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(k2.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
        assert!(InitialKeys::client(0xff00_001d, &DCID).is_none());
    }

    /// RFC 9001 A.2 and RFC 9369 A.2: the published protected client Initial decrypts
    /// to the published CRYPTO frame plus PADDING, and its ClientHello names example.com.
    #[test]
    fn rfc_appendix_a_client_initials_end_to_end() {
        let frame = fixture("rfc9001-a2-crypto-frame.hex");
        for (file, version, header) in [
            (
                "rfc9001-a2-client-initial.hex",
                VERSION_1,
                "c300000001088394c8f03e5157080000449e00000002",
            ),
            (
                "rfc9369-a2-client-initial.hex",
                VERSION_2,
                "d36b3343cf088394c8f03e5157080000449e00000002",
            ),
        ] {
            let packet = fixture(file);
            assert_eq!(packet.len(), 1200, "{file}");
            let l = layout(&packet).unwrap();
            assert_eq!(
                (l.version, l.dcid.clone(), l.pn_offset, l.end),
                (version, 6..14, 18, 1200)
            );
            let keys = InitialKeys::client(version, &packet[l.dcid.clone()]).unwrap();
            let mut out = Vec::new();
            let frames = open(&keys, &l, &packet, &mut out).unwrap();
            assert_eq!(
                out[..22].to_vec(),
                hex(header),
                "{file}: unprotected header"
            );
            assert_eq!(frames.len(), 1162);
            assert_eq!(out[frames.start..frames.start + frame.len()], frame[..]);
            assert!(out[frames.start + frame.len()..frames.end]
                .iter()
                .all(|&b| b == 0));

            let (r, p) = ClientHelloReader::start(&packet).unwrap();
            assert_eq!(p, Progress::Complete);
            let msg = r.hello().unwrap();
            assert_eq!(msg.len(), 0xf1);
            let h = tls::parse_client_hello_message(msg).unwrap();
            assert_eq!(h.sni(msg), Some(&b"example.com"[..]));
            assert_eq!(h.alpn(msg).collect::<Vec<_>>(), vec![&b"alpn"[..]]);
            // Our sealing reproduces the published packet byte for byte.
            let resealed = seal_client_initial(version, &DCID, 2, &frame, 1200);
            assert_eq!(resealed, packet, "{file}");
        }
    }

    #[test]
    fn tampering_fails_the_tag() {
        let packet = fixture("rfc9001-a2-client-initial.hex");
        for i in [0, 17, 18, 30, 600, 1199] {
            let mut p = packet.clone();
            p[i] ^= 0x10;
            let ok = layout(&p).and_then(|l| {
                let k =
                    InitialKeys::client(l.version, &p[l.dcid.clone()]).ok_or(Error::Malformed)?;
                open(&k, &l, &p, &mut Vec::new())
            });
            assert!(ok.is_err(), "byte {i}");
        }
    }

    /// A ClientHello larger than one Initial (as Chrome's with X25519MLKEM768), split
    /// over two packets, delivered second-half first, with PING and PADDING between.
    #[test]
    fn client_hello_spanning_two_initials() {
        let record = tls::build_client_hello(
            "rr5---sn-gvnuxaxjvh-n8vz.googlevideo.com",
            &["h3"],
            false,
            1805,
        );
        let msg = &record[5..];
        let dcid = [0x5a; 8];
        let cut = 1000;
        let mut second = vec![0x01, 0x00, 0x00];
        second.extend(crypto_frame(cut as u64, &msg[cut..]));
        let mut first = crypto_frame(600, &msg[600..cut]);
        first.push(0x01);
        first.extend(crypto_frame(0, &msg[..600]));
        let p1 = seal_client_initial(VERSION_1, &dcid, 0, &first, 1252);
        let p2 = seal_client_initial(VERSION_1, &dcid, 1, &second, 1252);
        assert_eq!(p1.len(), 1252);

        // In order.
        let (mut r, p) = ClientHelloReader::start(&p1).unwrap();
        assert_eq!(p, Progress::NeedMore);
        assert_eq!(r.hello(), None);
        assert_eq!(r.feed(&p2).unwrap(), Progress::Complete);
        let got = r.hello().unwrap();
        assert_eq!(got, msg);
        let h = tls::parse_client_hello_message(got).unwrap();
        assert_eq!(
            h.sni(got),
            Some(&b"rr5---sn-gvnuxaxjvh-n8vz.googlevideo.com"[..])
        );

        // Second Initial first (reordered on the wire): same result.
        let (mut r, p) = ClientHelloReader::start(&p2).unwrap();
        assert_eq!(p, Progress::NeedMore);
        assert_eq!(r.feed(&p1).unwrap(), Progress::Complete);
        assert_eq!(r.hello().unwrap(), msg);

        // One Initial alone is not enough; nor is a gap.
        let (r, _) = ClientHelloReader::start(&p1).unwrap();
        assert_eq!(r.hello(), None);
    }

    #[test]
    fn v2_and_coalesced_datagrams() {
        let record = tls::build_client_hello("cloudflare-ech.com", &["h3"], true, 0);
        let mut p = seal_client_initial(
            VERSION_2,
            &[1, 2, 3, 4],
            0,
            &crypto_frame(0, &record[5..]),
            1200,
        );
        p.extend_from_slice(&[0x40; 60]); // a coalesced short-header packet after it
        let (r, prog) = ClientHelloReader::start(&p).unwrap();
        assert_eq!(prog, Progress::Complete);
        let msg = r.hello().unwrap();
        assert!(tls::parse_client_hello_message(msg).unwrap().ech);
    }

    #[test]
    fn crypto_stream_ranges() {
        let mut s = CryptoStream::default();
        s.insert(10, &[2; 5]).unwrap();
        s.insert(0, &[1; 4]).unwrap();
        assert_eq!(s.contiguous(), &[1; 4]);
        s.insert(3, &[9; 8]).unwrap(); // overlaps both
        assert_eq!(s.have, vec![0..15]);
        assert_eq!(s.contiguous().len(), 15);
        assert!(s.insert(MAX_HELLO_BYTES as u64, &[0]).is_err());
        assert!(s.add_frames(&[0x08]).is_err()); // STREAM frame in an Initial
        assert!(s.add_frames(&[0x06, 0x00, 0x05, 1, 2]).is_err()); // truncated CRYPTO
    }

    /// Mutated Initials never panic: either the sealed bytes are mutated (header
    /// parsing, header protection, the tag) or the plaintext is mutated and then sealed
    /// properly, so the frame and TLS parsers see the damage. The bench runs 10M.
    #[test]
    fn mutated_initials_never_panic() {
        let n = if cfg!(debug_assertions) {
            3_000
        } else {
            30_000
        };
        let mut fz = InitialFuzz::new(7);
        for _ in 0..n {
            let (a, b) = fz.next_pair();
            if let Ok((mut r, _)) = ClientHelloReader::start(&a) {
                let _ = r.feed(&b);
                if let Some(m) = r.hello() {
                    let _ = tls::parse_client_hello_message(m);
                }
            }
        }
        assert!(
            fz.sealed_ok > n as u64 / 10,
            "{} well-sealed mutants",
            fz.sealed_ok
        );
    }
}

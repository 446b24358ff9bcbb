//! AES-128 encryption (FIPS-197) with the classic four 1 KB lookup tables, built at
//! compile time from the S-box. Only the forward cipher: QUIC header protection is
//! AES-ECB encryption of a sample, and GCM runs AES in counter mode in both directions.

const SBOX: [u8; 256] = [
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
];

/// Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
const fn xtime(b: u8) -> u8 {
    (b << 1) ^ if b & 0x80 != 0 { 0x1b } else { 0 }
}

/// Te[r][x]: SubBytes then one MixColumns column, rotated right by 8·r bits.
const fn tables() -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut x = 0;
    while x < 256 {
        let s = SBOX[x];
        let w = u32::from_be_bytes([xtime(s), s, s, xtime(s) ^ s]);
        t[0][x] = w;
        t[1][x] = w.rotate_right(8);
        t[2][x] = w.rotate_right(16);
        t[3][x] = w.rotate_right(24);
        x += 1;
    }
    t
}

static TE: [[u32; 256]; 4] = tables();

pub const BLOCK: usize = 16;

/// An expanded AES-128 key: 11 round keys of four big-endian words.
#[derive(Clone)]
pub struct Aes128 {
    rk: [u32; 44],
}

fn sub_word(w: u32) -> u32 {
    u32::from_be_bytes(w.to_be_bytes().map(|b| SBOX[usize::from(b)]))
}

impl Aes128 {
    pub fn new(key: &[u8; 16]) -> Aes128 {
        let mut rk = [0u32; 44];
        for (i, c) in key.chunks_exact(4).enumerate() {
            rk[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        let mut rcon = 1u8;
        for i in 4..44 {
            let mut t = rk[i - 1];
            if i % 4 == 0 {
                t = sub_word(t.rotate_left(8)) ^ (u32::from(rcon) << 24);
                rcon = xtime(rcon);
            }
            rk[i] = rk[i - 4] ^ t;
        }
        Aes128 { rk }
    }

    pub fn encrypt_block(&self, block: &mut [u8; BLOCK]) {
        let rk = &self.rk;
        let word = |i: usize| {
            u32::from_be_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ])
        };
        let mut s = [
            word(0) ^ rk[0],
            word(1) ^ rk[1],
            word(2) ^ rk[2],
            word(3) ^ rk[3],
        ];
        let b = |w: u32, n: u32| usize::from((w >> n) as u8);
        for round in 1..10 {
            let mut t = [0u32; 4];
            for (c, out) in t.iter_mut().enumerate() {
                *out = TE[0][b(s[c], 24)]
                    ^ TE[1][b(s[(c + 1) % 4], 16)]
                    ^ TE[2][b(s[(c + 2) % 4], 8)]
                    ^ TE[3][b(s[(c + 3) % 4], 0)]
                    ^ rk[4 * round + c];
            }
            s = t;
        }
        for c in 0..4 {
            let w = u32::from_be_bytes([
                SBOX[b(s[c], 24)],
                SBOX[b(s[(c + 1) % 4], 16)],
                SBOX[b(s[(c + 2) % 4], 8)],
                SBOX[b(s[(c + 3) % 4], 0)],
            ]) ^ rk[40 + c];
            block[4 * c..4 * c + 4].copy_from_slice(&w.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::crypto::hex;

    fn enc(key: &str, pt: &str) -> Vec<u8> {
        let key: [u8; 16] = hex(key).try_into().unwrap();
        let mut b: [u8; 16] = hex(pt).try_into().unwrap();
        Aes128::new(&key).encrypt_block(&mut b);
        b.to_vec()
    }

    #[test]
    fn fips_197_vectors() {
        // FIPS-197 Appendix B (cipher example) and Appendix C.1 (AES-128).
        assert_eq!(
            enc(
                "2b7e151628aed2a6abf7158809cf4f3c",
                "3243f6a8885a308d313198a2e0370734"
            ),
            hex("3925841d02dc09fbdc118597196a0b32")
        );
        assert_eq!(
            enc(
                "000102030405060708090a0b0c0d0e0f",
                "00112233445566778899aabbccddeeff"
            ),
            hex("69c4e0d86a7b0430d8cdb78070b4c55a")
        );
    }

    #[test]
    fn key_expansion_last_round_key() {
        // FIPS-197 Appendix A.1: w[40..44] for key 2b7e1516...
        let key: [u8; 16] = hex("2b7e151628aed2a6abf7158809cf4f3c").try_into().unwrap();
        let a = Aes128::new(&key);
        assert_eq!(a.rk[40..], [0xd014f9a8, 0xc9ee2589, 0xe13f0cc8, 0xb6630ca6]);
    }
}

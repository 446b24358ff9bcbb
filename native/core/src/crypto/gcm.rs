//! AES-128-GCM decryption with tag check (NIST SP 800-38D), 96-bit nonces only. GHASH
//! uses Shoup's 8-bit tables: 256 multiples of H built once per key, one table step per
//! byte.

use super::aes::{Aes128, BLOCK};

pub const TAG_LEN: usize = 16;
pub const NONCE_LEN: usize = 12;

/// The reduction polynomial x^128 + x^7 + x^2 + x + 1 in GCM's reflected bit order.
const R: u128 = 0xe1 << 120;

fn mul_x(v: u128) -> u128 {
    (v >> 1) ^ if v & 1 != 0 { R } else { 0 }
}

/// What eight `mul_x` steps add for the eight bits shifted out.
const fn reduce8() -> [u128; 256] {
    let mut t = [0u128; 256];
    let mut r = 0;
    while r < 256 {
        let mut v = r as u128;
        let mut k = 0;
        while k < 8 {
            v = (v >> 1) ^ if v & 1 != 0 { R } else { 0 };
            k += 1;
        }
        t[r] = v;
        r += 1;
    }
    t
}

static REDUCE8: [u128; 256] = reduce8();

/// table[n] = n·H, where n's most significant bit stands for the lowest power of x.
fn multiples_of(h: u128) -> Box<[u128; 256]> {
    let mut powers = [h; 8]; // H·x^0 .. H·x^7
    for j in 1..8 {
        powers[j] = mul_x(powers[j - 1]);
    }
    let mut table = Box::new([0u128; 256]);
    for (n, t) in table.iter_mut().enumerate() {
        for (j, p) in powers.iter().enumerate() {
            if n & (0x80 >> j) != 0 {
                *t ^= p;
            }
        }
    }
    table
}

struct Ghash<'a> {
    table: &'a [u128; 256],
    acc: u128,
}

impl Ghash<'_> {
    fn block(&mut self, b: u128) {
        let x = self.acc ^ b;
        let mut z = 0u128;
        // Horner over bytes from the highest power of x down: z = z·x^8 + T[byte].
        for k in (0..16).rev() {
            let byte = ((x >> (120 - 8 * k)) & 0xff) as usize;
            z = (z >> 8) ^ REDUCE8[(z & 0xff) as usize] ^ self.table[byte];
        }
        self.acc = z;
    }

    /// Absorb `data`, zero-padding the last partial block.
    fn update(&mut self, data: &[u8]) {
        for c in data.chunks(BLOCK) {
            let mut b = [0u8; BLOCK];
            b[..c.len()].copy_from_slice(c);
            self.block(u128::from_be_bytes(b));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagMismatch;

#[derive(Clone)]
pub struct Aes128Gcm {
    aes: Aes128,
    table: Box<[u128; 256]>,
}

impl Aes128Gcm {
    pub fn new(key: &[u8; 16]) -> Aes128Gcm {
        let aes = Aes128::new(key);
        let mut h = [0u8; BLOCK];
        aes.encrypt_block(&mut h);
        Aes128Gcm {
            aes,
            table: multiples_of(u128::from_be_bytes(h)),
        }
    }

    fn counter_block(nonce: &[u8; NONCE_LEN], ctr: u32) -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        b[..NONCE_LEN].copy_from_slice(nonce);
        b[NONCE_LEN..].copy_from_slice(&ctr.to_be_bytes());
        b
    }

    /// Check `tag` over `aad` and `data` (the ciphertext), then decrypt `data` in place.
    /// On a mismatch `data` is left as it was.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Result<(), TagMismatch> {
        let mut g = Ghash {
            table: &self.table,
            acc: 0,
        };
        g.update(aad);
        g.update(data);
        let lens = ((aad.len() as u128 * 8) << 64) | (data.len() as u128 * 8);
        g.block(lens);
        let mut j0 = Self::counter_block(nonce, 1);
        self.aes.encrypt_block(&mut j0);
        let want = (g.acc ^ u128::from_be_bytes(j0)).to_be_bytes();
        if tag.len() != TAG_LEN || want[..] != *tag {
            return Err(TagMismatch);
        }
        self.ctr(nonce, data);
        Ok(())
    }

    /// Encrypt in place and return the tag (tests and the simulator's traffic).
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        self.ctr(nonce, data);
        let mut g = Ghash {
            table: &self.table,
            acc: 0,
        };
        g.update(aad);
        g.update(data);
        g.block(((aad.len() as u128 * 8) << 64) | (data.len() as u128 * 8));
        let mut j0 = Self::counter_block(nonce, 1);
        self.aes.encrypt_block(&mut j0);
        (g.acc ^ u128::from_be_bytes(j0)).to_be_bytes()
    }

    /// CTR mode from inc32(J0) = counter 2.
    fn ctr(&self, nonce: &[u8; NONCE_LEN], data: &mut [u8]) {
        for (i, c) in data.chunks_mut(BLOCK).enumerate() {
            let mut ks = Self::counter_block(nonce, (i as u32).wrapping_add(2));
            self.aes.encrypt_block(&mut ks);
            for (d, k) in c.iter_mut().zip(ks) {
                *d ^= k;
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::crypto::hex;

    struct Case {
        key: &'static str,
        iv: &'static str,
        pt: &'static str,
        aad: &'static str,
        ct: &'static str,
        tag: &'static str,
    }

    // McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1–4.
    const CASES: [Case; 4] = [
        Case {
            key: "00000000000000000000000000000000",
            iv: "000000000000000000000000",
            pt: "",
            aad: "",
            ct: "",
            tag: "58e2fccefa7e3061367f1d57a4e7455a",
        },
        Case {
            key: "00000000000000000000000000000000",
            iv: "000000000000000000000000",
            pt: "00000000000000000000000000000000",
            aad: "",
            ct: "0388dace60b6a392f328c2b971b2fe78",
            tag: "ab6e47d42cec13bdf53a67b21257bddf",
        },
        Case {
            key: "feffe9928665731c6d6a8f9467308308",
            iv: "cafebabefacedbaddecaf888",
            pt: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            aad: "",
            ct: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            tag: "4d5c2af327cd64a62cf35abd2ba6fab4",
        },
        Case {
            key: "feffe9928665731c6d6a8f9467308308",
            iv: "cafebabefacedbaddecaf888",
            pt: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            ct: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            tag: "5bc94fbc3221a5db94fae95ae7121a47",
        },
    ];

    #[test]
    fn gcm_spec_test_cases() {
        for (i, c) in CASES.iter().enumerate() {
            let gcm = Aes128Gcm::new(&hex(c.key).try_into().unwrap());
            let nonce: [u8; 12] = hex(c.iv).try_into().unwrap();
            let mut data = hex(c.ct);
            gcm.open(&nonce, &hex(c.aad), &mut data, &hex(c.tag))
                .unwrap_or_else(|_| panic!("case {}", i + 1));
            assert_eq!(data, hex(c.pt), "case {}", i + 1);
            let mut again = hex(c.pt);
            let tag = gcm.seal(&nonce, &hex(c.aad), &mut again);
            assert_eq!((again, tag.to_vec()), (hex(c.ct), hex(c.tag)));
        }
    }

    #[test]
    fn rejects_a_flipped_bit() {
        let c = &CASES[3];
        let gcm = Aes128Gcm::new(&hex(c.key).try_into().unwrap());
        let nonce: [u8; 12] = hex(c.iv).try_into().unwrap();
        let ct = hex(c.ct);
        for (where_, i) in [
            ("ciphertext", 0),
            ("ciphertext", 59),
            ("aad", 100),
            ("tag", 200),
        ] {
            let (mut data, mut aad, mut tag) = (ct.clone(), hex(c.aad), hex(c.tag));
            match where_ {
                "ciphertext" => data[i] ^= 1,
                "aad" => aad[3] ^= 0x80,
                _ => tag[15] ^= 1,
            }
            let before = data.clone();
            assert_eq!(gcm.open(&nonce, &aad, &mut data, &tag), Err(TagMismatch));
            assert_eq!(data, before, "left untouched on mismatch");
        }
        assert_eq!(gcm.open(&nonce, &[], &mut [], &[0; 15]), Err(TagMismatch));
    }
}

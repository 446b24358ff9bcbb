//! HMAC-SHA256 (RFC 2104), HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446
//! §7.1), which QUIC uses to derive Initial secrets (RFC 9001 §5.2).

use super::sha256::{Sha256, BLOCK_LEN, DIGEST_LEN};

/// An HMAC key with its padded blocks already hashed, for several MACs under one key
/// (each then costs two compressions less).
#[derive(Clone)]
pub struct HmacKey {
    inner: Sha256,
    outer: Sha256,
}

impl HmacKey {
    pub fn new(key: &[u8]) -> HmacKey {
        let mut k = [0u8; BLOCK_LEN];
        if key.len() > BLOCK_LEN {
            k[..DIGEST_LEN].copy_from_slice(&super::sha256::sha256(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        inner.update(&k.map(|b| b ^ 0x36));
        let mut outer = Sha256::new();
        outer.update(&k.map(|b| b ^ 0x5c));
        HmacKey { inner, outer }
    }

    pub fn mac(&self, parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(&inner.finish());
        outer.finish()
    }
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    HmacKey::new(key).mac(parts)
}

/// HKDF-Extract(salt, IKM) = HMAC(salt, IKM).
pub fn extract(salt: &[u8], ikm: &[u8]) -> [u8; DIGEST_LEN] {
    hmac_sha256(salt, &[ikm])
}

/// HKDF-Expand(PRK, info, L) into `out` (L = out.len() <= 255 * 32).
pub fn expand(prk: &[u8], info: &[u8], out: &mut [u8]) {
    expand_with(&HmacKey::new(prk), info, out)
}

/// HKDF-Expand with the PRK already made an HMAC key.
pub fn expand_with(prk: &HmacKey, info: &[u8], out: &mut [u8]) {
    assert!(out.len() <= 255 * DIGEST_LEN, "HKDF output too long");
    let mut t: [u8; DIGEST_LEN] = [0; DIGEST_LEN];
    let mut t_len = 0;
    for (i, chunk) in out.chunks_mut(DIGEST_LEN).enumerate() {
        let counter = [(i + 1) as u8];
        t = prk.mac(&[&t[..t_len], info, &counter]);
        t_len = DIGEST_LEN;
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
}

/// HKDF-Expand-Label(secret, label, "", L): the label gets the "tls13 " prefix.
pub fn expand_label(secret: &[u8], label: &[u8], out: &mut [u8]) {
    expand_label_with(&HmacKey::new(secret), label, out)
}

/// HKDF-Expand-Label with the secret already made an HMAC key (several labels, one secret).
pub fn expand_label_with(secret: &HmacKey, label: &[u8], out: &mut [u8]) {
    let full = 6 + label.len();
    assert!(full <= 255 && out.len() <= 0xffff, "label too long");
    let mut info = [0u8; 2 + 1 + 255 + 1];
    info[..2].copy_from_slice(&(out.len() as u16).to_be_bytes());
    info[2] = full as u8;
    info[3..9].copy_from_slice(b"tls13 ");
    info[9..9 + label.len()].copy_from_slice(label);
    info[9 + label.len()] = 0; // empty context
    expand_with(secret, &info[..10 + label.len()], out);
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::crypto::hex;

    #[test]
    fn rfc_4231_hmac() {
        // Test cases 1, 2, 6 (key longer than the block) and 7.
        let cases: [(Vec<u8>, Vec<u8>, &str); 4] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hmac_sha256(&key, &[&data]).to_vec(), hex(want));
        }
        // Case 3: 0xaa key, 50 bytes of 0xdd, given in two parts.
        let data = [0xdd; 50];
        assert_eq!(
            hmac_sha256(&[0xaa; 20], &[&data[..17], &data[17..]]).to_vec(),
            hex("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
        );
    }

    #[test]
    fn rfc_5869_hkdf() {
        // A.1: basic test case.
        let ikm = [0x0b; 22];
        let salt = hex("000102030405060708090a0b0c");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let prk = extract(&salt, &ikm);
        assert_eq!(
            prk.to_vec(),
            hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        );
        let mut okm = [0u8; 42];
        expand(&prk, &info, &mut okm);
        assert_eq!(
            okm.to_vec(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
        // A.2: longer inputs and outputs (82 bytes, three HMAC blocks).
        let ikm: Vec<u8> = (0x00..=0x4f).collect();
        let salt: Vec<u8> = (0x60..=0xaf).collect();
        let info: Vec<u8> = (0xb0..=0xff).collect();
        let prk = extract(&salt, &ikm);
        assert_eq!(
            prk.to_vec(),
            hex("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244")
        );
        let mut okm = [0u8; 82];
        expand(&prk, &info, &mut okm);
        assert_eq!(
            okm.to_vec(),
            hex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87")
        );
        // A.3: zero-length salt and info.
        let prk = extract(&[], &[0x0b; 22]);
        let mut okm = [0u8; 42];
        expand(&prk, &[], &mut okm);
        assert_eq!(
            okm.to_vec(),
            hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
        );
    }
}

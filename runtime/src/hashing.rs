//! [`HashKey`]: the secret behind hashed fields. A field listed as
//! `field(hash)` is logged as the HMAC-SHA256 of its JSON text (as
//! `serde_json` writes it, a [`Sensitive`](crate::Sensitive) value unwrapped),
//! in lower-case hex: equal values give equal hashes under one key, so records
//! can be grouped and joined without revealing the value.

use crate::config::ConfigError;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

/// The environment variable the key is read from.
pub const HASH_KEY_VARIABLE: &str = "LOG_HASH_KEY";

/// The hex text of one hash: 64 ASCII characters, kept inline.
pub(crate) type HashHex = [u8; 64];

/// The secret key of hashed fields: at least [`HashKey::MIN_BYTES`] bytes.
/// Its `Debug` never shows it, and it is never logged.
///
/// ```
/// use logged_model::HashKey;
///
/// assert!(HashKey::new("too short").is_err());
/// let key = HashKey::new("a secret of at least sixteen bytes")?;
/// assert_eq!(format!("{key:?}"), "HashKey([REDACTED], 34 bytes)");
/// # Ok::<(), logged_model::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct HashKey(Arc<[u8]>);

impl HashKey {
    /// The shortest key accepted.
    pub const MIN_BYTES: usize = 16;

    /// A key of these bytes; refused when shorter than [`Self::MIN_BYTES`].
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::named(HASH_KEY_VARIABLE, bytes.as_ref())
    }

    pub(crate) fn named(variable: &'static str, bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(ConfigError::HashKeyTooShort {
                variable,
                length: bytes.len(),
            });
        }
        Ok(HashKey(Arc::from(bytes)))
    }

    /// A random key of 32 bytes, for this process only: hashes made with it
    /// group records of this process, and of no other. Never chosen by the
    /// framework itself; a program calls it when that is what it wants.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        HashKey(Arc::from(&bytes[..]))
    }

    /// The hex HMAC-SHA256 of `value`'s JSON text; `None` for a value that
    /// is `null` (an absent `Option`), which is logged as `null`.
    pub(crate) fn hash<T: Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<Option<HashHex>, serde_json::Error> {
        let json = serde_json::to_vec(value)?;
        if json == b"null" {
            return Ok(None);
        }
        hmac_sha256_hex(&self.0, &json)
            .map(Some)
            .ok_or_else(|| serde::ser::Error::custom("the hash key was refused"))
    }
}

/// The lower-case hex HMAC-SHA256 of `data` under `key`; `None` if the MAC
/// refuses the key (it takes keys of any length, so never in practice).
fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> Option<HashHex> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(data);
    let digest = mac.finalize().into_bytes();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 64];
    for (index, byte) in digest.iter().enumerate() {
        text[2 * index] = HEX[usize::from(byte >> 4)];
        text[2 * index + 1] = HEX[usize::from(byte & 0xf)];
    }
    Some(text)
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashKey([REDACTED], {} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(key: &[u8], data: &[u8]) -> String {
        let hex = hmac_sha256_hex(key, data).unwrap_or([b'?'; 64]);
        String::from_utf8_lossy(&hex).into_owned()
    }

    /// The HMAC-SHA-256 vectors published in RFC 4231, section 4 (test
    /// cases 1, 2, 3, 6 and 7; 5 is a truncated MAC, 4 repeats 3's shape).
    #[test]
    fn the_mac_is_rfc_4231s_hmac_sha256() {
        assert_eq!(
            hex_of(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex_of(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex_of(&[0xaa; 20], &[0xdd; 50]),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        );
        assert_eq!(
            hex_of(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            hex_of(
                &[0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
            ),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        );
    }

    /// A value's hash is the MAC of its JSON text, as serde_json writes it:
    /// the string `abc` is hashed as the five bytes `"abc"`.
    #[test]
    fn a_value_is_hashed_as_its_json_text() {
        let key = b"0123456789abcdef";
        let hash_key = HashKey::new(key).unwrap_or_else(|_| HashKey::random());
        let text = |hex: Option<HashHex>| hex.map(|hex| String::from_utf8_lossy(&hex).into_owned());
        assert_eq!(
            text(hash_key.hash("abc").ok().flatten()),
            Some(hex_of(key, b"\"abc\""))
        );
        assert_eq!(
            text(hash_key.hash(&1.5).ok().flatten()),
            Some(hex_of(key, b"1.5"))
        );
        assert_ne!(hex_of(key, b"\"abc\""), hex_of(key, b"abc"));
    }

    #[test]
    fn a_key_is_never_shown() {
        let key = HashKey::new("a secret of sixteen bytes").unwrap_or_else(|_| HashKey::random());
        assert_eq!(format!("{key:?}"), "HashKey([REDACTED], 25 bytes)");
    }

    #[test]
    fn equal_values_give_equal_hashes_and_keys_change_them() {
        let one = HashKey::new("one key of sixteen bytes").unwrap_or_else(|_| HashKey::random());
        let two = HashKey::new("another key, sixteen").unwrap_or_else(|_| HashKey::random());
        assert_eq!(one.hash(&42).ok(), one.hash(&42).ok());
        assert_ne!(one.hash(&42).ok(), one.hash(&43).ok());
        assert_ne!(one.hash(&42).ok(), two.hash(&42).ok());
        assert_eq!(one.hash(&None::<u8>).ok(), Some(None), "null is not hashed");
    }
}

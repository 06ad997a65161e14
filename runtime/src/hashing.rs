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
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .map_err(|_| serde::ser::Error::custom("the hash key was refused"))?;
        mac.update(&json);
        let digest = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 64];
        for (index, byte) in digest.iter().enumerate() {
            text[2 * index] = HEX[usize::from(byte >> 4)];
            text[2 * index + 1] = HEX[usize::from(byte & 0xf)];
        }
        Ok(Some(text))
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashKey([REDACTED], {} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_rfc_4231_hmac_of_the_json_text() {
        // RFC 4231, test case 2 uses key "Jefe", shorter than we accept;
        // compare against the hmac crate on the JSON text instead.
        let key = HashKey::new("0123456789abcdef").unwrap_or_else(|_| HashKey::random());
        let hex = key.hash("abc").ok().flatten().unwrap_or([0; 64]);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"0123456789abcdef")
            .unwrap_or_else(|_| unreachable!());
        mac.update(b"\"abc\"");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(std::str::from_utf8(&hex).ok(), Some(expected.as_str()));
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

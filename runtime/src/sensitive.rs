//! [`Sensitive`]: a value that is never logged in the clear.
//!
//! It is transparent everywhere else: it dereferences to the value, compares
//! and hashes like it, and serde reads and writes it as the value itself, so
//! an HTTP request or response carries it unchanged. While a log record is
//! being written, it is written as [`REDACTED`], at any depth; `Debug` and
//! `Display` never show it. The attribute refuses to log a field of this type
//! in the clear: list it as `field(redact)` or `field(hash)`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// What a redacted value is written as.
pub const REDACTED: &str = "[REDACTED]";

/// A value that must never be logged in the clear.
///
/// ```
/// use logged_model::Sensitive;
///
/// let id = Sensitive::new("DE-1234".to_owned());
/// assert_eq!(id.as_str(), "DE-1234"); // reads like the value
/// assert_eq!(format!("{id:?}"), "Sensitive([REDACTED])");
/// assert_eq!(id.to_string(), "[REDACTED]");
/// // On the wire (outside a log record) it is the value itself.
/// assert_eq!(serde_json::to_string(&id)?, "\"DE-1234\"");
/// let back: Sensitive<String> = serde_json::from_str("\"DE-1234\"")?;
/// assert_eq!(back, id);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> Deref for Sensitive<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Sensitive<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sensitive({REDACTED})")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Serialize> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if redacting() {
            serializer.serialize_str(REDACTED)
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Sensitive)
    }
}

thread_local! {
    /// How many log records are being written on this thread (records can
    /// nest: a value that logs while it is written).
    static WRITING_RECORDS: Cell<u32> = const { Cell::new(0) };
}

/// Whether a value serialized now is going into a log record: a
/// [`RedactionScope`] is open.
fn redacting() -> bool {
    WRITING_RECORDS.with(|depth| depth.get() > 0)
}

/// While it lives, [`Sensitive`] values serialized on this thread are
/// redacted: every drain holds one while it copies, captures or formats a
/// record.
pub(crate) struct RedactionScope(());

impl RedactionScope {
    pub(crate) fn enter() -> Self {
        WRITING_RECORDS.with(|depth| depth.set(depth.get() + 1));
        RedactionScope(())
    }
}

impl Drop for RedactionScope {
    fn drop(&mut self) {
        WRITING_RECORDS.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let id = Sensitive::new("DE-1234".to_owned());
        assert_eq!(format!("{id:?}"), "Sensitive([REDACTED])");
        assert_eq!(format!("{id}"), REDACTED);
        assert_eq!(format!("{:?}", Some(&id)), "Some(Sensitive([REDACTED]))");
    }

    #[derive(Serialize)]
    struct Applicant {
        name: Sensitive<String>,
        scores: Vec<Option<Sensitive<u32>>>,
    }

    #[test]
    fn a_nested_value_is_redacted_only_inside_a_record() {
        let applicant = Applicant {
            name: Sensitive::new("Ada".to_owned()),
            scores: vec![Some(Sensitive::new(7)), None],
        };
        let clear = serde_json::to_string(&applicant).unwrap_or_default();
        assert_eq!(clear, r#"{"name":"Ada","scores":[7,null]}"#);
        let redacted = {
            let _scope = RedactionScope::enter();
            serde_json::to_string(&applicant).unwrap_or_default()
        };
        assert_eq!(
            redacted,
            r#"{"name":"[REDACTED]","scores":["[REDACTED]",null]}"#
        );
        assert_eq!(serde_json::to_string(&applicant).unwrap_or_default(), clear);
    }
}

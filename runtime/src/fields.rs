//! The logged fields of an input or output, borrowed from it and written
//! with their JSON types: numbers stay numbers, enums are written as serde
//! writes them and `None` is `null`.

use crate::hashing::{HashHex, HashKey};
use crate::keys;
use crate::profile::value::{self, ProfileValue};
use crate::record::capture::FieldCapture;
use crate::record::sendable::Sendable;
use crate::sensitive::REDACTED;
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;

/// The fields of one record, in the order they were listed, borrowed from
/// the input or output for as long as the record is being made.
///
/// Filled by the code `#[logged_model]` generates; not meant to be used by hand.
pub struct FieldRecorder<'a> {
    /// The key of hashed fields, when the model has one.
    hash_key: Option<&'a HashKey>,
    /// Whether the fields are captured for the line drain's writer as they
    /// are recorded, or kept as borrows for slog.
    capture: Capturing<'a>,
}

/// The fields kept for a slog serializer, borrowed.
#[derive(Default)]
struct Kept<'a> {
    /// Most models log a few fields: they are kept inline, with no allocation.
    fields: SmallFields<'a>,
    /// `"key: reason"` for each field serde could not serialize.
    errors: RefCell<Vec<String>>,
    /// The hashes of the hashed fields, kept apart so that a field stays
    /// small (allocated only by a model that hashes).
    hashes: Vec<HashHex>,
}

/// Where a recorder's fields go: each field is recorded once, into one of
/// them. Only a recorder that keeps its fields has room for them: a
/// captured record's fields are copied into the capture and nowhere else.
#[expect(
    clippy::large_enum_variant,
    reason = "a recorder lives on its caller's stack for one record; boxing the kept fields would allocate for every record slog writes"
)]
enum Capturing<'a> {
    /// Kept, borrowed, for a slog serializer.
    No(Kept<'a>),
    /// Captured, and nothing kept besides.
    Yes(FieldCapture<'a>),
    /// A field could not be captured: the record's fields are recorded again
    /// into a recorder that keeps them, and this one takes no more.
    GaveUp,
    /// For the model's profile: each field's value appended to a caller's
    /// buffer, numbered in the order the fields are listed; nothing kept,
    /// and a sensitive field counted, never read.
    Profile { bytes: Vec<u8>, next: u8 },
}

/// A field's value as the record will hold it.
enum FieldValue<'a> {
    /// Borrowed from the input or output, serialized when the record is written.
    Borrowed(&'a dyn erased_serde::Serialize),
    /// Listed as `field(redact)`.
    Redacted,
    /// Listed as `field(hash)`: the hash, already made, at this index of `hashes`.
    Hashed(usize),
    /// Listed as `field(hash)`, and absent (`None`): logged as `null`.
    Null,
    /// Listed as `field(hash)`, but it could not be hashed; the reason is in `errors`.
    Unhashable,
}

type Field<'a> = (&'static str, FieldValue<'a>);

/// Up to eight fields inline, the rest in a vector.
#[derive(Default)]
struct SmallFields<'a> {
    inline: [Option<Field<'a>>; 8],
    len: usize,
    spilled: Vec<Field<'a>>,
}

impl<'a> SmallFields<'a> {
    fn push(&mut self, field: Field<'a>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(field),
            None => self.spilled.push(field),
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = &Field<'a>> + '_ {
        self.inline.iter().flatten().chain(self.spilled.iter())
    }
}

impl<'a> FieldRecorder<'a> {
    /// An empty recorder; `hash_key` hashes the fields listed as `(hash)`,
    /// and `capture`, if given, captures the fields as they are recorded.
    pub(crate) fn new(hash_key: Option<&'a HashKey>, capture: Option<FieldCapture<'a>>) -> Self {
        FieldRecorder {
            hash_key,
            capture: match capture {
                Some(capture) => Capturing::Yes(capture),
                None => Capturing::No(Kept::default()),
            },
        }
    }

    /// A recorder that appends the fields' values to `bytes` for the
    /// model's profile, the first one numbered `first`.
    pub(crate) fn profiling(bytes: Vec<u8>, first: u8) -> Self {
        FieldRecorder {
            hash_key: None,
            capture: Capturing::Profile { bytes, next: first },
        }
    }

    /// The profile's buffer back, with the values appended.
    pub(crate) fn into_profile(self) -> Vec<u8> {
        match self.capture {
            Capturing::Profile { bytes, .. } => bytes,
            Capturing::No(_) | Capturing::Yes(_) | Capturing::GaveUp => Vec::new(),
        }
    }

    /// Leaves `fields` numbers unused (the output fields of a prediction
    /// that failed), so the fields after them keep theirs.
    pub(crate) fn skip_profiled(&mut self, fields: usize) {
        if let Capturing::Profile { next, .. } = &mut self.capture {
            *next = next.saturating_add(u8::try_from(fields).unwrap_or(u8::MAX));
        }
    }

    /// Appends the next field's value to the profile's buffer.
    fn profile(&mut self, value: impl FnOnce(&mut Vec<u8>, u8)) {
        if let Capturing::Profile { bytes, next } = &mut self.capture {
            value(bytes, *next);
            *next = next.saturating_add(1);
        }
    }

    /// Records `value` under `key`. A value that serde cannot turn into JSON
    /// (a map with non-string keys, a `Serialize` impl that fails) is logged
    /// as `null`, and the reason is listed under `field_errors`.
    pub fn record<T: Serialize>(&mut self, key: &'static str, value: &'a T) {
        match &mut self.capture {
            Capturing::No(kept) => kept.fields.push((key, FieldValue::Borrowed(value))),
            Capturing::Yes(capture) => {
                if !(capture.key(key) && capture.value(value)) {
                    self.capture = Capturing::GaveUp;
                }
            }
            Capturing::GaveUp => {}
            Capturing::Profile { .. } => {
                self.profile(|bytes, field| value::append_serialized(bytes, field, value));
            }
        }
    }

    /// Records the redaction marker under `key`; the value is never read.
    pub fn record_redacted<T: ?Sized>(&mut self, key: &'static str, _value: &T) {
        if matches!(self.capture, Capturing::Profile { .. }) {
            self.profile(|bytes, field| value::append(bytes, field, &ProfileValue::Present));
            return;
        }
        self.field(key, FieldValue::Redacted, |capture| capture.text(REDACTED));
    }

    /// Records a field whose value the recorder makes itself: kept as
    /// `kept`, or captured with `capture`.
    fn field(
        &mut self,
        key: &'static str,
        kept: FieldValue<'a>,
        capture: impl FnOnce(&mut FieldCapture<'a>),
    ) {
        match &mut self.capture {
            Capturing::No(recorded) => recorded.fields.push((key, kept)),
            Capturing::Yes(capturing) => {
                if capturing.key(key) {
                    capture(capturing);
                } else {
                    self.capture = Capturing::GaveUp;
                }
            }
            Capturing::GaveUp | Capturing::Profile { .. } => {}
        }
    }

    /// The captured fields, if every field was captured.
    pub(crate) fn captured(&self) -> Option<&[u8]> {
        match &self.capture {
            Capturing::Yes(capture) => Some(capture.bytes()),
            Capturing::No(_) | Capturing::GaveUp | Capturing::Profile { .. } => None,
        }
    }

    /// Records the keyed hash of `value` under `key`.
    pub fn record_hashed<T: Serialize>(&mut self, key: &'static str, value: &T) {
        if matches!(self.capture, Capturing::Profile { .. }) {
            // Counted (or a null), not hashed: a profile never holds a
            // sensitive value.
            self.profile(|bytes, field| value::append_presence(bytes, field, value));
            return;
        }
        let hashed = match self.hash_key {
            Some(hash_key) => hash_key.hash(value).map_err(|error| error.to_string()),
            None => Err("no hash key is set".to_owned()),
        };
        match hashed {
            Ok(Some(hex)) => {
                if let Capturing::No(kept) = &mut self.capture {
                    let index = kept.hashes.len();
                    kept.hashes.push(hex);
                    kept.fields.push((key, FieldValue::Hashed(index)));
                } else {
                    // Captured (or given up): `field` keeps nothing here, so
                    // the kept value it takes is never used.
                    self.field(key, FieldValue::Unhashable, |capture| {
                        // Only ASCII hex digits were written into it.
                        capture.text(std::str::from_utf8(&hex).unwrap_or_default());
                    });
                }
            }
            Ok(None) => self.field(key, FieldValue::Null, FieldCapture::null),
            Err(reason) => {
                if let Capturing::No(kept) = &mut self.capture {
                    kept.errors.borrow_mut().push(format!("{key}: {reason}"));
                    kept.fields.push((key, FieldValue::Unhashable));
                } else {
                    // The error is written with the record, by its caller.
                    self.capture = Capturing::GaveUp;
                }
            }
        }
    }
}

impl slog::KV for FieldRecorder<'_> {
    fn serialize(
        &self,
        _record: &slog::Record<'_>,
        serializer: &mut dyn slog::Serializer,
    ) -> slog::Result {
        let Capturing::No(kept) = &self.capture else {
            // Captured fields are the capture's to write.
            return Ok(());
        };
        for (key, value) in kept.fields.iter() {
            let key = *key;
            let value = match value {
                FieldValue::Borrowed(value) => *value,
                FieldValue::Redacted => {
                    serializer.emit_str(key, REDACTED)?;
                    continue;
                }
                FieldValue::Hashed(index) => {
                    let hex = kept.hashes.get(*index).map_or(&[][..], |hex| &hex[..]);
                    // Only ASCII hex digits were written into it.
                    serializer.emit_str(key, std::str::from_utf8(hex).unwrap_or_default())?;
                    continue;
                }
                FieldValue::Null | FieldValue::Unhashable => {
                    serializer.emit_unit(key)?;
                    continue;
                }
            };
            let field = BorrowedField {
                key,
                value,
                errors: &kept.errors,
            };
            // A serializer that cannot write a field writes null in its
            // place (the line drain) and says why; the record goes on.
            if let Err(error) = serializer.emit_serde(key, &field) {
                let reason = match error {
                    slog::Error::Io(io) => io.to_string(),
                    other => other.to_string(),
                };
                kept.errors.borrow_mut().push(format!("{key}: {reason}"));
            }
        }
        let errors = kept.errors.borrow();
        if !errors.is_empty() {
            serializer.emit_serde(
                keys::FIELD_ERRORS,
                &slog::Serde(Value::from(errors.clone())),
            )?;
        }
        Ok(())
    }
}

/// One field, on its way to a serializer.
struct BorrowedField<'a, 'r> {
    key: &'static str,
    value: &'a dyn erased_serde::Serialize,
    errors: &'r RefCell<Vec<String>>,
}

impl Serialize for BorrowedField<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        erased_serde::serialize(self.value, serializer).inspect_err(|error| {
            self.errors
                .borrow_mut()
                .push(format!("{}: {error}", self.key));
        })
    }
}

impl slog::Value for BorrowedField<'_, '_> {
    fn serialize(
        &self,
        _record: &slog::Record<'_>,
        key: slog::Key,
        serializer: &mut dyn slog::Serializer,
    ) -> slog::Result {
        serializer.emit_serde(key, self)
    }
}

/// An erased value, as `Serialize`.
fn erased<'v>(value: &'v dyn erased_serde::Serialize) -> impl Serialize + 'v {
    struct Erased<'v>(&'v dyn erased_serde::Serialize);
    impl Serialize for Erased<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            erased_serde::serialize(self.0, serializer)
        }
    }
    Erased(value)
}

impl slog::SerdeValue for BorrowedField<'_, '_> {
    fn as_serde(&self) -> &dyn erased_serde::Serialize {
        // The value itself: wrapping it again would cost an allocation.
        self.value
    }

    /// The owned copy slog-async sends to its thread: the value's JSON text
    /// (made here, on the caller's thread, so [`Sensitive`](crate::Sensitive)
    /// values are redacted as they are in the line drain),
    /// exactly as serde_json writes it (a `serde_json::Value` would widen an
    /// `f32` and refuse a `u128` above `u64::MAX`). A value that fails is
    /// sent as null, its error noted for `field_errors`.
    fn to_sendable(&self) -> Box<dyn slog::SerdeValue + Send + 'static> {
        let _redacting = crate::sensitive::RedactionScope::enter();
        // A scalar as it is (see `record/sendable.rs`); anything else, and
        // a value whose serialization fails (its error noted), as its text.
        let sendable = Sendable::scalar(&erased(self.value)).unwrap_or_else(|| {
            match serde_json::value::to_raw_value(self) {
                Ok(json) => Sendable::Json(json),
                Err(_) => Sendable::Null,
            }
        });
        Box::new(slog::Serde(sendable))
    }
}

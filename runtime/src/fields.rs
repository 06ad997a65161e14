//! The logged fields of an input or output, borrowed from it and written
//! with their JSON types: numbers stay numbers, enums are written as serde
//! writes them and `None` is `null`.

use crate::keys;
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;

/// The fields of one record, in the order they were listed, borrowed from
/// the input or output for as long as the record is being made.
///
/// Filled by the code `#[logged_model]` generates; not meant to be used by hand.
pub struct FieldRecorder<'a> {
    /// Most models log a few fields: they are kept inline, with no allocation.
    fields: SmallFields<'a>,
    /// `"key: reason"` for each field serde could not serialize.
    errors: RefCell<Vec<String>>,
}

type Field<'a> = (&'static str, &'a dyn erased_serde::Serialize);

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

    fn iter(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        self.inline
            .iter()
            .flatten()
            .copied()
            .chain(self.spilled.iter().copied())
    }
}

impl Default for FieldRecorder<'_> {
    fn default() -> Self {
        FieldRecorder {
            fields: SmallFields::default(),
            errors: RefCell::new(Vec::new()),
        }
    }
}

impl<'a> FieldRecorder<'a> {
    /// Records `value` under `key`. A value that serde cannot turn into JSON
    /// (a map with non-string keys, a `Serialize` impl that fails) is logged
    /// as `null`, and the reason is listed under `field_errors`.
    pub fn record<T: Serialize>(&mut self, key: &'static str, value: &'a T) {
        self.fields.push((key, value));
    }
}

impl slog::KV for FieldRecorder<'_> {
    fn serialize(
        &self,
        _record: &slog::Record<'_>,
        serializer: &mut dyn slog::Serializer,
    ) -> slog::Result {
        for (key, value) in self.fields.iter() {
            let field = BorrowedField {
                key,
                value,
                errors: &self.errors,
            };
            // A serializer that cannot write a field writes null in its
            // place (the line drain) and says why; the record goes on.
            if let Err(error) = serializer.emit_serde(key, &field) {
                let reason = match error {
                    slog::Error::Io(io) => io.to_string(),
                    other => other.to_string(),
                };
                self.errors.borrow_mut().push(format!("{key}: {reason}"));
            }
        }
        let errors = self.errors.borrow();
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

impl slog::SerdeValue for BorrowedField<'_, '_> {
    fn as_serde(&self) -> &dyn erased_serde::Serialize {
        // The value itself: wrapping it again would cost an allocation.
        self.value
    }

    /// The owned copy slog-async sends to its thread: the value's JSON text,
    /// exactly as serde_json writes it (a `serde_json::Value` would widen an
    /// `f32` and refuse a `u128` above `u64::MAX`). A value that fails is
    /// sent as null, its error noted for `field_errors`.
    fn to_sendable(&self) -> Box<dyn slog::SerdeValue + Send + 'static> {
        match serde_json::value::to_raw_value(self) {
            Ok(json) => Box::new(slog::Serde(json)),
            Err(_) => Box::new(slog::Serde(Value::Null)),
        }
    }
}

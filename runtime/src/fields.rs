//! Turns the logged fields of an input or output into JSON values, keeping
//! their JSON types: numbers stay numbers, enums are written as serde writes
//! them and `None` is `null`.

use serde::Serialize;
use serde_json::Value;

/// The values of one record's model fields, in the order they were listed.
///
/// Filled by the code `#[logged_model]` generates; not meant to be used by hand.
#[derive(Default)]
pub struct FieldRecorder {
    pub(crate) values: Vec<(&'static str, slog::Serde<Value>)>,
    /// `"key: reason"` for each field whose value serde could not serialize.
    pub(crate) errors: Vec<String>,
}

impl FieldRecorder {
    /// Records `value` under `key`. A value that serde cannot turn into JSON
    /// (a map with non-string keys, a `Serialize` impl that fails) is logged
    /// as `null` and the reason is listed under `field_errors`.
    pub fn record<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        let json = serde_json::to_value(value).unwrap_or_else(|error| {
            self.errors.push(format!("{key}: {error}"));
            Value::Null
        });
        self.values.push((key, slog::Serde(json)));
    }
}

impl slog::KV for FieldRecorder {
    fn serialize(
        &self,
        _record: &slog::Record<'_>,
        serializer: &mut dyn slog::Serializer,
    ) -> slog::Result {
        for (key, value) in &self.values {
            serializer.emit_serde(key, value)?;
        }
        if !self.errors.is_empty() {
            serializer.emit_serde(
                crate::keys::FIELD_ERRORS,
                &slog::Serde(Value::from(self.errors.clone())),
            )?;
        }
        Ok(())
    }
}

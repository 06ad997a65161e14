//! Key-value pairs that never change for the life of a logger: the process's
//! host and id, the environment fields, and the model's keys on a
//! decorator's logger.
//!
//! They are written on every record, so the line drain takes them already
//! formatted. When one of these is serialized by the line drain's own
//! serializer (recognized by its address, which `json_line` publishes while
//! it formats a record), the pairs are handed over as one JSON fragment
//! made when the logger was built; any other serializer gets them one by
//! one. Both give the same bytes.

use super::json_line::{self, RAW_JSON_KEY};
use slog::{KV, Record, Serializer};

/// A constant value: text, or a whole number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConstantValue {
    Text(String),
    Number(u64),
}

/// Pairs with constant values, and their JSON rendering.
#[derive(Clone)]
pub(crate) struct ConstantValues {
    pairs: Vec<(&'static str, ConstantValue)>,
    /// `,"key":value` for each pair.
    fragment: String,
}

impl ConstantValues {
    pub(crate) fn new(pairs: Vec<(&'static str, ConstantValue)>) -> Self {
        let fragment = json_line::render_pairs(&pairs);
        ConstantValues { pairs, fragment }
    }

    /// `,"key":value` for each pair, as the line drain writes them.
    pub(crate) fn fragment(&self) -> &str {
        &self.fragment
    }

    /// Text pairs.
    pub(crate) fn texts(pairs: Vec<(&'static str, String)>) -> Self {
        Self::new(
            pairs
                .into_iter()
                .map(|(key, value)| (key, ConstantValue::Text(value)))
                .collect(),
        )
    }
}

impl KV for ConstantValues {
    fn serialize(&self, _record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        if json_line::is_active_line_serializer(serializer) {
            return serializer.emit_str(RAW_JSON_KEY, &self.fragment);
        }
        for (key, value) in &self.pairs {
            match value {
                ConstantValue::Text(text) => serializer.emit_str(key, text)?,
                ConstantValue::Number(number) => serializer.emit_u64(key, *number)?,
            }
        }
        Ok(())
    }
}

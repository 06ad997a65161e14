//! Key-value pairs that never change for the life of a logger: the process's
//! host and id, the environment fields, and the model's keys on a
//! decorator's logger.
//!
//! Serialized pair by pair through slog; the line drain also keeps their
//! JSON rendering ([`ConstantValues::fragment`]) for the head it writes on
//! every record. (A decorator's records carry its logger's values rendered
//! once, in their template: see `template.rs`.)

use crate::record::json_text::{write_key, write_string};
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
        let fragment = render_pairs(&pairs);
        ConstantValues { pairs, fragment }
    }

    /// `,"key":value` for each pair, as the line drain writes them.
    pub(crate) fn fragment(&self) -> &str {
        &self.fragment
    }

    /// The pairs' keys, in order.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.pairs
            .iter()
            .map(|(key, _)| (*key).to_owned())
            .collect()
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
        for (key, value) in &self.pairs {
            match value {
                ConstantValue::Text(text) => serializer.emit_str(key, text)?,
                ConstantValue::Number(number) => serializer.emit_u64(key, *number)?,
            }
        }
        Ok(())
    }
}

/// `,"key":value` for each pair, as the line serializer writes them.
fn render_pairs(pairs: &[(&'static str, ConstantValue)]) -> String {
    let mut out = Vec::new();
    for (key, value) in pairs {
        write_key(&mut out, key);
        match value {
            ConstantValue::Text(text) => write_string(&mut out, text),
            ConstantValue::Number(number) => {
                out.extend_from_slice(itoa::Buffer::new().format(*number).as_bytes());
            }
        }
    }
    // Only UTF-8 text and ASCII escapes were written.
    String::from_utf8(out).unwrap_or_default()
}

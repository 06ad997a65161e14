//! Key-value pairs that never change for the life of a logger: the
//! environment fields, and the model's keys on a decorator's logger.
//!
//! They are written on every record, so the line drain takes them already
//! formatted. When one of these is serialized by the line drain's own
//! serializer (recognized by its address, which `json_line` publishes while
//! it formats a record), the pairs are handed over as one JSON fragment
//! made when the logger was built; any other serializer gets them one by
//! one. Both give the same bytes.

use super::json_line::{self, RAW_JSON_KEY};
use slog::{KV, Record, Serializer};

/// Pairs with string values, and their JSON rendering.
#[derive(Clone)]
pub(crate) struct ConstantValues {
    pairs: Vec<(&'static str, String)>,
    /// `,"key":"value"` for each pair.
    fragment: String,
}

impl ConstantValues {
    pub(crate) fn new(pairs: Vec<(&'static str, String)>) -> Self {
        let fragment = json_line::render_pairs(&pairs);
        ConstantValues { pairs, fragment }
    }
}

impl KV for ConstantValues {
    fn serialize(&self, _record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        if json_line::is_active_line_serializer(serializer) {
            return serializer.emit_str(RAW_JSON_KEY, &self.fragment);
        }
        for (key, value) in &self.pairs {
            serializer.emit_str(key, value)?;
        }
        Ok(())
    }
}

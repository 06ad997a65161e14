//! The environment fields: each configured variable becomes a key on every
//! record, lower-cased (`POD_NAME` becomes `pod_name`). Values are read once,
//! when the logger is built.

use slog::{KV, Record, Serializer};

/// Logged for a configured variable that is not set.
pub(crate) const MISSING_VALUE: &str = "N/A";

/// The environment fields, as key and value, in the configured order.
#[derive(Clone)]
pub(crate) struct EnvFields(pub(crate) Vec<(&'static str, String)>);

impl KV for EnvFields {
    fn serialize(&self, _record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        for (key, value) in &self.0 {
            serializer.emit_str(key, value)?;
        }
        Ok(())
    }
}

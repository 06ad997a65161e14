//! Formats a record as one JSON line straight into a byte buffer: the keys
//! every record opens with, then the logger's values, then the record's own
//! pairs. The line drain does this on the caller's thread, into a buffer it
//! reuses, so a record costs no allocation.

use super::head::level_name;
use super::timestamp::write_rfc3339_micros;
use crate::keys;
use slog::{KV, Key, OwnedKVList, Record, Serializer};
use std::fmt;
use std::time::SystemTime;

/// The keys that are the same on every record of the process, rendered
/// once: `,"host.hostname":"...","process.pid":N`.
pub(crate) struct ProcessKeys(Vec<u8>);

impl ProcessKeys {
    pub(crate) fn new(hostname: &str, pid: u32) -> Self {
        let mut rendered = Vec::new();
        write_key(&mut rendered, keys::HOSTNAME);
        write_string(&mut rendered, hostname);
        write_key(&mut rendered, keys::PID);
        rendered.extend_from_slice(itoa::Buffer::new().format(pid).as_bytes());
        ProcessKeys(rendered)
    }
}

/// Appends `record` to `out` as one line ending in `\n`. If a value fails to
/// serialize, the line is replaced by one that says so, with the original
/// message, so the record is never lost or cut in half.
pub(crate) fn format_record(
    out: &mut Vec<u8>,
    time: SystemTime,
    process: &ProcessKeys,
    record: &Record<'_>,
    values: &OwnedKVList,
) {
    let start = out.len();
    if let Err(error) = try_format(out, time, process, record, values) {
        out.truncate(start);
        let reason = error.to_string();
        let original = record.msg().to_string();
        let kv = (
            slog::SingleKV(keys::ERROR_INFO, reason.as_str()),
            slog::SingleKV("original_message", original.as_str()),
        );
        let replacement_static = slog::RecordStatic {
            location: record.location(),
            tag: "",
            level: slog::Level::Error,
        };
        let format_replacement = |out: &mut Vec<u8>, values: &OwnedKVList| {
            try_format(
                out,
                time,
                process,
                &Record::new(
                    &replacement_static,
                    &format_args!("Log record could not be formatted."),
                    slog::BorrowedKV(&kv),
                ),
                values,
            )
        };
        if format_replacement(out, values).is_err() {
            // The logger's own values fail too: keep only what is certain.
            out.truncate(start);
            let _ = format_replacement(out, &OwnedKVList::from(slog::o!()));
        }
    }
}

fn try_format(
    out: &mut Vec<u8>,
    time: SystemTime,
    process: &ProcessKeys,
    record: &Record<'_>,
    values: &OwnedKVList,
) -> slog::Result {
    out.extend_from_slice(b"{\"@timestamp\":\"");
    write_rfc3339_micros(out, time);
    out.push(b'"');
    write_key(out, keys::LEVEL);
    write_string(out, level_name(record.level()));
    write_key(out, keys::MESSAGE);
    write_arguments(out, record.msg());
    write_key(out, keys::ECS);
    write_string(out, keys::ECS_VERSION);
    write_key(out, keys::ORIGIN_FILE);
    write_string(out, record.location().file);
    write_key(out, keys::ORIGIN_LINE);
    out.extend_from_slice(
        itoa::Buffer::new()
            .format(record.location().line)
            .as_bytes(),
    );
    out.extend_from_slice(&process.0);
    let mut serializer = LineSerializer { out };
    values.serialize(record, &mut serializer)?;
    record.kv().serialize(record, &mut serializer)?;
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// Writes each pair as `,"key":value`.
struct LineSerializer<'a> {
    out: &'a mut Vec<u8>,
}

macro_rules! emit_integer {
    ($($method:ident: $type:ty),*) => {$(
        fn $method(&mut self, key: Key, value: $type) -> slog::Result {
            write_key(self.out, key);
            self.out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            Ok(())
        }
    )*};
}

impl Serializer for LineSerializer<'_> {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments<'_>) -> slog::Result {
        write_key(self.out, key);
        write_arguments(self.out, value);
        Ok(())
    }

    fn emit_str(&mut self, key: Key, value: &str) -> slog::Result {
        write_key(self.out, key);
        write_string(self.out, value);
        Ok(())
    }

    emit_integer!(
        emit_usize: usize, emit_isize: isize, emit_u8: u8, emit_i8: i8, emit_u16: u16, emit_i16: i16,
        emit_u32: u32, emit_i32: i32, emit_u64: u64, emit_i64: i64, emit_u128: u128, emit_i128: i128
    );

    fn emit_f32(&mut self, key: Key, value: f32) -> slog::Result {
        self.emit_f64(key, f64::from(value))
    }

    fn emit_f64(&mut self, key: Key, value: f64) -> slog::Result {
        write_key(self.out, key);
        if value.is_finite() {
            self.out
                .extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
        } else {
            // JSON has no NaN or infinity; serde_json writes null too.
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }

    fn emit_bool(&mut self, key: Key, value: bool) -> slog::Result {
        write_key(self.out, key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn emit_char(&mut self, key: Key, value: char) -> slog::Result {
        write_key(self.out, key);
        write_string(self.out, value.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        write_key(self.out, key);
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.emit_unit(key)
    }

    fn emit_serde(&mut self, key: Key, value: &dyn slog::SerdeValue) -> slog::Result {
        write_key(self.out, key);
        let start = self.out.len();
        if serde_json::to_writer(&mut *self.out, value.as_serde()).is_err() {
            // A model field notes its own error under `field_errors`.
            self.out.truncate(start);
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }
}

/// `,"key":`
fn write_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    write_escaped(out, key);
    out.extend_from_slice(b"\":");
}

/// A JSON string.
fn write_string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    write_escaped(out, value);
    out.push(b'"');
}

/// A JSON string of formatted text, escaped as it is formatted.
fn write_arguments(out: &mut Vec<u8>, arguments: &fmt::Arguments<'_>) {
    out.push(b'"');
    match arguments.as_str() {
        Some(text) => write_escaped(out, text),
        None => {
            let mut escaping = EscapingWriter(out);
            // Writing into a Vec cannot fail; a Display impl that fails
            // leaves what it wrote so far.
            let _ = fmt::write(&mut escaping, *arguments);
        }
    }
    out.push(b'"');
}

struct EscapingWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for EscapingWriter<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(self.0, text);
        Ok(())
    }
}

/// Escapes `"`, `\` and control characters as serde_json does; everything
/// else, UTF-8 included, is copied as it is.
fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut run_start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run_start..index]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        run_start = index + 1;
    }
    out.extend_from_slice(&bytes[run_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json_for_every_control_character_and_quotes() {
        let mut text: String = (0u8..0x20).map(char::from).collect();
        text.push_str("\"\\ plain é ✓ \u{7f}");
        let mut ours = Vec::new();
        write_string(&mut ours, &text);
        assert_eq!(
            String::from_utf8(ours).ok(),
            serde_json::to_string(&text).ok()
        );
    }

    #[test]
    fn formatted_arguments_are_escaped_as_they_are_written() {
        let mut out = Vec::new();
        write_arguments(&mut out, &format_args!("{}-{}", "a\"b", 7));
        assert_eq!(out, br#""a\"b-7""#);
    }
}

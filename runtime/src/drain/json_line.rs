//! Formats a record as one JSON line straight into a byte buffer: the keys
//! every record opens with, then the logger's values, then the record's own
//! pairs. The line drain's writer thread formats the records captured by
//! the decorator this way, with their logger's values rendered once
//! ([`LoggerValues::Rendered`]); other records are formatted by the caller.

use super::caps::SizeCaps;
use super::constant_values::ConstantValue;
use super::constant_values::ConstantValues;
use super::head::{
    FixedKey, PairSink, ProcessFields, write_head, write_head_after_timestamp, write_timestamp,
};
use super::timestamp::format_rfc3339_micros;
use super::unformattable;
use crate::sensitive::RedactionScope;
use slog::{KV, Key, OwnedKVList, Record, Serializer};
use std::cell::Cell;
use std::fmt;
use std::time::SystemTime;

/// The values of a record's logger: serialized for each record, or
/// rendered once ([`render_values`]) for all the records of a template.
#[derive(Clone, Copy)]
pub(crate) enum LoggerValues<'a> {
    List(&'a OwnedKVList),
    Rendered(&'a [u8]),
}

impl LoggerValues<'_> {
    fn write(self, record: &Record<'_>, serializer: &mut LineSerializer<'_>) -> slog::Result {
        match self {
            LoggerValues::List(list) => list.serialize(record, serializer),
            LoggerValues::Rendered(json) => {
                serializer.out.extend_from_slice(json);
                Ok(())
            }
        }
    }
}

/// What follows `@timestamp` in every line of `record`'s level, message and
/// origin through a logger with `values`, as the line serializer writes
/// it: the rest of the head, then the values.
pub(crate) fn render_constant_part(
    record: &Record<'_>,
    process: &ProcessFields,
    values: &OwnedKVList,
) -> Result<Vec<u8>, slog::Error> {
    let _redacting = RedactionScope::enter();
    let mut out = Vec::new();
    let mut serializer = LineSerializer { out: &mut out };
    write_head_after_timestamp(&mut serializer, record, process)?;
    values.serialize(record, &mut serializer)?;
    Ok(out)
}

/// `values` as the line serializer writes them, `,"key":value` for each
/// pair, for `record`.
pub(crate) fn render_values(
    record: &Record<'_>,
    values: &OwnedKVList,
) -> Result<Vec<u8>, slog::Error> {
    let _redacting = RedactionScope::enter();
    let mut out = Vec::new();
    values.serialize(record, &mut LineSerializer { out: &mut out })?;
    Ok(out)
}

/// Appends a line whose part after `@timestamp` up to the record's own
/// pairs was rendered once ([`render_constant_part`]), its pairs written by
/// `write_pairs`: the line [`format_record`] writes for the same record.
/// On failure, `out` is as it was.
pub(crate) fn format_with_constant_part(
    out: &mut Vec<u8>,
    time: SystemTime,
    constant_part: &[u8],
    caps: SizeCaps,
    write_pairs: impl FnOnce(&mut LineSerializer<'_>) -> slog::Result,
) -> slog::Result {
    let start = out.len();
    let mut serializer = LineSerializer::new(out);
    let written = write_timestamp(&mut serializer, time).and_then(|()| {
        serializer.out.extend_from_slice(constant_part);
        write_pairs(&mut serializer)
    });
    if let Err(error) = written {
        out.truncate(start);
        return Err(error);
    }
    close_line(out, start);
    caps.apply(out, start);
    Ok(())
}

/// `,"key":value` for each pair, as the line serializer writes them.
pub(crate) fn render_pairs(pairs: &[(&'static str, ConstantValue)]) -> String {
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

/// Appends `record` to `out` as one line ending in `\n`. If a value fails to
/// serialize, the line is replaced by one that says so, with the original
/// message, so the record is never lost or cut in half.
pub(crate) fn format_record(
    out: &mut Vec<u8>,
    time: SystemTime,
    process: &ProcessFields,
    caps: SizeCaps,
    record: &Record<'_>,
    values: LoggerValues<'_>,
) {
    let start = out.len();
    // Sensitive values are written as the redaction marker, at any depth.
    let _redacting = RedactionScope::enter();
    if let Err(error) = try_format(out, time, process, record, values) {
        out.truncate(start);
        unformattable::with_replacement(record, &error.to_string(), |replacement| {
            if try_format(out, time, process, replacement, values).is_err() {
                // The logger's own values fail too: keep only what is certain.
                out.truncate(start);
                let _ = try_format(out, time, process, replacement, LoggerValues::Rendered(b""));
            }
        });
    }
    caps.apply(out, start);
}

fn try_format(
    out: &mut Vec<u8>,
    time: SystemTime,
    process: &ProcessFields,
    record: &Record<'_>,
    values: LoggerValues<'_>,
) -> slog::Result {
    let start = out.len();
    let mut serializer = LineSerializer::new(out);
    write_head(&mut serializer, time, record, process)?;
    values.write(record, &mut serializer)?;
    record.kv().serialize(record, &mut serializer)?;
    close_line(out, start);
    Ok(())
}

/// Every pair was written as `,"key":value`: the first comma opens the
/// object, and `}` and a newline close it.
fn close_line(out: &mut Vec<u8>, start: usize) {
    if let Some(first) = out.get_mut(start) {
        *first = b'{';
    }
    out.extend_from_slice(b"}\n");
}

/// Writes each pair as `,"key":value`.
pub(crate) struct LineSerializer<'a> {
    out: &'a mut Vec<u8>,
}

/// Values written straight into the line, after a key already written (a
/// captured record's fields, whose keys its template rendered).
impl<'a> LineSerializer<'a> {
    /// A serializer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        LineSerializer { out }
    }

    /// Bytes already in JSON: a rendered key, a rendered value.
    #[inline(always)]
    pub(crate) fn raw(&mut self, json: &[u8]) {
        self.out.extend_from_slice(json);
    }

    /// A whole number.
    #[inline(always)]
    pub(crate) fn integer<I: itoa::Integer>(&mut self, value: I) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// A float (`null` if it is not finite).
    #[inline(always)]
    pub(crate) fn float_value<F: zmij::Float + Into<f64> + Copy>(&mut self, value: F) {
        write_float(self.out, value);
    }

    /// A JSON string.
    #[inline(always)]
    pub(crate) fn string(&mut self, value: &str) {
        write_string(self.out, value);
    }
}

/// `,"key":` as the line serializer writes it.
pub(crate) fn render_key(key: &'static str) -> Box<[u8]> {
    let mut out = Vec::new();
    write_key(&mut out, key);
    out.into_boxed_slice()
}

/// The head, written straight into the line: its keys are constants that
/// need no escaping, and the constant pairs are copied as one fragment.
impl PairSink for LineSerializer<'_> {
    #[inline(always)]
    fn timestamp(&mut self, key: FixedKey, time: SystemTime) -> slog::Result {
        self.out.extend_from_slice(key.json);
        self.out.push(b'"');
        self.out.extend_from_slice(&format_rfc3339_micros(time));
        self.out.push(b'"');
        Ok(())
    }

    #[inline(always)]
    fn plain_text(&mut self, key: FixedKey, value: &str) -> slog::Result {
        self.out.extend_from_slice(key.json);
        self.out.push(b'"');
        self.out.extend_from_slice(value.as_bytes());
        self.out.push(b'"');
        Ok(())
    }

    #[inline(always)]
    fn plain_bytes(&mut self, key: FixedKey, value: &[u8]) -> slog::Result {
        self.out.extend_from_slice(key.json);
        self.out.push(b'"');
        self.out.extend_from_slice(value);
        self.out.push(b'"');
        Ok(())
    }

    #[inline(always)]
    fn text(&mut self, key: FixedKey, value: &str) -> slog::Result {
        self.out.extend_from_slice(key.json);
        write_string(self.out, value);
        Ok(())
    }

    #[inline(always)]
    fn arguments(&mut self, key: FixedKey, value: &fmt::Arguments<'_>) -> slog::Result {
        self.out.extend_from_slice(key.json);
        write_arguments(self.out, value);
        Ok(())
    }

    #[inline(always)]
    fn number(&mut self, key: FixedKey, value: u64) -> slog::Result {
        self.out.extend_from_slice(key.json);
        self.integer(value);
        Ok(())
    }

    #[inline(always)]
    fn float(&mut self, key: FixedKey, value: f64) -> slog::Result {
        self.out.extend_from_slice(key.json);
        write_float(self.out, value);
        Ok(())
    }

    #[inline(always)]
    fn constants(&mut self, _record: &Record<'_>, values: &ConstantValues) -> slog::Result {
        self.out.extend_from_slice(values.fragment().as_bytes());
        Ok(())
    }
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
        write_key(self.out, key);
        write_float(self.out, value);
        Ok(())
    }

    fn emit_f64(&mut self, key: Key, value: f64) -> slog::Result {
        write_key(self.out, key);
        write_float(self.out, value);
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
        match serde_json::to_writer(&mut *self.out, value.as_serde()) {
            Ok(()) => Ok(()),
            Err(error) => {
                // The value's place holds null; the caller decides whether
                // the record can go on (a model field notes the error under
                // `field_errors`) or not.
                self.out.truncate(start);
                self.out.extend_from_slice(b"null");
                Err(slog::Error::Io(std::io::Error::other(error.to_string())))
            }
        }
    }
}

thread_local! {
    /// Keys already seen to need no escaping, by address: a slog key is a
    /// `&'static str`, so an address always holds the same text.
    static PLAIN_KEYS: [Cell<(usize, usize)>; 64] = const { [const { Cell::new((0, 0)) }; 64] };
}

/// `,"key":`
#[inline(always)]
fn write_key(out: &mut Vec<u8>, key: &'static str) {
    out.extend_from_slice(b",\"");
    let identity = (key.as_ptr() as usize, key.len());
    let slot = (identity.0 >> 3 ^ identity.1) % 64;
    let known_plain = PLAIN_KEYS.with(|keys| keys[slot].get() == identity);
    if known_plain {
        out.extend_from_slice(key.as_bytes());
    } else if is_plain(key.as_bytes()) {
        out.extend_from_slice(key.as_bytes());
        PLAIN_KEYS.with(|keys| keys[slot].set(identity));
    } else {
        write_escaped_slowly(out, key.as_bytes());
    }
    out.extend_from_slice(b"\":");
}

/// The shortest text of a float of its own width, as serde_json writes it
/// (an `f32` is not widened); JSON has no NaN or infinity, so those are null.
fn write_float<F: zmij::Float + Into<f64> + Copy>(out: &mut Vec<u8>, value: F) {
    if value.into().is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string.
#[inline(always)]
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
#[inline(always)]
fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        write_escaped_slowly(out, bytes);
    }
}

fn write_escaped_slowly(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut run_start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if needs_escape(byte) {
            out.extend_from_slice(&bytes[run_start..index]);
            write_escape(out, byte);
            run_start = index + 1;
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
}

#[inline]
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether no byte of `bytes` needs escaping. Most text is plain; this tests
/// eight bytes at a time without branching on each, the last group as the
/// string's last eight bytes.
#[inline(always)]
fn is_plain(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        return !bytes.iter().any(|&byte| needs_escape(byte));
    }
    let word = |chunk: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
    let mut chunks = bytes.chunks_exact(8);
    let mut special = 0;
    for chunk in &mut chunks {
        special |= special_bytes(word(chunk));
    }
    special |= special_bytes(word(&bytes[bytes.len() - 8..]));
    special == 0
}

/// Non-zero when any byte of `word` is below 0x20, a quote or a backslash.
#[inline(always)]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    below_space
        | has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\')))
}

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_runtime_writes_needs_no_escaping() {
        for key in crate::keys::RESERVED {
            assert!(is_plain(key.as_bytes()), "{key}");
        }
    }

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
    fn escapes_are_found_at_every_position_of_long_text() {
        for length in 0..40 {
            for position in 0..length {
                for special in ['"', '\\', '\n', '\u{1f}'] {
                    let mut text: String = "a".repeat(length);
                    text.replace_range(position..position + 1, &special.to_string());
                    let mut ours = Vec::new();
                    write_string(&mut ours, &text);
                    assert_eq!(
                        String::from_utf8(ours).ok(),
                        serde_json::to_string(&text).ok(),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn formatted_arguments_are_escaped_as_they_are_written() {
        let mut out = Vec::new();
        write_arguments(&mut out, &format_args!("{}-{}", "a\"b", 7));
        assert_eq!(out, br#""a\"b-7""#);
    }
}

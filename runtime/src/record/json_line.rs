//! Formats a record as one JSON line straight into a byte buffer: the keys
//! every record opens with, then the logger's values, then the record's own
//! pairs. The line drain's writer thread formats the records captured by
//! the decorator this way, with their logger's values rendered once
//! ([`LoggerValues::Rendered`]); other records are formatted by the caller.

use crate::record::caps::SizeCaps;
use crate::record::constant_values::ConstantValues;
use crate::record::head::{
    FixedKey, PairSink, ProcessFields, write_head, write_head_after_timestamp, write_timestamp,
};
use crate::record::json_text::{write_arguments, write_float, write_key, write_string};
use crate::record::timestamp::TimestampText;
use crate::record::unformattable;
use crate::sensitive::RedactionScope;
use slog::{KV, Key, OwnedKVList, Record, Serializer};
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
    timestamp: &TimestampText,
    constant_part: &[u8],
    caps: SizeCaps,
    write_pairs: impl FnOnce(&mut LineSerializer<'_>) -> slog::Result,
) -> slog::Result {
    let start = out.len();
    let mut serializer = LineSerializer::new(out);
    let written = write_timestamp(&mut serializer, timestamp).and_then(|()| {
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
    fn timestamp(&mut self, key: FixedKey, text: &TimestampText) -> slog::Result {
        self.out.extend_from_slice(key.json);
        self.out.push(b'"');
        self.out.extend_from_slice(text);
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

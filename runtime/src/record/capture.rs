//! A prediction record's compact form for the line drain: what changes per
//! record (the event, the clock reading, the ids, the trace, the duration,
//! the error) and the field values (numbers and booleans by value, text
//! copied, any other value as the JSON serde_json writes for it), written
//! into the channel by the caller ([`Capture`], with the fields a
//! [`FieldCapture`] took as they were recorded) and read back by the writer
//! thread ([`decode`]). Everything constant is in the
//! [`RecordTemplate`] the record refers to. The writer writes the values
//! with the writers serde_json uses, so a line has the bytes it would have
//! had if the caller had formatted it.

use crate::record::json_line::LineSerializer;
use crate::record::prediction_record::{PredictionEvent, PredictionPairs};
use crate::record::template::RecordTemplate;
use crate::record::trace_context::TraceContext;
use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// Flags of the optional parts.
const HAS_CORRELATION: u8 = 1;
const HAS_TRACE: u8 = 2;
const HAS_DURATION: u8 = 4;
const HAS_ERROR: u8 = 8;

/// A record ready to be captured: checked, and of known length.
pub(crate) struct Capture<'p, 'a, F> {
    event: PredictionEvent,
    /// The event clock's reading, in its nanoseconds.
    time: u64,
    pairs: &'p PredictionPairs<'a, F>,
    fields: &'p [u8],
    length: usize,
}

impl<'p, 'a, F> Capture<'p, 'a, F> {
    /// The record's capture, with `fields` as its recorder captured them
    /// ([`FieldCapture`]); `None` when the record is longer than
    /// `limit` bytes: the caller formats that record itself, and its line
    /// is capped there, so what waits in the channel stays bounded.
    pub(crate) fn new(
        event: PredictionEvent,
        time: u64,
        pairs: &'p PredictionPairs<'a, F>,
        fields: &'p [u8],
        limit: usize,
    ) -> Option<Self> {
        let text = |text: Option<&[u8]>| text.map_or(0, |text| 4 + text.len());
        let length = 1
            + 8
            + pairs.prediction_id.len()
            + 1
            + text(pairs.correlation_id.map(str::as_bytes))
            + pairs.trace.map_or(0, |_| TraceContext::WIRE_LENGTH)
            + pairs.duration_ns.map_or(0, |_| 8)
            + text(pairs.error_info.map(str::as_bytes))
            + fields.len();
        let fits = length <= limit
            && [
                pairs.correlation_id.map(str::as_bytes),
                pairs.error_info.map(str::as_bytes),
            ]
            .into_iter()
            .flatten()
            .all(|text| u32::try_from(text.len()).is_ok());
        fits.then_some(Capture {
            event,
            time,
            pairs,
            fields,
            length,
        })
    }

    /// How many bytes [`Self::write`] appends.
    pub(crate) fn len(&self) -> usize {
        self.length
    }

    /// Appends the compact form.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let pairs = self.pairs;
        out.push(self.event.code());
        out.extend_from_slice(&self.time.to_le_bytes());
        out.extend_from_slice(pairs.prediction_id);
        let flags = [
            (pairs.correlation_id.is_some(), HAS_CORRELATION),
            (pairs.trace.is_some(), HAS_TRACE),
            (pairs.duration_ns.is_some(), HAS_DURATION),
            (pairs.error_info.is_some(), HAS_ERROR),
        ]
        .into_iter()
        .filter(|(present, _)| *present)
        .fold(0, |flags, (_, flag)| flags | flag);
        out.push(flags);
        if let Some(id) = pairs.correlation_id {
            put_text(out, id);
        }
        if let Some(trace) = pairs.trace {
            out.extend_from_slice(&trace.to_wire());
        }
        if let Some(duration_ns) = pairs.duration_ns {
            out.extend_from_slice(&duration_ns.to_le_bytes());
        }
        if let Some(error_info) = pairs.error_info {
            put_text(out, error_info);
        }
        out.extend_from_slice(self.fields);
    }
}

/// A record read back from its compact form: its event, its clock reading and its
/// pairs, borrowed from the capture. The sample rate is the template's.
pub(crate) fn decode(
    bytes: &[u8],
    sample_rate: Option<f64>,
) -> Option<(
    PredictionEvent,
    u64,
    PredictionPairs<'_, CapturedFields<'_>>,
)> {
    let mut reader = Reader(bytes);
    let event = PredictionEvent::from_code(reader.byte()?)?;
    let time = reader.u64()?;
    let prediction_id = reader.take(36)?.try_into().ok()?;
    let flags = reader.byte()?;
    let has = |flag: u8| flags & flag != 0;
    let correlation_id = if has(HAS_CORRELATION) {
        Some(reader.text()?)
    } else {
        None
    };
    let trace = if has(HAS_TRACE) {
        let wire = reader.take(TraceContext::WIRE_LENGTH)?;
        Some(TraceContext::from_wire(wire.try_into().ok()?))
    } else {
        None
    };
    let duration_ns = if has(HAS_DURATION) {
        Some(reader.u64()?)
    } else {
        None
    };
    let error_info = if has(HAS_ERROR) {
        Some(reader.text()?)
    } else {
        None
    };
    let pairs = PredictionPairs {
        prediction_id,
        correlation_id,
        trace,
        sample_rate,
        status: event.status(),
        fields: CapturedFields { bytes: reader.0 },
        duration_ns,
        error_info,
    };
    Some((event, time, pairs))
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}

/// Its length (which [`Capture::new`] checked fits 4 bytes), then the bytes.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&bytes[..length as usize]);
}

/// Reads what [`Capture::write`] wrote.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(count)?;
        self.0 = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = u32::from_le_bytes(self.array()?);
        self.take(length as usize)
    }

    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
}

/// The tag of each captured value.
mod tag {
    pub(super) const NULL: u8 = 0;
    pub(super) const TRUE: u8 = 1;
    pub(super) const FALSE: u8 = 2;
    pub(super) const U64: u8 = 3;
    pub(super) const I64: u8 = 4;
    pub(super) const U128: u8 = 5;
    pub(super) const I128: u8 = 6;
    pub(super) const F32: u8 = 7;
    pub(super) const F64: u8 = 8;
    pub(super) const TEXT: u8 = 9;
    pub(super) const JSON: u8 = 10;
}

thread_local! {
    /// The buffer a recorder captures fields into, lent to one recorder
    /// at a time (a nested one starts with a buffer of its own).
    static FIELDS: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A field buffer larger than this is not kept for the next record.
const RETAINED_FIELD_BYTES: usize = 64 << 10;

/// Where a [`FieldRecorder`] captures its fields as they are recorded, each
/// as the index of its key in the template, then its value, with no type
/// erasure: the recorder knows each field's type.
pub(crate) struct FieldCapture<'k> {
    keys: &'k [&'static str],
    /// Where the next key is looked for first: fields come in the order
    /// the template lists them.
    next: usize,
    bytes: Vec<u8>,
}

impl<'k> FieldCapture<'k> {
    /// A capture of the fields of `event`'s record of `template`.
    pub(crate) fn new(template: &'k RecordTemplate, event: PredictionEvent) -> Self {
        let mut bytes = FIELDS.with(std::cell::Cell::take);
        bytes.clear();
        FieldCapture {
            keys: template.keys(),
            next: template.first_key(event),
            bytes,
        }
    }

    /// What was captured.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Starts the field under `key`; `false` if the template does not know it.
    pub(crate) fn key(&mut self, key: &'static str) -> bool {
        let matches = |known: &&'static str| std::ptr::eq(*known, key) || *known == key;
        let found = match self.keys.get(self.next) {
            Some(known) if matches(known) => Some(self.next),
            _ => self.keys.iter().position(matches),
        };
        match found.and_then(|index| Some((index, u16::try_from(index).ok()?))) {
            Some((index, wire)) => {
                self.next = index + 1;
                self.bytes.extend_from_slice(&wire.to_le_bytes());
                true
            }
            None => false,
        }
    }

    /// A value as serde writes it into a record ([`Sensitive`](crate::Sensitive)
    /// values redacted); `false` if serde_json cannot write it. Numbers,
    /// booleans, text and `null` (alone, in an `Option` or in a newtype) are
    /// captured as they are; anything else is written as JSON.
    pub(crate) fn value<T: ?Sized + Serialize>(&mut self, value: &T) -> bool {
        let _redacting = crate::sensitive::RedactionScope::enter();
        let start = self.bytes.len();
        if value.serialize(&mut ValueCapture(&mut self.bytes)).is_ok() {
            return true;
        }
        self.bytes.truncate(start);
        self.bytes.push(tag::JSON);
        let length_at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        if serde_json::to_writer(&mut self.bytes, value).is_err() {
            self.bytes.truncate(start);
            return false;
        }
        let length = self.bytes.len() - length_at - 4;
        let Ok(length) = u32::try_from(length) else {
            self.bytes.truncate(start);
            return false;
        };
        self.bytes[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
        true
    }

    /// A text value.
    pub(crate) fn text(&mut self, text: &str) {
        self.bytes.push(tag::TEXT);
        put_text(&mut self.bytes, text);
    }

    /// `null`.
    pub(crate) fn null(&mut self) {
        self.bytes.push(tag::NULL);
    }
}

/// Lends the buffer to the thread's next recorder.
impl Drop for FieldCapture<'_> {
    fn drop(&mut self) {
        if self.bytes.capacity() <= RETAINED_FIELD_BYTES {
            let bytes = std::mem::take(&mut self.bytes);
            FIELDS.with(|cell| cell.set(bytes));
        }
    }
}

/// The fields of a capture, read back.
pub(crate) struct CapturedFields<'a> {
    bytes: &'a [u8],
}

impl CapturedFields<'_> {
    /// Writes the fields straight into a line, each key as the template
    /// rendered it (`field_keys`, in the order of the template's keys);
    /// an error if the capture cannot be read.
    pub(crate) fn write_line(
        &self,
        line: &mut LineSerializer<'_>,
        field_keys: &[Box<[u8]>],
    ) -> slog::Result {
        let unreadable = || slog::Error::Other;
        let mut reader = Reader(self.bytes);
        while !reader.0.is_empty() {
            let index = u16::from_le_bytes(reader.array().ok_or_else(unreadable)?);
            line.raw(field_keys.get(usize::from(index)).ok_or_else(unreadable)?);
            CapturedValue::read(&mut reader)
                .ok_or_else(unreadable)?
                .write(line);
        }
        Ok(())
    }
}

/// One captured value.
#[derive(Clone, Copy)]
enum CapturedValue<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F32(f32),
    F64(f64),
    Text(&'a str),
    Json(&'a str),
}

impl<'a> CapturedValue<'a> {
    fn read(reader: &mut Reader<'a>) -> Option<Self> {
        Some(match reader.byte()? {
            tag::NULL => CapturedValue::Null,
            tag::TRUE => CapturedValue::Bool(true),
            tag::FALSE => CapturedValue::Bool(false),
            tag::U64 => CapturedValue::U64(u64::from_le_bytes(reader.array()?)),
            tag::I64 => CapturedValue::I64(i64::from_le_bytes(reader.array()?)),
            tag::U128 => CapturedValue::U128(u128::from_le_bytes(reader.array()?)),
            tag::I128 => CapturedValue::I128(i128::from_le_bytes(reader.array()?)),
            tag::F32 => CapturedValue::F32(f32::from_le_bytes(reader.array()?)),
            tag::F64 => CapturedValue::F64(f64::from_le_bytes(reader.array()?)),
            tag::TEXT => CapturedValue::Text(reader.text()?),
            tag::JSON => CapturedValue::Json(reader.text()?),
            _ => return None,
        })
    }

    /// The value as serde_json writes it: the same integer and float
    /// writers, the same escapes.
    fn write(self, line: &mut LineSerializer<'_>) {
        match self {
            CapturedValue::Null => line.raw(b"null"),
            CapturedValue::Bool(value) => line.raw(if value { b"true" } else { b"false" }),
            CapturedValue::U64(value) => line.integer(value),
            CapturedValue::I64(value) => line.integer(value),
            CapturedValue::U128(value) => line.integer(value),
            CapturedValue::I128(value) => line.integer(value),
            CapturedValue::F32(value) => line.float_value(value),
            CapturedValue::F64(value) => line.float_value(value),
            CapturedValue::Text(value) => line.string(value),
            // serde_json wrote it, on the caller.
            CapturedValue::Json(json) => line.raw(json.as_bytes()),
        }
    }
}

/// Why a value was not captured by value.
#[derive(Debug)]
struct NotCaptured;

impl fmt::Display for NotCaptured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not captured by value")
    }
}

impl std::error::Error for NotCaptured {}

impl ser::Error for NotCaptured {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        NotCaptured
    }
}

/// Captures a value that serde presents as a number, a boolean, text or
/// nothing; refuses anything else, which is then written as JSON.
struct ValueCapture<'o>(&'o mut Vec<u8>);

impl ValueCapture<'_> {
    fn put(&mut self, tag: u8, bytes: &[u8]) -> Result<(), NotCaptured> {
        self.0.push(tag);
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

macro_rules! capture_as {
    ($($method:ident: $type:ty => $tag:ident as $wide:ty),* $(,)?) => {$(
        fn $method(self, value: $type) -> Result<(), NotCaptured> {
            self.put(tag::$tag, &<$wide>::from(value).to_le_bytes())
        }
    )*};
}

impl ser::Serializer for &mut ValueCapture<'_> {
    type Ok = ();
    type Error = NotCaptured;
    type SerializeSeq = Impossible<(), NotCaptured>;
    type SerializeTuple = Impossible<(), NotCaptured>;
    type SerializeTupleStruct = Impossible<(), NotCaptured>;
    type SerializeTupleVariant = Impossible<(), NotCaptured>;
    type SerializeMap = Impossible<(), NotCaptured>;
    type SerializeStruct = Impossible<(), NotCaptured>;
    type SerializeStructVariant = Impossible<(), NotCaptured>;

    capture_as!(
        serialize_u8: u8 => U64 as u64, serialize_u16: u16 => U64 as u64,
        serialize_u32: u32 => U64 as u64, serialize_u64: u64 => U64 as u64,
        serialize_i8: i8 => I64 as i64, serialize_i16: i16 => I64 as i64,
        serialize_i32: i32 => I64 as i64, serialize_i64: i64 => I64 as i64,
        serialize_u128: u128 => U128 as u128, serialize_i128: i128 => I128 as i128,
        serialize_f32: f32 => F32 as f32, serialize_f64: f64 => F64 as f64,
    );

    fn serialize_bool(self, value: bool) -> Result<(), NotCaptured> {
        self.put(if value { tag::TRUE } else { tag::FALSE }, &[])
    }

    fn serialize_char(self, value: char) -> Result<(), NotCaptured> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), NotCaptured> {
        self.0.push(tag::TEXT);
        put_text(self.0, value);
        Ok(())
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<(), NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_none(self) -> Result<(), NotCaptured> {
        self.put(tag::NULL, &[])
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), NotCaptured> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), NotCaptured> {
        self.put(tag::NULL, &[])
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), NotCaptured> {
        self.put(tag::NULL, &[])
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), NotCaptured> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), NotCaptured> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, NotCaptured> {
        Err(NotCaptured)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NotCaptured> {
        Err(NotCaptured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn capture<'k>(keys: &'k [&'static str]) -> FieldCapture<'k> {
        FieldCapture {
            keys,
            next: 0,
            bytes: Vec::new(),
        }
    }

    /// What the writer writes for `value` after a capture and a read back.
    fn round_trip<T: Serialize>(value: &T) -> Option<String> {
        let mut writer = capture(&["field"]);
        if !(writer.key("field") && writer.value(value)) {
            return None;
        }
        let mut out = Vec::new();
        let fields = CapturedFields {
            bytes: writer.bytes(),
        };
        // The key rendered as nothing: the line holds the value alone.
        let keys: [Box<[u8]>; 1] = [Box::new([])];
        fields
            .write_line(&mut LineSerializer::new(&mut out), &keys)
            .ok()?;
        String::from_utf8(out).ok()
    }

    #[derive(serde::Serialize)]
    enum Risk {
        Risky,
        Scored(u8),
    }

    #[derive(serde::Serialize)]
    struct Wrapped(Option<f32>);

    #[test]
    fn every_kind_of_value_reads_back_as_serde_json_wrote_it() {
        let mut map = BTreeMap::new();
        map.insert("a", vec![1.5, -0.0]);
        fn check<T: Serialize>(value: T) {
            assert_eq!(
                round_trip(&value),
                serde_json::to_string(&value).ok(),
                "{}",
                serde_json::to_string(&value).unwrap_or_default()
            );
        }
        check(u8::MAX);
        check(i64::MIN);
        check(u128::MAX);
        check(i128::MIN);
        check(0.1f32);
        check(f64::MAX);
        check(f64::NAN);
        check(1e21f64);
        check(true);
        check('"');
        check("tab\t, quote \", é");
        check(Option::<u32>::None);
        check(Some(Some(7u16)));
        check(());
        check(Risk::Risky);
        check(Risk::Scored(3));
        check(Wrapped(Some(2.5)));
        check(vec![1, 2]);
        check(map);
    }

    #[test]
    fn a_sensitive_value_is_captured_redacted() {
        let applicant = Some(crate::Sensitive::new("Ada"));
        assert_eq!(round_trip(&applicant).as_deref(), Some("\"[REDACTED]\""));
    }

    #[test]
    fn a_value_serde_json_refuses_is_not_captured() {
        let mut map = BTreeMap::new();
        map.insert((1, 2), 3);
        assert_eq!(round_trip(&map), None);
    }

    #[test]
    fn a_key_the_template_does_not_know_is_refused() {
        let mut writer = capture(&["other", "known"]);
        assert!(!writer.key("unknown"));
        assert!(writer.key("known"));
    }
}

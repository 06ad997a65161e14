//! A prediction record as the caller hands it over: its pairs in the one
//! order every drain writes them ([`PredictionPairs`]), and their compact
//! form for the line drain ([`encode`] on the caller, [`decode`] on the
//! writer thread). The compact form holds what changes per record (the
//! event, the clock reading, the ids, the trace, the duration, the error)
//! and the field values: numbers and booleans by value, text copied, any
//! other value as the JSON serde_json writes for it. Everything constant is
//! in the [`RecordTemplate`](super::template::RecordTemplate) the record
//! refers to. The writer gives the values back to serde_json, so a line has
//! the bytes it would have had if the caller had formatted it.

use super::event_clock::EventTime;
use super::head::{PairSink, fixed_key};
use super::json_line::LineSerializer;
use super::template::RecordTemplate;
use crate::fields::FieldRecorder;
use crate::keys;
use crate::trace_context::TraceContext;
use serde::ser::{self, Impossible, Serialize};
use slog::{BorrowedKV, KV, Level, Record, RecordLocation, RecordStatic, Serializer};
use std::fmt;

/// The three prediction records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PredictionEvent {
    /// "Prediction requested.", before the call.
    Requested,
    /// "Prediction created.", after a success.
    Created,
    /// "Prediction exception.", after an error, a panic or a cancellation.
    Exception,
}

impl PredictionEvent {
    fn level(self) -> Level {
        match self {
            PredictionEvent::Requested | PredictionEvent::Created => Level::Info,
            PredictionEvent::Exception => Level::Error,
        }
    }

    /// `event.outcome`.
    pub(crate) fn status(self) -> Option<&'static str> {
        match self {
            PredictionEvent::Requested => None,
            PredictionEvent::Created => Some("success"),
            PredictionEvent::Exception => Some("error"),
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> Option<Self> {
        [
            PredictionEvent::Requested,
            PredictionEvent::Created,
            PredictionEvent::Exception,
        ]
        .into_iter()
        .find(|event| event.code() == code)
    }

    /// Calls `f` with the slog record of this event at `location` with
    /// `pairs`. Each message is a literal, so a drain copies it instead of
    /// formatting it.
    pub(crate) fn with_record<R>(
        self,
        location: &RecordLocation,
        pairs: &dyn KV,
        f: impl FnOnce(&Record<'_>) -> R,
    ) -> R {
        let record_static = RecordStatic {
            location,
            tag: "",
            level: self.level(),
        };
        let kv = BorrowedKV(pairs);
        match self {
            PredictionEvent::Requested => f(&Record::new(
                &record_static,
                &format_args!("Prediction requested."),
                kv,
            )),
            PredictionEvent::Created => f(&Record::new(
                &record_static,
                &format_args!("Prediction created."),
                kv,
            )),
            PredictionEvent::Exception => f(&Record::new(
                &record_static,
                &format_args!("Prediction exception."),
                kv,
            )),
        }
    }
}

/// The pairs a prediction record carries itself, after its logger's values,
/// in the order every drain writes them. `F` is the fields: borrowed from
/// the input or output on the caller, read back from a capture on the writer.
pub(crate) struct PredictionPairs<'a, F> {
    /// The id's text: ASCII hex digits and hyphens.
    pub(crate) prediction_id: &'a [u8; 36],
    pub(crate) correlation_id: Option<&'a str>,
    pub(crate) trace: Option<TraceContext>,
    pub(crate) sample_rate: Option<f64>,
    pub(crate) status: Option<&'static str>,
    pub(crate) fields: F,
    pub(crate) duration_ns: Option<u64>,
    pub(crate) error_info: Option<&'a str>,
}

impl<F> PredictionPairs<'_, F> {
    /// Writes the pairs into `sink`, the fields with `write_fields`: the one
    /// place that says which pairs a prediction record has, and in which
    /// order.
    pub(crate) fn write<S: PairSink + ?Sized>(
        &self,
        sink: &mut S,
        write_fields: impl FnOnce(&mut S, &F) -> slog::Result,
    ) -> slog::Result {
        sink.plain_bytes(fixed_key!(keys::PREDICTION_ID), self.prediction_id)?;
        if let Some(correlation_id) = self.correlation_id {
            sink.text(fixed_key!(keys::CORRELATION_ID), correlation_id)?;
        }
        if let Some(trace) = &self.trace {
            trace.write_ids(sink)?;
        }
        if let Some(rate) = self.sample_rate {
            sink.float(fixed_key!(keys::SAMPLE_RATE), rate)?;
        }
        if let Some(status) = self.status {
            sink.plain_text(fixed_key!(keys::STATUS), status)?;
        }
        write_fields(sink, &self.fields)?;
        if let Some(duration_ns) = self.duration_ns {
            sink.number(fixed_key!(keys::DURATION), duration_ns)?;
        }
        if let Some(error_info) = self.error_info {
            sink.text(fixed_key!(keys::ERROR_INFO), error_info)?;
        }
        Ok(())
    }
}

/// Through slog: the slog-async drain, a drain of the user's own, and a
/// record the line drain's caller formats.
impl<F: KV> KV for PredictionPairs<'_, F> {
    fn serialize(&self, record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        self.write(serializer, |serializer, fields| {
            fields.serialize(record, serializer)
        })
    }
}

/// Flags of the optional parts.
const HAS_CORRELATION: u8 = 1;
const HAS_TRACE: u8 = 2;
const HAS_DURATION: u8 = 4;
const HAS_ERROR: u8 = 8;

/// A record ready to be captured: checked, and of known length.
pub(crate) struct Capture<'p, 'a> {
    event: PredictionEvent,
    time: EventTime,
    pairs: &'p PredictionPairs<'a, &'a FieldRecorder<'a>>,
    fields: &'p [u8],
    length: usize,
}

impl<'p, 'a> Capture<'p, 'a> {
    /// The record's capture, with the fields its recorder captured
    /// ([`FieldCapture`]); `None` when the record has what the compact form
    /// does not carry (a field that was not captured) or is longer than
    /// `limit` bytes: the caller formats that record itself, and its line
    /// is capped there, so what waits in the channel stays bounded.
    pub(crate) fn new(
        event: PredictionEvent,
        time: EventTime,
        pairs: &'p PredictionPairs<'a, &'a FieldRecorder<'a>>,
        limit: usize,
    ) -> Option<Self> {
        let fields = pairs.fields.captured()?;
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
        out.extend_from_slice(&self.time.to_nanos().to_le_bytes());
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

/// A record read back from its compact form: its event, its time and its
/// pairs, borrowed from the capture. The sample rate is the template's.
pub(crate) fn decode<'a>(
    bytes: &'a [u8],
    keys: &'a [&'static str],
    sample_rate: Option<f64>,
) -> Option<(
    PredictionEvent,
    EventTime,
    PredictionPairs<'a, CapturedFields<'a>>,
)> {
    let mut reader = Reader(bytes);
    let event = PredictionEvent::from_code(reader.byte()?)?;
    let time = EventTime::from_nanos(reader.u64()?);
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
        fields: CapturedFields {
            keys,
            bytes: reader.0,
        },
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

/// Reads what [`encode`] wrote.
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

/// The fields of a capture, read back; written through any slog serializer:
/// numbers, booleans, text and `null` through its own methods (the line
/// serializer writes each as serde_json does: the same integer and float
/// writers, the same escapes), JSON values as serde values.
pub(crate) struct CapturedFields<'a> {
    keys: &'a [&'static str],
    bytes: &'a [u8],
}

impl CapturedFields<'_> {
    /// Writes the fields straight into a line, each key as the template
    /// rendered it (`field_keys`, in the order of the template's keys).
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
            match CapturedValue::read(&mut reader).ok_or_else(unreadable)? {
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
        Ok(())
    }
}

impl KV for CapturedFields<'_> {
    fn serialize(&self, _record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        let unreadable = || slog::Error::Other;
        let mut reader = Reader(self.bytes);
        while !reader.0.is_empty() {
            let index = u16::from_le_bytes(reader.array().ok_or_else(unreadable)?);
            let key = *self.keys.get(usize::from(index)).ok_or_else(unreadable)?;
            match CapturedValue::read(&mut reader).ok_or_else(unreadable)? {
                CapturedValue::Null => serializer.emit_unit(key)?,
                CapturedValue::Bool(value) => serializer.emit_bool(key, value)?,
                CapturedValue::U64(value) => serializer.emit_u64(key, value)?,
                CapturedValue::I64(value) => serializer.emit_i64(key, value)?,
                CapturedValue::U128(value) => serializer.emit_u128(key, value)?,
                CapturedValue::I128(value) => serializer.emit_i128(key, value)?,
                CapturedValue::F32(value) => serializer.emit_f32(key, value)?,
                CapturedValue::F64(value) => serializer.emit_f64(key, value)?,
                CapturedValue::Text(value) => serializer.emit_str(key, value)?,
                json @ CapturedValue::Json(_) => serializer.emit_serde(key, &json)?,
            }
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
}

impl Serialize for CapturedValue<'_> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            CapturedValue::Null => serializer.serialize_unit(),
            CapturedValue::Bool(value) => serializer.serialize_bool(value),
            CapturedValue::U64(value) => serializer.serialize_u64(value),
            CapturedValue::I64(value) => serializer.serialize_i64(value),
            CapturedValue::U128(value) => serializer.serialize_u128(value),
            CapturedValue::I128(value) => serializer.serialize_i128(value),
            CapturedValue::F32(value) => serializer.serialize_f32(value),
            CapturedValue::F64(value) => serializer.serialize_f64(value),
            CapturedValue::Text(value) => serializer.serialize_str(value),
            CapturedValue::Json(json) => {
                // serde_json wrote it on the caller; its raw value is copied as it is.
                let raw: &serde_json::value::RawValue =
                    serde_json::from_str(json).map_err(ser::Error::custom)?;
                raw.serialize(serializer)
            }
        }
    }
}

impl slog::Value for CapturedValue<'_> {
    fn serialize(
        &self,
        _record: &Record<'_>,
        key: slog::Key,
        serializer: &mut dyn Serializer,
    ) -> slog::Result {
        serializer.emit_serde(key, self)
    }
}

impl slog::SerdeValue for CapturedValue<'_> {
    fn as_serde(&self) -> &dyn erased_serde::Serialize {
        self
    }

    fn to_sendable(&self) -> Box<dyn slog::SerdeValue + Send + 'static> {
        Box::new(slog::Serde(
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        ))
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

    /// The JSON serde_json writes for `value` after a capture and a read back.
    fn round_trip<T: Serialize>(value: &T) -> Option<String> {
        let mut writer = capture(&["field"]);
        if !(writer.key("field") && writer.value(value)) {
            return None;
        }
        let mut reader = Reader(&writer.bytes()[2..]);
        let value = CapturedValue::read(&mut reader)?;
        assert!(reader.0.is_empty());
        serde_json::to_string(&value).ok()
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

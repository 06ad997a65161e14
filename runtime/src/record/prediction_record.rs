//! A prediction record's shape: the three records ([`PredictionEvent`]:
//! message, level, outcome) and the pairs each carries itself, in the one
//! order every drain writes them ([`PredictionPairs`]), for the caller's
//! slog path and for the line drain's writer alike.

use crate::keys;
use crate::record::head::{PairSink, fixed_key};
use crate::record::trace_context::TraceContext;
use slog::{BorrowedKV, KV, Level, Record, RecordLocation, RecordStatic, Serializer};

/// The text of the four messages of a model's records, each written once:
/// a literal, so that a record's `format_args!` keeps it as static text.
macro_rules! message {
    (requested) => {
        "Prediction requested."
    };
    (created) => {
        "Prediction created."
    };
    (exception) => {
        "Prediction exception."
    };
    (outcome) => {
        "Prediction outcome."
    };
}

/// The message of the record written when a prediction starts, with its
/// input fields.
///
/// ```
/// assert_eq!(logged_model::REQUESTED_MESSAGE, "Prediction requested.");
/// ```
pub const REQUESTED_MESSAGE: &str = message!(requested);
/// The message of the record written when a prediction succeeds, with its
/// output fields and duration.
pub const CREATED_MESSAGE: &str = message!(created);
/// The message of the record written when a prediction fails or panics,
/// with its error and duration.
pub const EXCEPTION_MESSAGE: &str = message!(exception);
/// The message of an outcome record, written by an
/// [`OutcomeLogger`](crate::OutcomeLogger).
pub const OUTCOME_MESSAGE: &str = message!(outcome);

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

    /// Its code in a capture.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    /// The event of a capture's code.
    pub(crate) fn from_code(code: u8) -> Option<Self> {
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
        let level = self.level();
        match self {
            PredictionEvent::Requested => {
                with_message(location, level, format_args!(message!(requested)), pairs, f)
            }
            PredictionEvent::Created => {
                with_message(location, level, format_args!(message!(created)), pairs, f)
            }
            PredictionEvent::Exception => {
                with_message(location, level, format_args!(message!(exception)), pairs, f)
            }
        }
    }
}

/// Calls `f` with the outcome record of a prediction at `location`: the
/// same pairs as the prediction's records (its id, correlation, trace and
/// the outcome's fields, in the same order), under its own message.
pub(crate) fn with_outcome_record<R>(
    location: &RecordLocation,
    pairs: &dyn KV,
    f: impl FnOnce(&Record<'_>) -> R,
) -> R {
    with_message(
        location,
        Level::Info,
        format_args!(message!(outcome)),
        pairs,
        f,
    )
}

/// Calls `f` with the record of a model at `location`, at `level`, saying
/// `message`, with `pairs`.
fn with_message<R>(
    location: &RecordLocation,
    level: Level,
    message: std::fmt::Arguments<'_>,
    pairs: &dyn KV,
    f: impl FnOnce(&Record<'_>) -> R,
) -> R {
    let record_static = RecordStatic {
        location,
        tag: "",
        level,
    };
    f(&Record::new(&record_static, &message, BorrowedKV(pairs)))
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

impl<'a, F> PredictionPairs<'a, F> {
    /// The same pairs, with `fields`.
    pub(crate) fn with_fields<G>(&self, fields: G) -> PredictionPairs<'a, G> {
        PredictionPairs {
            prediction_id: self.prediction_id,
            correlation_id: self.correlation_id,
            trace: self.trace,
            sample_rate: self.sample_rate,
            status: self.status,
            fields,
            duration_ns: self.duration_ns,
            error_info: self.error_info,
        }
    }

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

//! The records of one prediction: "Prediction requested." before the call,
//! then "Prediction created." or "Prediction exception." after it.

use crate::correlation::{self, CorrelationId};
use crate::fields::FieldRecorder;
use crate::generated::LogSpec;
use crate::keys;
use slog::{BorrowedKV, Drain, KV, Level, Logger, Record, RecordStatic, Serializer};
use std::any::Any;
use std::fmt::Display;
use std::time::Instant;

/// The error text of a prediction whose future was dropped before it ended.
const CANCELLED: &str = "Prediction cancelled: the caller dropped it before it completed.";

/// The three messages. Each is written as a literal, so the drain copies
/// it instead of formatting it.
#[derive(Clone, Copy)]
enum Message {
    Requested,
    Created,
    Exception,
}

/// One prediction in flight. Dropping it before it is finished (an async
/// prediction whose future was dropped) logs an exception, so that every
/// "Prediction requested." has an outcome.
pub(crate) struct PredictionCall<'l> {
    logger: &'l Logger,
    spec: &'static LogSpec,
    /// The UUID, hyphenated, as text.
    prediction_id: [u8; uuid::fmt::Hyphenated::LENGTH],
    correlation_id: Option<CorrelationId>,
    started: Instant,
    finished: bool,
}

impl<'l> PredictionCall<'l> {
    /// Logs "Prediction requested." with the input fields and starts the
    /// clock. `None` when the logger would discard even an exception record,
    /// so a filtered-out decorator costs almost nothing.
    pub(crate) fn start<'i>(
        logger: &'l Logger,
        spec: &'static LogSpec,
        record_input: impl FnOnce(&mut FieldRecorder<'i>),
    ) -> Option<Self> {
        if !logger.is_enabled(Level::Error) {
            return None;
        }
        let mut prediction_id = [0; uuid::fmt::Hyphenated::LENGTH];
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut prediction_id);
        let call = PredictionCall {
            logger,
            spec,
            prediction_id,
            correlation_id: correlation::current(),
            started: Instant::now(),
            finished: false,
        };
        if logger.is_enabled(Level::Info) {
            let mut fields = FieldRecorder::default();
            record_input(&mut fields);
            call.emit(Level::Info, Message::Requested, None, &fields, None);
        }
        Some(call)
    }

    /// Logs the outcome of the model's `predict` and hands it back: the
    /// output, the error unchanged, or the panic resumed.
    pub(crate) fn finish<O, E: Display>(
        self,
        outcome: std::thread::Result<Result<O, E>>,
        record_output: impl for<'o> FnOnce(&'o O, &mut FieldRecorder<'o>),
    ) -> Result<O, E> {
        match outcome {
            Ok(Ok(output)) => {
                self.created(&output, record_output);
                Ok(output)
            }
            Ok(Err(error)) => {
                self.failed(&error);
                Err(error)
            }
            Err(payload) => {
                self.panicked(&*payload);
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// Logs "Prediction created." with the output fields.
    fn created<O>(
        mut self,
        output: &O,
        record_output: impl for<'o> FnOnce(&'o O, &mut FieldRecorder<'o>),
    ) {
        self.finished = true;
        if self.logger.is_enabled(Level::Info) {
            let mut fields = FieldRecorder::default();
            record_output(output, &mut fields);
            self.emit(
                Level::Info,
                Message::Created,
                Some("success"),
                &fields,
                None,
            );
        }
    }

    /// Logs "Prediction exception." for an error the model returned.
    fn failed(mut self, error: &dyn Display) {
        self.finished = true;
        self.exception(&error.to_string());
    }

    /// Logs "Prediction exception." for a panic inside `predict`.
    fn panicked(mut self, payload: &(dyn Any + Send)) {
        self.finished = true;
        self.exception(panic_message(payload));
    }

    fn exception(&self, error_info: &str) {
        self.emit(
            Level::Error,
            Message::Exception,
            Some("error"),
            &FieldRecorder::default(),
            Some(error_info),
        );
    }

    fn emit(
        &self,
        level: Level,
        message: Message,
        status: Option<&'static str>,
        fields: &FieldRecorder<'_>,
        error_info: Option<&str>,
    ) {
        let duration_ns =
            status.map(|_| u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        let kv = PredictionKv {
            // Only ASCII hex digits and hyphens were written into it.
            prediction_id: std::str::from_utf8(&self.prediction_id).unwrap_or_default(),
            correlation_id: self.correlation_id.as_ref(),
            status,
            fields,
            duration_ns,
            error_info,
        };
        let record_static = RecordStatic {
            location: &self.spec.location,
            tag: "",
            level,
        };
        let kv = BorrowedKV(&kv);
        match message {
            Message::Requested => self.logger.log(&Record::new(
                &record_static,
                &format_args!("Prediction requested."),
                kv,
            )),
            Message::Created => self.logger.log(&Record::new(
                &record_static,
                &format_args!("Prediction created."),
                kv,
            )),
            Message::Exception => self.logger.log(&Record::new(
                &record_static,
                &format_args!("Prediction exception."),
                kv,
            )),
        }
    }
}

impl Drop for PredictionCall<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.exception(CANCELLED);
        }
    }
}

/// The text of a panic payload: the message of `panic!("...")`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "the prediction panicked with a payload that is not a string"
    }
}

/// The keys a prediction record carries itself, in the order they are written.
struct PredictionKv<'a> {
    prediction_id: &'a str,
    correlation_id: Option<&'a CorrelationId>,
    status: Option<&'static str>,
    fields: &'a FieldRecorder<'a>,
    duration_ns: Option<u64>,
    error_info: Option<&'a str>,
}

impl KV for PredictionKv<'_> {
    fn serialize(&self, record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        serializer.emit_str(keys::PREDICTION_ID, self.prediction_id)?;
        if let Some(id) = self.correlation_id {
            serializer.emit_str(keys::CORRELATION_ID, id.as_str())?;
        }
        if let Some(status) = self.status {
            serializer.emit_str(keys::STATUS, status)?;
        }
        self.fields.serialize(record, serializer)?;
        if let Some(duration_ns) = self.duration_ns {
            serializer.emit_u64(keys::DURATION, duration_ns)?;
        }
        if let Some(error_info) = self.error_info {
            serializer.emit_str(keys::ERROR_INFO, error_info)?;
        }
        Ok(())
    }
}

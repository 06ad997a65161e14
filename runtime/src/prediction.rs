//! The records of one prediction: "Prediction requested." before the call,
//! then "Prediction created." or "Prediction exception." after it.

use crate::correlation::{self, CorrelationId};
use crate::fields::FieldRecorder;
use crate::keys;
use crate::logged_fields::LogSpec;
use slog::{BorrowedKV, Drain, KV, Level, Logger, Record, RecordStatic, Serializer};
use std::any::Any;
use std::fmt::Display;
use std::time::Instant;

const REQUESTED: &str = "Prediction requested.";
const CREATED: &str = "Prediction created.";
const EXCEPTION: &str = "Prediction exception.";
const CANCELLED: &str = "Prediction cancelled: the caller dropped it before it completed.";

/// One prediction in flight. Dropping it before it is finished (an async
/// prediction whose future was dropped) logs an exception, so that every
/// "Prediction requested." has an outcome.
pub(crate) struct PredictionCall<'a> {
    logger: &'a Logger,
    spec: &'static LogSpec,
    prediction_id: String,
    correlation_id: Option<CorrelationId>,
    started: Instant,
    finished: bool,
}

impl<'a> PredictionCall<'a> {
    /// Logs "Prediction requested." with the input fields and starts the
    /// clock. `None` when the logger would discard even an exception record,
    /// so a filtered-out decorator costs almost nothing.
    pub(crate) fn start(
        logger: &'a Logger,
        spec: &'static LogSpec,
        record_input: impl FnOnce(&mut FieldRecorder),
    ) -> Option<Self> {
        if !logger.is_enabled(Level::Error) {
            return None;
        }
        let call = PredictionCall {
            logger,
            spec,
            prediction_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: correlation::current(),
            started: Instant::now(),
            finished: false,
        };
        if logger.is_enabled(Level::Info) {
            let mut fields = FieldRecorder::default();
            record_input(&mut fields);
            call.emit(Level::Info, REQUESTED, None, &fields, None);
        }
        Some(call)
    }

    /// Logs the outcome of the model's `predict` and hands it back: the
    /// output, the error unchanged, or the panic resumed.
    pub(crate) fn finish<O, E: Display>(
        self,
        outcome: std::thread::Result<Result<O, E>>,
        record_output: impl FnOnce(&O, &mut FieldRecorder),
    ) -> Result<O, E> {
        match outcome {
            Ok(Ok(output)) => {
                self.created(|fields| record_output(&output, fields));
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
    fn created(mut self, record_output: impl FnOnce(&mut FieldRecorder)) {
        self.finished = true;
        if self.logger.is_enabled(Level::Info) {
            let mut fields = FieldRecorder::default();
            record_output(&mut fields);
            self.emit(Level::Info, CREATED, Some("success"), &fields, None);
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
            EXCEPTION,
            Some("error"),
            &FieldRecorder::default(),
            Some(error_info),
        );
    }

    fn emit(
        &self,
        level: Level,
        message: &'static str,
        status: Option<&'static str>,
        fields: &FieldRecorder,
        error_info: Option<&str>,
    ) {
        let duration_ns =
            status.map(|_| u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        let kv = PredictionKv {
            prediction_id: &self.prediction_id,
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
        self.logger.log(&Record::new(
            &record_static,
            &format_args!("{message}"),
            BorrowedKV(&kv),
        ));
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
fn panic_message(payload: &(dyn Any + Send)) -> &str {
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
    fields: &'a FieldRecorder,
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

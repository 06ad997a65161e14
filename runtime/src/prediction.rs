//! The records of one prediction: "Prediction requested." before the call,
//! then "Prediction created." or "Prediction exception." after it, or none
//! at all when the prediction is sampled out and succeeds.

use crate::correlation::{self, CorrelationId};
use crate::fields::FieldRecorder;
use crate::generated::LoggedModel;
use crate::keys;
use crate::logged::ModelContext;
use crate::prediction_id::PredictionId;
use crate::trace_context::TraceContext;
use slog::{BorrowedKV, Drain, KV, Level, Record, RecordStatic, Serializer};
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

/// What the call logs.
enum Logging {
    /// Nothing: the logger would discard even an exception record.
    Off,
    /// Only a failure, with the input fields: the prediction was sampled out.
    FailuresOnly {
        correlation_id: Option<CorrelationId>,
        trace: Option<TraceContext>,
    },
    /// Both records.
    Whole {
        prediction_id: PredictionId,
        correlation_id: Option<CorrelationId>,
        trace: Option<TraceContext>,
        started: Instant,
    },
}

/// One prediction in flight. Dropping it before it is finished (an async
/// prediction whose future was dropped) logs an exception, so that every
/// "Prediction requested." has an outcome.
pub(crate) struct PredictionCall<'l, M: LoggedModel> {
    context: &'l ModelContext,
    input: &'l M::Input,
    logging: Logging,
    finished: bool,
}

impl<'l, M: LoggedModel> PredictionCall<'l, M> {
    /// Decides whether the prediction is logged and, if it is, logs
    /// "Prediction requested." with the input fields and starts the clock.
    #[inline]
    pub(crate) fn start(context: &'l ModelContext, input: &'l M::Input) -> Self {
        let logging = if !context.logger.is_enabled(Level::Error) {
            Logging::Off
        } else {
            let correlation_id = correlation::current();
            let trace = correlation::current_trace();
            if context.sample_rate.keeps(correlation_id.as_ref()) {
                Logging::Whole {
                    prediction_id: PredictionId::new(),
                    correlation_id,
                    trace,
                    started: Instant::now(),
                }
            } else {
                Logging::FailuresOnly {
                    correlation_id,
                    trace,
                }
            }
        };
        let call = PredictionCall {
            context,
            input,
            logging,
            finished: false,
        };
        if let Logging::Whole { prediction_id, .. } = &call.logging {
            if context.logger.is_enabled(Level::Info) {
                let mut fields = FieldRecorder::new(context.hash_key.as_ref());
                M::record_input(input, &mut fields);
                call.emit(Message::Requested, prediction_id, None, &fields, None);
            }
        }
        call
    }

    /// The id the call's records carry, when they are written.
    pub(crate) fn prediction_id(&self) -> Option<PredictionId> {
        match &self.logging {
            Logging::Whole { prediction_id, .. } => Some(*prediction_id),
            Logging::FailuresOnly { .. } | Logging::Off => None,
        }
    }

    /// Logs the outcome of the model's `predict` and hands it back: the
    /// output, the error unchanged, or the panic resumed.
    pub(crate) fn finish<E: Display>(
        mut self,
        outcome: std::thread::Result<Result<M::Output, E>>,
    ) -> Result<M::Output, E> {
        self.finished = true;
        match outcome {
            Ok(Ok(output)) => {
                self.created(&output);
                Ok(output)
            }
            Ok(Err(error)) => {
                self.exception(&error.to_string());
                Err(error)
            }
            Err(payload) => {
                self.exception(panic_message(&*payload));
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// Logs "Prediction created." with the output fields.
    fn created(&self, output: &M::Output) {
        let stats = &self.context.stats;
        stats.count_success();
        match &self.logging {
            Logging::Whole { prediction_id, .. } => {
                if self.context.logger.is_enabled(Level::Info) {
                    let mut fields = FieldRecorder::new(self.context.hash_key.as_ref());
                    M::record_output(output, &mut fields);
                    self.emit(
                        Message::Created,
                        prediction_id,
                        Some("success"),
                        &fields,
                        None,
                    );
                }
            }
            Logging::FailuresOnly { .. } => stats.count_sampled_out(),
            Logging::Off => {}
        }
    }

    /// Logs "Prediction exception." for an error, a panic or a cancellation.
    /// A prediction that was sampled out is logged all the same, with its
    /// input fields, so that the failure can be diagnosed.
    fn exception(&self, error_info: &str) {
        self.context.stats.count_failure();
        match &self.logging {
            Logging::Whole { prediction_id, .. } => {
                let fields = FieldRecorder::new(self.context.hash_key.as_ref());
                self.emit(
                    Message::Exception,
                    prediction_id,
                    Some("error"),
                    &fields,
                    Some(error_info),
                );
            }
            Logging::FailuresOnly { .. } => {
                let mut fields = FieldRecorder::new(self.context.hash_key.as_ref());
                M::record_input(self.input, &mut fields);
                let prediction_id = PredictionId::new();
                self.emit(
                    Message::Exception,
                    &prediction_id,
                    Some("error"),
                    &fields,
                    Some(error_info),
                );
            }
            Logging::Off => {}
        }
    }

    fn emit(
        &self,
        message: Message,
        prediction_id: &PredictionId,
        status: Option<&'static str>,
        fields: &FieldRecorder<'_>,
        error_info: Option<&str>,
    ) {
        let (correlation_id, trace, duration_ns) = match &self.logging {
            Logging::Whole {
                correlation_id,
                trace,
                started,
                ..
            } => (
                correlation_id.as_ref(),
                trace.as_ref(),
                status.map(|_| {
                    let nanoseconds =
                        u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    self.context.stats.count_duration(nanoseconds);
                    nanoseconds
                }),
            ),
            // Not timed: a clock read would cost every sampled-out prediction.
            Logging::FailuresOnly {
                correlation_id,
                trace,
            } => (correlation_id.as_ref(), trace.as_ref(), None),
            Logging::Off => (None, None, None),
        };
        let kv = PredictionKv {
            prediction_id: prediction_id.as_str(),
            correlation_id,
            trace,
            sample_rate: self.context.sample_rate.below_one(),
            status,
            fields,
            duration_ns,
            error_info,
        };
        let level = match message {
            Message::Exception => Level::Error,
            Message::Requested | Message::Created => Level::Info,
        };
        let record_static = RecordStatic {
            location: &M::log_spec().location,
            tag: "",
            level,
        };
        let kv = BorrowedKV(&kv);
        let logger = &self.context.logger;
        match message {
            Message::Requested => logger.log(&Record::new(
                &record_static,
                &format_args!("Prediction requested."),
                kv,
            )),
            Message::Created => logger.log(&Record::new(
                &record_static,
                &format_args!("Prediction created."),
                kv,
            )),
            Message::Exception => logger.log(&Record::new(
                &record_static,
                &format_args!("Prediction exception."),
                kv,
            )),
        }
    }
}

impl<M: LoggedModel> Drop for PredictionCall<'_, M> {
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
    trace: Option<&'a TraceContext>,
    sample_rate: Option<f64>,
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
        if let Some(trace) = self.trace {
            trace.serialize(record, serializer)?;
        }
        if let Some(rate) = self.sample_rate {
            serializer.emit_f64(keys::SAMPLE_RATE, rate)?;
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

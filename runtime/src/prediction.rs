//! The records of one prediction: "Prediction requested." before the call,
//! then "Prediction created." or "Prediction exception." after it, or none
//! at all when the prediction is sampled out and succeeds.

use crate::correlation::{self, CorrelationId};
use crate::fields::FieldRecorder;
use crate::generated::LoggedModel;
use crate::model_logger::ModelContext;
use crate::pipeline::event_clock::EventTime;
use crate::prediction_id::PredictionId;
use crate::record::capture::FieldCapture;
use crate::record::prediction_record::{PredictionEvent, PredictionPairs};
use crate::record::trace_context::TraceContext;
use crate::record::unformattable::panic_message;
use slog::{Drain, Level};
use std::fmt::Display;

/// The error text of a prediction whose future was dropped before it ended.
const CANCELLED: &str = "Prediction cancelled: the caller dropped it before it completed.";

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
        started: EventTime,
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
                    started: EventTime::now(),
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
                call.emit(
                    PredictionEvent::Requested,
                    prediction_id,
                    |fields| M::record_input(input, fields),
                    None,
                );
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

    /// Hands the prediction's values to the model's profile, if it has one:
    /// the input fields, the output fields of a prediction that succeeded,
    /// then the fields profiled but not logged, numbered in that order.
    fn profile(&self, output: Option<&M::Output>) {
        let Some(collector) = &self.context.profile else {
            return;
        };
        let input = self.input;
        collector.record(|bytes| {
            // A sensitive value inside a plain field is read as the
            // redaction marker, as it is written.
            let _redacting = crate::sensitive::RedactionScope::enter();
            let mut fields = FieldRecorder::profiling(std::mem::take(bytes), 0);
            M::record_input(input, &mut fields);
            match output {
                Some(output) => M::record_output(output, &mut fields),
                None => fields.skip_profiled(M::log_spec().output_keys.len()),
            }
            M::record_profile_input(input, &mut fields);
            *bytes = fields.into_profile();
        });
    }

    /// Logs "Prediction created." with the output fields.
    fn created(&self, output: &M::Output) {
        self.profile(Some(output));
        let stats = &self.context.stats;
        stats.count_success();
        match &self.logging {
            Logging::Whole { prediction_id, .. } => {
                if self.context.logger.is_enabled(Level::Info) {
                    self.emit(
                        PredictionEvent::Created,
                        prediction_id,
                        |fields| M::record_output(output, fields),
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
        self.profile(None);
        self.context.stats.count_failure();
        match &self.logging {
            Logging::Whole { prediction_id, .. } => {
                self.emit(
                    PredictionEvent::Exception,
                    prediction_id,
                    |_| {},
                    Some(error_info),
                );
            }
            Logging::FailuresOnly { .. } => {
                let input = self.input;
                self.emit(
                    PredictionEvent::Exception,
                    &PredictionId::new(),
                    |fields| M::record_input(input, fields),
                    Some(error_info),
                );
            }
            Logging::Off => {}
        }
    }

    /// Logs one record, its fields recorded by `record_fields`: captured
    /// for the line drain's writer when the logger has one (each field
    /// recorded once, straight into the capture), through slog otherwise or
    /// when the record cannot be captured (its fields are then recorded
    /// again, as borrows).
    fn emit<'f>(
        &self,
        event: PredictionEvent,
        prediction_id: &PredictionId,
        record_fields: impl Fn(&mut FieldRecorder<'f>),
        error_info: Option<&str>,
    ) where
        'l: 'f,
    {
        let (correlation_id, trace, duration_ns, time) = match &self.logging {
            Logging::Whole {
                correlation_id,
                trace,
                started,
                ..
            } => {
                // One clock reading per record: the request's is the start.
                let now = match event {
                    PredictionEvent::Requested => *started,
                    PredictionEvent::Created | PredictionEvent::Exception => EventTime::now(),
                };
                let duration_ns = event.status().map(|_| {
                    let nanoseconds = now.since(*started);
                    self.context.stats.count_duration(nanoseconds);
                    nanoseconds
                });
                (correlation_id.as_ref(), trace.as_ref(), duration_ns, now)
            }
            // Not timed (a clock read at the start would cost every
            // sampled-out prediction): the failure's record has its own time.
            Logging::FailuresOnly {
                correlation_id,
                trace,
            } => (
                correlation_id.as_ref(),
                trace.as_ref(),
                None,
                EventTime::now(),
            ),
            Logging::Off => return,
        };
        let pairs = PredictionPairs {
            prediction_id: prediction_id.text_bytes(),
            correlation_id: correlation_id.map(CorrelationId::as_str),
            trace: trace.copied(),
            sample_rate: self.context.sample_rate.below_one(),
            status: event.status(),
            fields: (),
            duration_ns,
            error_info,
        };
        let hash_key = self.context.hash_key.as_ref();
        if let Some(sink) = &self.context.sink {
            let capture = FieldCapture::new(sink.template(), event);
            let mut fields = FieldRecorder::new(hash_key, Some(capture));
            record_fields(&mut fields);
            if let Some(captured) = fields.captured() {
                if sink.log(event, time, &pairs, captured) {
                    return;
                }
            }
        }
        let mut fields = FieldRecorder::new(hash_key, None);
        record_fields(&mut fields);
        event.with_record(
            &M::log_spec().location,
            &pairs.with_fields(&fields),
            |record| {
                self.context.logger.log(record);
            },
        );
    }
}

impl<M: LoggedModel> Drop for PredictionCall<'_, M> {
    fn drop(&mut self) {
        if !self.finished {
            self.exception(CANCELLED);
        }
    }
}

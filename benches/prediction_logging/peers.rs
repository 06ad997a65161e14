//! The same two records written without this crate: by hand with slog
//! (asynchronous and synchronous slog-json), and with tracing's
//! `#[instrument]` and JSON formatter.

use crate::workload::{ENV_VALUES, risk_name};
use credit_risk_service::application::CreditApplication;
use credit_risk_service::model::{CreditRiskModel, CreditRiskPrediction, PredictionError};
use logged_model::Model;
use slog::{Drain, Logger, o};
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

/// A hand-written slog logger with the keys the decorator writes.
pub fn slog_logger<D>(drain: D) -> Logger
where
    D: Drain<Ok = (), Err = slog::Never>
        + Send
        + Sync
        + std::panic::RefUnwindSafe
        + std::panic::UnwindSafe
        + 'static,
{
    Logger::root(
        drain,
        o!("app_name" => ENV_VALUES[2], "node_name" => ENV_VALUES[1], "pod_name" => ENV_VALUES[0]),
    )
    .new(o!(
        "model_version" => "0.1.0",
        "model_qualified_name" => "credit_risk_model",
        "action" => "predict",
        "log.logger" => "credit_risk_model_logger",
    ))
}

/// slog-async (Block, channel 128) over slog-json with its default keys, as
/// a careful engineer would set it up.
pub fn slog_async_logger<W: Write + Send + 'static>(output: W) -> (Logger, slog_async::AsyncGuard) {
    let json = slog_json::Json::new(output)
        .add_default_keys()
        .build()
        .fuse();
    let (drain, guard) = slog_async::Async::new(json)
        .chan_size(128)
        .overflow_strategy(slog_async::OverflowStrategy::Block)
        .build_with_guard();
    (slog_logger(drain.fuse()), guard)
}

/// slog-json formatting and writing on the caller's thread, behind a mutex.
pub fn slog_sync_logger<W: Write + Send + 'static>(output: W) -> Logger {
    slog_logger(Mutex::new(slog_json::Json::new(output).add_default_keys().build()).fuse())
}

/// The prediction with its two records written by hand.
pub fn slog_predict(
    logger: &Logger,
    model: &CreditRiskModel,
    input: &CreditApplication,
) -> Result<CreditRiskPrediction, PredictionError> {
    let prediction_id = uuid::Uuid::new_v4();
    slog::info!(logger, "Prediction requested.";
        "credit_amount" => input.credit_amount,
        "duration_in_month" => input.duration_in_month,
        "prediction_id" => %prediction_id);
    let started = Instant::now();
    let result = model.predict(input);
    let duration = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    match &result {
        Ok(output) => slog::info!(logger, "Prediction created.";
            "event.duration" => duration,
            "credit_risk" => risk_name(output.credit_risk),
            "status" => "success",
            "prediction_id" => %prediction_id),
        Err(error) => slog::error!(logger, "Prediction exception.";
            "error_info" => %error,
            "event.duration" => duration,
            "status" => "error",
            "prediction_id" => %prediction_id),
    }
    result
}

/// tracing's JSON formatter over tracing-appender's non-blocking writer,
/// blocking when full like the other rows.
pub fn tracing_subscriber<W: Write + Send + 'static>(
    output: W,
) -> (
    impl tracing::Subscriber + Send + Sync,
    tracing_appender::non_blocking::WorkerGuard,
) {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(output);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
        .finish();
    (subscriber, guard)
}

/// The prediction instrumented with tracing: a span with the model's keys,
/// and the same two records as events.
#[tracing::instrument(
    skip_all,
    fields(
        log.logger = "credit_risk_model_logger",
        action = "predict",
        model_qualified_name = "credit_risk_model",
        model_version = "0.1.0",
        pod_name = ENV_VALUES[0],
        node_name = ENV_VALUES[1],
        app_name = ENV_VALUES[2],
        prediction_id = %uuid::Uuid::new_v4(),
    )
)]
pub fn traced_predict(
    model: &CreditRiskModel,
    input: &CreditApplication,
) -> Result<CreditRiskPrediction, PredictionError> {
    tracing::info!(
        duration_in_month = input.duration_in_month,
        credit_amount = input.credit_amount,
        "Prediction requested."
    );
    let started = Instant::now();
    let result = model.predict(input);
    let duration = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    match &result {
        Ok(output) => tracing::info!(
            status = "success",
            credit_risk = risk_name(output.credit_risk),
            event.duration = duration,
            "Prediction created."
        ),
        Err(error) => {
            tracing::error!(status = "error", event.duration = duration, error_info = %error, "Prediction exception.")
        }
    }
    result
}

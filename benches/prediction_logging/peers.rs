//! The same two records written without this crate: by hand with slog
//! (asynchronous and synchronous slog-json), and with tracing and an event
//! formatter written for these keys. Every row writes the same keys and
//! values as the decorator; `records_check` in `main.rs` parses one record of
//! each row and compares them, so the rows cannot drift apart.

use crate::workload::{ENV_VALUES, risk_name};
use credit_risk_service::application::CreditApplication;
use credit_risk_service::model::{CreditRiskModel, CreditRiskPrediction, PredictionError};
use logged_model::Model;
use slog::{Drain, FnValue, Logger, PushFnValue, o};
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The host name, as the decorator reads it.
fn hostname() -> &'static str {
    static HOSTNAME: OnceLock<String> = OnceLock::new();
    HOSTNAME.get_or_init(|| gethostname::gethostname().to_string_lossy().into_owned())
}

/// The level as the decorator writes it (Elastic Common Schema's examples).
fn level_name(level: slog::Level) -> &'static str {
    match level {
        slog::Level::Critical => "CRITICAL",
        slog::Level::Error => "ERROR",
        slog::Level::Warning => "WARN",
        slog::Level::Info => "INFO",
        slog::Level::Debug => "DEBUG",
        slog::Level::Trace => "TRACE",
    }
}

/// slog-json with the decorator's head keys, as a careful engineer would
/// configure it for Elasticsearch.
fn slog_json<W: Write>(output: W) -> slog_json::Json<W> {
    slog_json::Json::new(output)
        .add_key_value(o!(
            "@timestamp" => PushFnValue(|_, serializer| {
                serializer.emit(humantime::format_rfc3339_micros(SystemTime::now()).to_string())
            }),
            "log.level" => FnValue(|record| level_name(record.level())),
            "message" => PushFnValue(|record, serializer| serializer.emit(record.msg())),
            "ecs.version" => "8.11.0",
            "log.origin.file.name" => FnValue(|record| record.file()),
            "log.origin.file.line" => FnValue(|record| record.line()),
            "host.hostname" => hostname(),
            "process.pid" => std::process::id(),
        ))
        .build()
}

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

/// slog-async (Block, channel 128) over slog-json, as a careful engineer
/// would set it up.
pub fn slog_async_logger<W: Write + Send + 'static>(output: W) -> (Logger, slog_async::AsyncGuard) {
    slog_async_logger_with_channel(output, 128)
}

/// slog-async (Block) over slog-json with a channel of `records`.
pub fn slog_async_logger_with_channel<W: Write + Send + 'static>(
    output: W,
    records: usize,
) -> (Logger, slog_async::AsyncGuard) {
    let (drain, guard) = slog_async::Async::new(slog_json(output).fuse())
        .chan_size(records)
        .overflow_strategy(slog_async::OverflowStrategy::Block)
        .build_with_guard();
    (slog_logger(drain.fuse()), guard)
}

/// slog-json formatting and writing on the caller's thread, behind a mutex.
pub fn slog_sync_logger<W: Write + Send + 'static>(output: W) -> Logger {
    slog_logger(Mutex::new(slog_json(output)).fuse())
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

/// tracing-subscriber's formatting pipeline, with an event formatter that
/// writes the decorator's keys (the JSON formatter that ships with it names
/// its keys `timestamp`, `level`, `fields` and `span`, and cannot be told
/// otherwise), over tracing-appender's non-blocking writer, blocking when
/// full like the other rows.
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
        .event_format(EcsEvent)
        .with_writer(writer)
        .finish();
    (subscriber, guard)
}

/// Formats an event as one JSON object with the decorator's head keys and
/// the event's fields, each value written by serde_json.
struct EcsEvent;

impl<S, N> FormatEvent<S, N> for EcsEvent
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let metadata = event.metadata();
        let mut record = serde_json::Map::new();
        let level = match *metadata.level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARN",
            tracing::Level::INFO => "INFO",
            tracing::Level::DEBUG => "DEBUG",
            tracing::Level::TRACE => "TRACE",
        };
        let mut fields = FieldsToJson::default();
        event.record(&mut fields);
        let head = [
            (
                "@timestamp",
                humantime::format_rfc3339_micros(SystemTime::now())
                    .to_string()
                    .into(),
            ),
            ("log.level", level.into()),
            ("message", fields.message.take().unwrap_or_default().into()),
            ("ecs.version", "8.11.0".into()),
            ("log.origin.file.name", metadata.file().unwrap_or("").into()),
            ("log.origin.file.line", metadata.line().unwrap_or(0).into()),
            ("host.hostname", hostname().into()),
            ("process.pid", std::process::id().into()),
        ];
        for (key, value) in head {
            record.insert(key.to_owned(), value);
        }
        record.extend(fields.fields);
        let line = serde_json::to_string(&record).map_err(|_| std::fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// An event's fields as JSON values, its message apart.
#[derive(Default)]
struct FieldsToJson {
    message: Option<String>,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl tracing::field::Visit for FieldsToJson {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.fields.insert(field.name().to_owned(), text.into());
        }
    }
}

/// The prediction logged with tracing: the same two records as events that
/// carry every key.
pub fn traced_predict(
    model: &CreditRiskModel,
    input: &CreditApplication,
) -> Result<CreditRiskPrediction, PredictionError> {
    let prediction_id = uuid::Uuid::new_v4();
    tracing::info!(
        log.logger = "credit_risk_model_logger",
        action = "predict",
        model_qualified_name = "credit_risk_model",
        model_version = "0.1.0",
        pod_name = ENV_VALUES[0],
        node_name = ENV_VALUES[1],
        app_name = ENV_VALUES[2],
        prediction_id = %prediction_id,
        duration_in_month = u64::from(input.duration_in_month),
        credit_amount = input.credit_amount,
        "Prediction requested."
    );
    let started = Instant::now();
    let result = model.predict(input);
    let duration = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    match &result {
        Ok(output) => tracing::info!(
            log.logger = "credit_risk_model_logger",
            action = "predict",
            model_qualified_name = "credit_risk_model",
            model_version = "0.1.0",
            pod_name = ENV_VALUES[0],
            node_name = ENV_VALUES[1],
            app_name = ENV_VALUES[2],
            prediction_id = %prediction_id,
            status = "success",
            credit_risk = risk_name(output.credit_risk),
            event.duration = duration,
            "Prediction created."
        ),
        Err(error) => tracing::error!(
            log.logger = "credit_risk_model_logger",
            action = "predict",
            model_qualified_name = "credit_risk_model",
            model_version = "0.1.0",
            pod_name = ENV_VALUES[0],
            node_name = ENV_VALUES[1],
            app_name = ENV_VALUES[2],
            prediction_id = %prediction_id,
            status = "error",
            event.duration = duration,
            error_info = %error,
            "Prediction exception."
        ),
    }
    result
}

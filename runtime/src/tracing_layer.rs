//! [`LoggedModelLayer`] (feature `tracing`): a `tracing-subscriber` layer
//! that writes `tracing` events through the same logger and drain as the
//! prediction records, so that everything a service prints (axum's, hyper's
//! and its own `tracing` events included) is one JSON object per line with
//! the same head. Each event is a record: `@timestamp` at the event, its
//! level, its `message`, `log.logger` as the event's target, its origin, the
//! environment fields, then the event's fields and its spans' fields under
//! `tracing.` (`tracing.port`; the innermost span's win a name they share)
//! and the trace context and correlation id in scope. Like the `log` bridge it obeys the logger's
//! level, and in `block` mode loses nothing.

use crate::correlation;
use crate::keys;
use crate::mapping::TRACING_FIELDS;
use crate::pipeline::log_output::LogOutput;
use slog::{
    BorrowedKV, Drain, KV, Level, Logger, Record, RecordLocation, RecordStatic, Serializer,
};
use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, PoisonError, RwLock};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Subscriber, span};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Writes `tracing` events through a logger.
///
/// ```
/// use logged_model::tracing_layer::LoggedModelLayer;
/// use logged_model::{CapturedOutput, LoggerBuilder};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let output = CapturedOutput::default();
/// let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone())?;
/// let subscriber = tracing_subscriber::registry().with(LoggedModelLayer::new(logger));
/// tracing_core::dispatcher::with_default(&tracing_core::Dispatch::new(subscriber), || {
///     # let _ = ();
///     // tracing::info!(port = 8000, "Listening.") in a program that uses `tracing`.
/// });
/// drop(guard);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LoggedModelLayer {
    logger: Logger,
    output: Option<LogOutput>,
}

impl LoggedModelLayer {
    /// A layer writing through `logger` (the root logger, usually). Events
    /// come from everywhere, async code included, and none of them may hold
    /// its thread while the log output is stalled: an event that finds the
    /// logger's output stalled is dropped and counted (and reported) instead
    /// of waiting.
    pub fn new(logger: crate::Logger) -> Self {
        LoggedModelLayer {
            output: Some(logger.output()),
            logger: logger.into(),
        }
    }

    /// Drops events, rather than wait, when this output is stalled. Not
    /// needed: [`new`](Self::new) takes the logger's own output.
    #[deprecated(
        since = "0.1.0",
        note = "the layer takes its logger's own output; remove the call"
    )]
    pub fn with_output(mut self, output: LogOutput) -> Self {
        self.output = Some(output);
        self
    }
}

/// A field's value, as `tracing` recorded it.
#[derive(Clone, Debug)]
enum EventValue {
    Text(String),
    Signed(i64),
    Unsigned(u64),
    Float(f64),
    Bool(bool),
}

/// Fields in the order they were recorded.
#[derive(Clone, Debug, Default)]
struct Fields(Vec<(&'static str, EventValue)>);

impl Fields {
    fn set(&mut self, name: &'static str, value: EventValue) {
        match self.0.iter_mut().find(|(known, _)| *known == name) {
            Some(entry) => entry.1 = value,
            None => self.0.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), EventValue::Float(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), EventValue::Signed(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), EventValue::Unsigned(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), EventValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), EventValue::Text(value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), EventValue::Text(format!("{value:?}")));
    }
}

/// The fields of the event, after its spans', and the context in scope.
struct EventKv<'a> {
    target: &'a str,
    spans: Vec<Fields>,
    event: Fields,
}

impl KV for EventKv<'_> {
    fn serialize(&self, record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        serializer.emit_str(keys::LOGGER, self.target)?;
        if let Some(id) = correlation::current() {
            serializer.emit_str(keys::CORRELATION_ID, id.as_str())?;
        }
        if let Some(trace) = correlation::current_trace() {
            trace.serialize(record, serializer)?;
        }
        // Outer spans first, then inner ones, then the event: a name that
        // several carry is written once, with the innermost value.
        let mut merged = Fields::default();
        for fields in self.spans.iter().chain(std::iter::once(&self.event)) {
            for (name, value) in &fields.0 {
                if *name != "message" {
                    merged.set(name, value.clone());
                }
            }
        }
        for (name, value) in &merged.0 {
            let name = prefixed(name);
            match value {
                EventValue::Text(text) => serializer.emit_str(name, text)?,
                EventValue::Signed(number) => serializer.emit_i64(name, *number)?,
                EventValue::Unsigned(number) => serializer.emit_u64(name, *number)?,
                EventValue::Float(number) => serializer.emit_f64(name, *number)?,
                EventValue::Bool(flag) => serializer.emit_bool(name, *flag)?,
            }
        }
        Ok(())
    }
}

/// `tracing.<name>`: the fields of events come from crates that know
/// nothing of the Elastic Common Schema, and a field named like one of its
/// objects (`error`, `host`) would make Elasticsearch refuse the whole
/// record; under their own prefix (one `flattened` field in the mapping)
/// they cannot collide. Made once per name: names come from the callsites,
/// which are static, so the set is finite.
fn prefixed(name: &'static str) -> &'static str {
    static NAMES: OnceLock<RwLock<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    if let Some(found) = names
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
    {
        return found;
    }
    names
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(name)
        .or_insert_with(|| Box::leak(format!("{TRACING_FIELDS}.{name}").into_boxed_str()))
}

fn slog_level(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warning,
        tracing_core::Level::INFO => Level::Info,
        tracing_core::Level::DEBUG => Level::Debug,
        tracing_core::Level::TRACE => Level::Trace,
    }
}

impl<S> Layer<S> for LoggedModelLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attributes: &span::Attributes<'_>,
        id: &span::Id,
        context: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, context: Context<'_, S>) {
        if let Some(span) = context.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(fields) = extensions.get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn enabled(&self, metadata: &tracing_core::Metadata<'_>, _context: Context<'_, S>) -> bool {
        self.logger.is_enabled(slog_level(metadata.level()))
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let metadata = event.metadata();
        let level = slog_level(metadata.level());
        if !self.logger.is_enabled(level) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields
            .0
            .iter()
            .find(|(name, _)| *name == "message")
            .map(|(_, value)| match value {
                EventValue::Text(text) => text.clone(),
                other => format!("{other:?}"),
            })
            .unwrap_or_default();
        let spans = context
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .filter_map(|span| span.extensions().get::<Fields>().cloned())
                    .collect()
            })
            .unwrap_or_default();
        let location = RecordLocation {
            file: metadata.file().unwrap_or("unknown"),
            line: metadata.line().unwrap_or(0),
            column: 0,
            function: "",
            module: metadata.module_path().unwrap_or(""),
        };
        let record_static = RecordStatic {
            location: &location,
            tag: "",
            level,
        };
        let kv = EventKv {
            target: metadata.target(),
            spans,
            event: fields,
        };
        let log = || {
            self.logger.log(&Record::new(
                &record_static,
                &format_args!("{message}"),
                BorrowedKV(&kv),
            ))
        };
        match &self.output {
            Some(output) if output.is_stalled() => output.without_waiting(log),
            _ => log(),
        }
    }
}

//! `GET /metrics`: the service's metrics in the Prometheus exposition formats
//! (prometheus-client encodes OpenMetrics; [`Format`] picks it or the
//! classic text format by the scraper's `Accept` header). Predictions by model, version and status and their
//! duration come from the decorator's counters (`Logged::stats`, read at
//! each scrape, so the prediction path takes no lock for them); HTTP
//! requests by route, method and status, with their duration, are counted
//! here; log records written, dropped, failed and sampled out come from the
//! log's own counters.

use crate::model::{CreditRiskModel, QUALIFIED_NAME};
use logged_model::{LogOutput, Logged, PredictionStats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// The labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's template (`/api/models/:model/prediction`), or `unmatched`.
    pub route: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The response's status code.
    pub status: u16,
}

/// The labels of an HTTP request's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route's template, or `unmatched`.
    pub route: String,
    /// `GET`, `POST`, ...
    pub method: String,
}

/// The registry and the metrics the service updates itself.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests, by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// HTTP request durations in seconds, by route and method.
    pub durations: Family<RouteLabels, Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// The metrics of a service serving `model` (when it is logged), whose
    /// log goes through `output`.
    pub fn new(
        model: Option<Arc<Logged<CreditRiskModel>>>,
        version: String,
        output: Option<LogOutput>,
    ) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests, by route, method and status",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to about 13 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 18))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request durations in seconds, by route and method",
            durations.clone(),
        );
        registry.register_collector(Box::new(LoggingCollector {
            model,
            version,
            output,
        }));
        Metrics {
            registry,
            requests,
            durations,
        }
    }

    /// The exposition text in `format`.
    pub fn encode(&self, format: Format) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(match format {
            Format::OpenMetrics => text,
            Format::Text => classic_text(&text),
        })
    }
}

/// The two exposition formats `/metrics` serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0.0, to scrapers that accept it (Prometheus does).
    OpenMetrics,
    /// The classic Prometheus text format 0.0.4, to everyone else (curl,
    /// `promtool check metrics`, older scrapers).
    Text,
}

impl Format {
    /// OpenMetrics when `accept` (an `Accept` header) names it, as
    /// Prometheus's own client libraries decide.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// OpenMetrics text as the classic text format: a counter's `HELP` and `TYPE`
/// lines name its samples (`x_total`, where OpenMetrics names the family `x`),
/// and the OpenMetrics-only lines (`# UNIT`, `# EOF`) go. The samples are
/// the same in both formats for the metric types this service uses
/// (counters without `_created`, histograms).
fn classic_text(openmetrics: &str) -> String {
    let mut text = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = Some(rest);
            continue;
        }
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), kind),
                "unknown" => (name.to_owned(), "untyped"),
                _ => (name.to_owned(), kind),
            };
            if let Some(described) = help.take() {
                let words = described.split_once(' ').map_or("", |(_, words)| words);
                text.push_str(&format!("# HELP {name} {words}\n"));
            }
            text.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Reads the decorator's and the log's counters at each scrape.
struct LoggingCollector {
    model: Option<Arc<Logged<CreditRiskModel>>>,
    version: String,
    output: Option<LogOutput>,
}

impl std::fmt::Debug for LoggingCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoggingCollector")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PredictionLabels {
    model: String,
    version: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
    version: String,
}

impl Collector for LoggingCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self
            .model
            .as_ref()
            .map_or_else(PredictionStats::default, |model| model.stats());
        let model_labels = ModelLabels {
            model: QUALIFIED_NAME.to_owned(),
            version: self.version.clone(),
        };
        {
            let mut family = encoder.encode_descriptor(
                "predictions",
                "Predictions made, by model, version and status (success or error)",
                None,
                MetricType::Counter,
            )?;
            for (status, count) in [("success", stats.succeeded), ("error", stats.failed)] {
                let labels = PredictionLabels {
                    model: model_labels.model.clone(),
                    version: model_labels.version.clone(),
                    status: status.to_owned(),
                };
                ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "prediction_duration_seconds",
                "Durations of the logged predictions, in seconds",
                None,
                MetricType::Histogram,
            )?;
            let durations = &stats.durations;
            family
                .encode_family(&model_labels)?
                .encode_histogram::<Vec<(String, String)>>(
                    durations.sum_seconds,
                    durations.count,
                    &durations.buckets,
                    None,
                )?;
        }
        {
            let mut family = encoder.encode_descriptor(
                "predictions_sampled_out",
                "Successful predictions not logged, by sampling",
                None,
                MetricType::Counter,
            )?;
            ConstCounter::new(stats.sampled_out).encode(family.encode_family(&model_labels)?)?;
        }
        let log = self
            .output
            .as_ref()
            .map(LogOutput::stats)
            .unwrap_or_default();
        for (name, help, value) in [
            (
                "log_records_written",
                "Log records the output took",
                log.written,
            ),
            (
                "log_records_dropped",
                "Log records dropped: the log channel was full",
                log.dropped,
            ),
            (
                "log_records_failed",
                "Log records the output failed to write",
                log.failed_writes,
            ),
            (
                "log_records_exported",
                "Log records the OTLP receiver accepted (LOG_OUTPUT=otlp or both)",
                log.exported,
            ),
            (
                "log_records_export_failed",
                "Log records the OTLP receiver refused or did not get within the retry time",
                log.export_failed,
            ),
        ] {
            let metric = ConstCounter::new(value);
            let family = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
            metric.encode(family)?;
        }
        Ok(())
    }
}

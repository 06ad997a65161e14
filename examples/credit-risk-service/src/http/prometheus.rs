//! `GET /metrics`: the service's metrics in the Prometheus exposition format
//! (prometheus-client). Predictions by model, version and status and their
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

    /// The exposition text.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
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
        ] {
            let metric = ConstCounter::new(value);
            let family = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
            metric.encode(family)?;
        }
        Ok(())
    }
}

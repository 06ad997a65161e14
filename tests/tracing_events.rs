//! `tracing` events through the same drain: one JSON line each, with the
//! same head, the event's and its spans' fields, the trace context; the
//! logger's level obeyed. On both drains.

use logged_model::tracing_layer::LoggedModelLayer;
use logged_model::{LoggerBuilder, TraceContext, correlation};
use logged_model_test_support::{Captured, on_both_drains};
use tracing_subscriber::layer::SubscriberExt;

on_both_drains! {
    #[test]
    fn an_event_is_a_record_with_the_head_its_fields_and_its_spans_fields() {
        let captured = Captured::with(
            LoggerBuilder::new()
                .drain(DRAIN)
                .env_vars(["LOGGED_MODEL_TRACING_TEST_POD"]),
        );
        let subscriber = tracing_subscriber::registry().with(LoggedModelLayer::new(captured.logger.clone()));
        let trace = TraceContext::continue_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("valid");
        let before = std::time::SystemTime::now();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", route = "/api/models", attempt = 1u64);
            let _entered = span.enter();
            correlation::trace_scope(trace, || {
                correlation::scope("req-9", || {
                    tracing::info!(target: "hyper::server", port = 8000u64, ratio = 0.5, ok = true, peer = "127.0.0.1", attempt = 2u64, "Connection accepted.");
                })
            });
            tracing::debug!("Below the level: not written.");
            tracing::warn!(delta = -3i64, "Slow.");
        });
        let records = captured.finish();
        assert_eq!(records.len(), 2, "{records:?}");
        let event = &records[0];
        let keys: Vec<&str> = event.keys().map(String::as_str).collect();
        assert_eq!(keys[..8], ["@timestamp", "log.level", "message", "ecs.version", "log.origin.file.name", "log.origin.file.line", "host.hostname", "process.pid"]);
        let stamp = humantime::parse_rfc3339(event["@timestamp"].as_str().expect("a time")).expect("RFC 3339");
        assert!(stamp + std::time::Duration::from_micros(1) >= before);
        assert_eq!(event["log.level"], "INFO");
        assert_eq!(event["message"], "Connection accepted.");
        assert_eq!(event["log.logger"], "hyper::server");
        assert_eq!(event["log.origin.file.name"], "tests/tracing_events.rs");
        assert_eq!(event["logged_model_tracing_test_pod"], "N/A", "environment fields too");
        assert_eq!(event["tracing.port"], 8000);
        assert_eq!(event["tracing.ratio"], 0.5);
        assert_eq!(event["tracing.ok"], true);
        assert_eq!(event["tracing.peer"], "127.0.0.1");
        assert_eq!(event["tracing.route"], "/api/models", "the span's field");
        assert_eq!(event["tracing.attempt"], 2, "the event's value wins over its span's");
        assert_eq!(event["correlation_id"], "req-9");
        assert_eq!(event["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(event["parent.id"], "00f067aa0ba902b7");
        let warning = &records[1];
        assert_eq!(warning["log.level"], "WARN");
        assert_eq!(warning["tracing.delta"], -3);
        assert!(warning.get("trace.id").is_none(), "no trace in scope");
        let mapping = logged_model::mapping::IndexMapping::of::<NoFields>();
        assert_eq!(mapping.type_of(logged_model::mapping::TRACING_FIELDS), Some("flattened"));
    }

    #[test]
    fn fields_named_like_the_schemas_objects_or_the_runtimes_keys_stay_under_their_prefix() {
        let captured = Captured::with(LoggerBuilder::new().drain(DRAIN));
        let subscriber = tracing_subscriber::registry().with(LoggedModelLayer::new(captured.logger.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("outer", host = "db-1");
            let _entered = span.enter();
            tracing::error!(error = "connection reset", log.level = "loud", correlation_id = "theirs", "Upstream failed.");
        });
        let records = captured.finish();
        assert_eq!(records.len(), 1, "{records:?}");
        let event = &records[0];
        assert_eq!(event["tracing.error"], "connection reset");
        assert_eq!(event["tracing.host"], "db-1");
        assert_eq!(event["tracing.log.level"], "loud");
        assert_eq!(event["tracing.correlation_id"], "theirs");
        assert_eq!(event["log.level"], "ERROR", "the runtime's key keeps its value");
        for key in ["error", "host", "correlation_id"] {
            assert!(event.get(key).is_none(), "`{key}` is not written at the top: {event:?}");
        }
        let foreign: Vec<&String> = event.keys().filter(|key| !logged_model::keys::RESERVED.contains(&key.as_str()) && !key.starts_with("tracing.")).collect();
        assert!(foreign.is_empty(), "every event field is under the prefix: {foreign:?}");
    }
}

/// A model with no logged field: the mapping of the runtime's keys alone.
struct NoFields;

#[logged_model::logged_model]
impl logged_model::Model for NoFields {
    type Input = ();
    type Output = ();
    type Error = std::convert::Infallible;
    fn qualified_name(&self) -> &str {
        "no_fields"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, _input: &()) -> Result<(), Self::Error> {
        Ok(())
    }
}

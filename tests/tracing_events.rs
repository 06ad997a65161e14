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
        assert_eq!(event["port"], 8000);
        assert_eq!(event["ratio"], 0.5);
        assert_eq!(event["ok"], true);
        assert_eq!(event["peer"], "127.0.0.1");
        assert_eq!(event["route"], "/api/models", "the span's field");
        assert_eq!(event["attempt"], 2, "the event's value wins over its span's");
        assert_eq!(event["correlation_id"], "req-9");
        assert_eq!(event["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(event["parent.id"], "00f067aa0ba902b7");
        let warning = &records[1];
        assert_eq!(warning["log.level"], "WARN");
        assert_eq!(warning["delta"], -3);
        assert!(warning.get("trace.id").is_none(), "no trace in scope");
    }
}

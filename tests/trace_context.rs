//! The trace context travels with the correlation id, through threads and
//! awaits, onto every prediction record; absent when none is set.

use logged_model::correlation::{self, WithCorrelationId};
use logged_model::{AsyncModel, Logged, Model, TraceContext, logged_model};
use logged_model_test_support::models::{Application, AsyncCreditModel, CreditModel};
use logged_model_test_support::{Captured, on_both_drains};

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct Nothing;

#[logged_model()]
impl AsyncModel for Nothing {
    type Input = ();
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str {
        "nothing"
    }
    fn version(&self) -> &str {
        "1"
    }
    async fn predict(&self, _input: &()) -> Result<(), String> {
        // Hop to another thread of the runtime mid-prediction.
        tokio::task::yield_now().await;
        Ok(())
    }
}

on_both_drains! {
    #[test]
    fn a_record_of_your_own_carries_a_trace_given_as_its_value() {
        let captured = Captured::on(DRAIN);
        let trace = TraceContext::continue_from(CALLER).expect("valid");
        slog::info!(captured.logger, "Cache refreshed."; trace);
        let records = captured.finish();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(records[0]["span.id"], trace.span_id().as_str());
        assert_eq!(records[0]["parent.id"], "00f067aa0ba902b7");
    }

    #[test]
    fn records_in_a_trace_scope_carry_its_ids_and_others_none() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("wraps");
        let trace = TraceContext::continue_from(CALLER).expect("valid");
        correlation::trace_scope(trace, || model.predict(&Application::typical())).expect("predicts");
        model.predict(&Application::typical()).expect("predicts");
        drop(model);
        let records = captured.finish();
        for record in &records[..2] {
            assert_eq!(record["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
            assert_eq!(record["span.id"], trace.span_id().as_str());
            assert_eq!(record["parent.id"], "00f067aa0ba902b7");
        }
        for record in &records[2..] {
            for key in ["trace.id", "span.id", "parent.id"] {
                assert!(record.get(key).is_none(), "{key} without a trace");
            }
        }
    }

    #[test]
    fn the_trace_follows_a_thread_that_carries_it() {
        let captured = Captured::on(DRAIN);
        let model = std::sync::Arc::new(Logged::new(CreditModel, &captured.logger).expect("wraps"));
        let root = TraceContext::new_root();
        correlation::trace_scope(root, || {
            let trace = correlation::current_trace().expect("in scope");
            let model = std::sync::Arc::clone(&model);
            std::thread::spawn(move || {
                correlation::trace_scope(trace, || model.predict(&Application::typical()))
            })
            .join()
            .expect("no panic")
            .expect("predicts");
        });
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 2, "both records of the prediction");
        assert!(records.iter().all(|r| r["trace.id"] == root.trace_id().as_str()));
        assert!(records.iter().all(|r| r.get("parent.id").is_none()), "a root has no parent");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_trace_follows_an_async_prediction_across_awaits_and_threads() {
        let captured = Captured::on(DRAIN);
        let model = std::sync::Arc::new(Logged::new(Nothing, &captured.logger).expect("wraps"));
        let credit = std::sync::Arc::new(Logged::new(AsyncCreditModel, &captured.logger).expect("wraps"));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (model, credit) = (std::sync::Arc::clone(&model), std::sync::Arc::clone(&credit));
                let trace = TraceContext::new_root();
                let expected = trace.trace_id();
                let task = tokio::spawn(
                    async move {
                        model.predict(&()).await.expect("predicts");
                        credit.predict(&Application::typical()).await.expect("predicts");
                    }
                    .with_trace_context(trace)
                    .with_correlation_id(expected.clone()),
                );
                (task, expected)
            })
            .collect();
        for (task, _) in tasks {
            task.await.expect("no panic");
        }
        drop((model, credit));
        let records = captured.finish();
        assert_eq!(records.len(), 32);
        for record in &records {
            // Each task's trace id is also its correlation id: no leak.
            let trace_id = record["trace.id"].as_str().expect("every record carries a trace id");
            assert_eq!(trace_id.len(), 32, "{trace_id}");
            assert_eq!(record["correlation_id"].as_str(), Some(trace_id));
        }
    }
}

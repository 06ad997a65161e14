//! The records a prediction writes: their keys, values and JSON types.

use logged_model::{AsyncModel, Logged, LoggerBuilder, Model, WrapError, correlation};
use logged_model_test_support::models::{
    AmountTooLarge, Application, AsyncCreditModel, CreditModel, GridInput, PodAwareModel, PodInput,
    UnserializableFieldModel,
};
use logged_model_test_support::on_both_drains;
use logged_model_test_support::{Captured, JsonRecord, with_message};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The line of `text` in `tests/support/models.rs`, 1-based.
fn line_of(text: &str) -> u64 {
    let source = include_str!("support/models.rs");
    let index = source
        .lines()
        .position(|line| line.contains(text))
        .expect("the text is in models.rs");
    index as u64 + 1
}

/// Sleeps, then answers: its logged duration must cover the sleep.
struct SleepyModel;

impl SleepyModel {
    const SLEEP: std::time::Duration = std::time::Duration::from_millis(30);
}

#[logged_model::logged_model()]
impl AsyncModel for SleepyModel {
    type Input = ();
    type Output = ();
    type Error = std::convert::Infallible;
    fn qualified_name(&self) -> &str {
        "sleepy"
    }
    fn version(&self) -> &str {
        "1"
    }
    async fn predict(&self, _input: &()) -> Result<(), Self::Error> {
        tokio::time::sleep(Self::SLEEP).await;
        Ok(())
    }
}

on_both_drains! {
    fn predict_once(application: &Application) -> Vec<JsonRecord> {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let _ = model.predict(application);
        drop(model);
        captured.finish()
    }

    fn keys(record: &JsonRecord) -> Vec<&str> {
        record.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_successful_prediction_writes_requested_then_created() {
        let records = predict_once(&Application::typical());
        let messages: Vec<&Value> = records.iter().map(|record| &record["message"]).collect();
        assert_eq!(messages, ["Prediction requested.", "Prediction created."]);
    }

    #[test]
    fn the_exported_messages_are_the_records_messages() {
        let records = predict_once(&Application::typical());
        assert_eq!(records[0]["message"], logged_model::REQUESTED_MESSAGE);
        assert_eq!(records[1]["message"], logged_model::CREATED_MESSAGE);
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let too_large = Application {
            credit_amount: 2_000_000.0,
            ..Application::typical()
        };
        assert!(model.predict(&too_large).is_err());
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["message"], logged_model::EXCEPTION_MESSAGE);
        let distinct: std::collections::HashSet<&str> = [
            logged_model::REQUESTED_MESSAGE,
            logged_model::CREATED_MESSAGE,
            logged_model::EXCEPTION_MESSAGE,
            logged_model::OUTCOME_MESSAGE,
        ]
        .into_iter()
        .collect();
        assert_eq!(distinct.len(), 4);
    }

    #[test]
    fn the_requested_record_has_exactly_the_base_keys_then_the_input_fields() {
        let records = predict_once(&Application::typical());
        assert_eq!(
            keys(&records[0]),
            [
                "@timestamp",
                "log.level",
                "message",
                "ecs.version",
                "log.origin.file.name",
                "log.origin.file.line",
                "host.hostname",
                "process.pid",
                "log.logger",
                "action",
                "model_qualified_name",
                "model_version",
                "prediction_id",
                "duration_in_month",
                "credit_amount",
                "purpose",
                "applicant.income",
                "applicant.age",
                "note",
            ]
        );
    }

    #[test]
    fn the_created_record_has_status_output_fields_and_duration() {
        let records = predict_once(&Application::typical());
        let created = &records[1];
        assert_eq!(
            keys(created)[12..],
            [
                "prediction_id",
                "status",
                "credit_risk",
                "probability",
                "event.duration"
            ]
        );
        assert_eq!(created["status"], "success");
        assert_eq!(created["credit_risk"], "safe");
        assert_eq!(created["probability"], 0.2);
        assert!(
            created["event.duration"].is_u64(),
            "duration is an integer of nanoseconds"
        );
        assert_eq!(created["log.level"], "INFO");
    }

    #[test]
    fn base_keys_carry_the_model_the_process_and_the_annotated_impl() {
        let records = predict_once(&Application::typical());
        for record in &records {
            assert_eq!(record["ecs.version"], "8.11.0");
            assert_eq!(record["log.logger"], "credit_risk_model_logger");
            assert_eq!(record["action"], "predict");
            assert_eq!(record["model_qualified_name"], "credit_risk_model");
            assert_eq!(record["model_version"], "0.1.0");
            assert_eq!(record["log.origin.file.name"], "tests/support/models.rs");
            assert_eq!(record["log.origin.file.line"], line_of("impl Model for CreditModel {"));
            assert_eq!(record["process.pid"], std::process::id());
            assert!(
                record["host.hostname"]
                    .as_str()
                    .is_some_and(|host| !host.is_empty())
            );
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds_and_in_order() {
        let before = std::time::SystemTime::now();
        let records = predict_once(&Application::typical());
        let after = std::time::SystemTime::now();
        let stamps: Vec<&str> = records
            .iter()
            .map(|r| r["@timestamp"].as_str().unwrap_or(""))
            .collect();
        for stamp in &stamps {
            // 2026-11-28T16:22:43.261113Z
            assert_eq!(stamp.len(), 27, "{stamp}");
            assert!(
                stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T' && stamp.as_bytes()[19] == b'.'
            );
            let time = humantime::parse_rfc3339(stamp).expect("RFC 3339");
            // The moment of the event, to the microsecond the stamp keeps.
            let truncated_before = before - std::time::Duration::from_micros(1);
            assert!(truncated_before <= time && time <= after, "{stamp} is not between {before:?} and {after:?}");
        }
        assert!(stamps[0] <= stamps[1]);
    }

    #[test]
    fn input_fields_keep_their_json_types() {
        let records = predict_once(&Application::typical());
        let requested = &records[0];
        assert_eq!(requested["duration_in_month"], json!(12));
        assert_eq!(requested["credit_amount"], json!(2500.5));
        assert_eq!(
            requested["purpose"],
            json!("car_new"),
            "enums as serde writes them"
        );
        assert_eq!(requested["applicant.income"], Value::Null, "None is null");
        assert_eq!(
            requested["applicant.age"],
            json!(35),
            "string paths reach nested fields"
        );
    }

    #[test]
    fn control_characters_in_values_are_escaped_and_a_record_is_one_line() {
        let captured = Captured::with(LoggerBuilder::new().drain(DRAIN).profile_interval(None));
        let output = captured.output.clone();
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let _ = model.predict(&Application::typical());
        drop(model);
        let records = captured.finish();
        assert_eq!(output.lines().len(), 2);
        assert_eq!(records[0]["note"], "line one\nline \"two\"\u{1}");
        assert!(
            output
                .text()
                .contains(r#""note":"line one\nline \"two\"\u0001""#)
        );
    }

    #[test]
    fn both_records_of_a_prediction_share_a_fresh_prediction_id() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let _ = model.predict(&Application::typical());
        let _ = model.predict(&Application::typical());
        drop(model);
        let records = captured.finish();
        let ids: Vec<&str> = records
            .iter()
            .map(|r| r["prediction_id"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[2], ids[3]);
        assert_ne!(ids[0], ids[2]);
        assert!(uuid::Uuid::parse_str(ids[0]).is_ok());
    }

    #[test]
    fn an_error_is_logged_as_an_exception_and_returned_unchanged() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let application = Application {
            credit_amount: 2_000_000.0,
            ..Application::typical()
        };
        assert_eq!(model.predict(&application), Err(AmountTooLarge));
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 2);
        let exception = &records[1];
        assert_eq!(exception["message"], "Prediction exception.");
        assert_eq!(exception["log.level"], "ERROR");
        assert_eq!(exception["status"], "error");
        assert_eq!(
            exception["error_info"],
            "credit amount above the model's range"
        );
        assert!(exception["event.duration"].is_u64());
        assert!(
            exception.get("credit_risk").is_none(),
            "no output fields on an exception"
        );
        assert_eq!(exception["prediction_id"], records[0]["prediction_id"]);
    }

    #[test]
    fn a_panic_is_logged_as_an_exception_and_then_resumed() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let application = Application {
            credit_amount: -1.0,
            ..Application::typical()
        };
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.predict(&application)));
        let payload = outcome.expect_err("the caller sees the panic");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("negative credit amount: -1")
        );
        drop(model);
        let records = captured.finish();
        assert_eq!(records[1]["message"], "Prediction exception.");
        assert_eq!(records[1]["status"], "error");
        assert_eq!(records[1]["error_info"], "negative credit amount: -1");
    }

    #[tokio::test]
    async fn an_async_model_writes_the_same_records_with_its_logger_name() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(AsyncCreditModel, &captured.logger).expect("no key collides");
        let assessment = model
            .predict(&Application::typical())
            .await
            .expect("predicts");
        assert_eq!(assessment.credit_risk, "safe");
        let failure = model
            .predict(&Application {
                credit_amount: 5e6,
                ..Application::typical()
            })
            .await;
        assert_eq!(failure, Err(AmountTooLarge));
        drop(model);
        let records = captured.finish();
        let messages: Vec<&Value> = records.iter().map(|record| &record["message"]).collect();
        assert_eq!(
            messages,
            [
                "Prediction requested.",
                "Prediction created.",
                "Prediction requested.",
                "Prediction exception."
            ]
        );
        assert_eq!(records[0]["log.logger"], "async_credit_logger");
        assert_eq!(records[0]["model_version"], "0.2.0");
        assert_eq!(records[0]["credit_amount"], 2500.5);
        assert_eq!(records[1]["credit_risk"], "safe");
        assert_eq!(
            records[3]["error_info"],
            "credit amount above the model's range"
        );
    }

    #[tokio::test]
    async fn a_panicking_async_prediction_is_logged_and_resumed() {
        let captured = Captured::on(DRAIN);
        let model = std::sync::Arc::new(
            Logged::new(AsyncCreditModel, &captured.logger).expect("no key collides"),
        );
        let task_model = std::sync::Arc::clone(&model);
        let joined = tokio::spawn(async move {
            task_model
                .predict(&Application {
                    credit_amount: -3.0,
                    ..Application::typical()
                })
                .await
        })
        .await;
        assert!(joined.expect_err("the task panicked").is_panic());
        drop(model);
        let records = captured.finish();
        assert_eq!(records[1]["message"], "Prediction exception.");
        assert_eq!(records[1]["error_info"], "negative credit amount: -3");
    }

    #[test]
    fn a_dropped_async_prediction_is_logged_as_cancelled() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(AsyncCreditModel, &captured.logger).expect("no key collides");
        let application = Application::typical();
        {
            let mut future = Box::pin(model.predict(&application));
            let waker = std::task::Waker::noop();
            let mut context = std::task::Context::from_waker(waker);
            assert!(
                future.as_mut().poll(&mut context).is_pending(),
                "the model yields once"
            );
        }
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["message"], "Prediction exception.");
        assert_eq!(
            records[1]["error_info"],
            "Prediction cancelled: the caller dropped it before it completed."
        );
    }

    #[test]
    fn environment_fields_are_lower_cased_and_missing_ones_are_na() {
        let env: HashMap<&str, &str> = HashMap::from([
            ("LOG_ENV_VARS", "POD_NAME,NODE_NAME,APP_NAME"),
            ("POD_NAME", "credit-7f9"),
            ("APP_NAME", "credit"),
        ]);
        let builder = LoggerBuilder::from_env_with(move |name| env.get(name).map(|v| v.to_string()))
            .expect("valid configuration")
            .capture_log_crate(false)
            .drain(DRAIN);
        let captured = Captured::with(builder);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        let _ = model.predict(&Application::typical());
        drop(model);
        let records = captured.finish();
        for record in &records {
            assert_eq!(record["pod_name"], "credit-7f9");
            assert_eq!(record["node_name"], "N/A");
            assert_eq!(record["app_name"], "credit");
            let keys = keys(record);
            let model_version = keys.iter().position(|k| *k == "model_version");
            assert_eq!(keys[model_version.map_or(0, |at| at + 1)..][..4], ["pod_name", "node_name", "app_name", "prediction_id"]);
        }
    }

    #[test]
    fn the_correlation_id_is_logged_when_set_and_absent_when_not() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        correlation::scope("req-1", || model.predict(&Application::typical())).expect("predicts");
        model.predict(&Application::typical()).expect("predicts");
        drop(model);
        let records = captured.finish();
        assert_eq!(records[0]["correlation_id"], "req-1");
        assert_eq!(records[1]["correlation_id"], "req-1");
        assert!(records[2].get("correlation_id").is_none());
        assert!(records[3].get("correlation_id").is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_correlation_id_follows_an_async_prediction_across_threads() {
        use logged_model::correlation::WithCorrelationId;
        let captured = Captured::on(DRAIN);
        let model = std::sync::Arc::new(
            Logged::new(AsyncCreditModel, &captured.logger).expect("no key collides"),
        );
        // Each task asks for its own amount, so its records can be told apart.
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let model = std::sync::Arc::clone(&model);
                tokio::spawn(
                    async move {
                        let application = Application {
                            credit_amount: f64::from(task),
                            ..Application::typical()
                        };
                        model.predict(&application).await
                    }
                    .with_correlation_id(format!("task-{task}")),
                )
            })
            .collect();
        for task in tasks {
            task.await.expect("no panic").expect("predicts");
        }
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 16);
        // The task of each prediction, from its requested record's amount.
        let task_of: HashMap<&Value, u64> = with_message(&records, "Prediction requested.")
            .into_iter()
            .map(|record| {
                let amount = record["credit_amount"].as_f64().expect("an amount");
                (&record["prediction_id"], amount as u64)
            })
            .collect();
        assert_eq!(task_of.len(), 8);
        let mut records_per_id: HashMap<String, usize> = HashMap::new();
        for record in &records {
            let task = task_of[&record["prediction_id"]];
            assert_eq!(
                record["correlation_id"],
                format!("task-{task}"),
                "{} of task {task}",
                record["message"]
            );
            *records_per_id.entry(format!("task-{task}")).or_default() += 1;
        }
        assert!(records_per_id.values().all(|&count| count == 2), "{records_per_id:?}");
    }

    #[tokio::test]
    async fn event_duration_covers_the_whole_await() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(SleepyModel, &captured.logger).expect("no key collides");
        model.predict(&()).await.expect("predicts");
        drop(model);
        let records = captured.finish();
        let duration = records[1]["event.duration"].as_u64().expect("nanoseconds");
        assert!(
            duration >= SleepyModel::SLEEP.as_nanos() as u64,
            "{duration} ns for a model that sleeps {:?}",
            SleepyModel::SLEEP
        );
        assert!(duration < 10_000_000_000, "{duration} ns is not a duration of this call");
    }

    #[test]
    fn records_below_the_level_are_not_written() {
        let captured = Captured::with(LoggerBuilder::new().drain(DRAIN).level(slog::Level::Error));
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        model.predict(&Application::typical()).expect("predicts");
        let _ = model.predict(&Application {
            credit_amount: 2e6,
            ..Application::typical()
        });
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 1, "only the exception is at ERROR");
        assert_eq!(records[0]["message"], "Prediction exception.");
    }

    #[test]
    fn a_filtered_out_decorator_still_predicts_and_writes_nothing() {
        let captured = Captured::with(LoggerBuilder::new().drain(DRAIN).level(slog::Level::Critical));
        let model = Logged::new(CreditModel, &captured.logger).expect("no key collides");
        assert_eq!(
            model
                .predict(&Application::typical())
                .map(|a| a.credit_risk),
            Ok("safe".to_owned())
        );
        assert_eq!(
            model.predict(&Application {
                credit_amount: 2e6,
                ..Application::typical()
            }),
            Err(AmountTooLarge)
        );
        drop(model);
        assert!(captured.finish().is_empty());
    }

    #[test]
    fn a_field_serde_cannot_write_is_null_and_its_reason_is_listed() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(UnserializableFieldModel, &captured.logger).expect("no key collides");
        let input = GridInput { cells: [((0, 1), 5)].into_iter().collect(), size: 2 };
        model.predict(&input).expect("predicts");
        drop(model);
        let records = captured.finish();
        let requested = &records[0];
        assert_eq!(requested["cells"], Value::Null);
        assert_eq!(requested["size"], 2, "the fields after it are written");
        assert_eq!(requested["field_errors"], json!(["cells: key must be a string"]));
        let keys: Vec<&str> = requested.keys().map(String::as_str).collect();
        assert_eq!(keys[keys.len() - 3..], ["cells", "size", "field_errors"]);
    }

    /// A value whose serialization always fails.
    struct FailingValue;

    impl slog::Value for FailingValue {
        fn serialize(&self, _: &slog::Record<'_>, _: slog::Key, _: &mut dyn slog::Serializer) -> slog::Result {
            Err(slog::Error::Io(std::io::Error::other("this value cannot be written")))
        }
    }

    #[test]
    fn a_record_that_cannot_be_formatted_is_replaced_by_one_that_says_so() {
        let captured = Captured::on(DRAIN);
        slog::info!(captured.logger, "Original {}.", "message"; "bad" => FailingValue);
        slog::info!(captured.logger, "Next.");
        let records = captured.finish();
        assert_eq!(records.len(), 2, "nothing half-written, nothing lost");
        assert_eq!(records[0]["message"], "Log record could not be formatted.");
        assert_eq!(records[0]["log.level"], "ERROR");
        assert_eq!(records[0]["original_message"], "Original message.");
        assert!(records[0]["error_info"].as_str().is_some_and(|e| e.contains("this value cannot be written")));
        assert_eq!(records[1]["message"], "Next.");
    }

    #[test]
    fn with_message_finds_records_by_message() {
        let records = predict_once(&Application::typical());
        assert_eq!(with_message(&records, "Prediction created.").len(), 1);
    }

    #[test]
    fn wrapping_fails_when_an_environment_field_has_a_logged_fields_name() {
        let builder = LoggerBuilder::from_env_with(|name| {
            (name == "LOG_ENV_VARS").then(|| "POD_NAME".to_owned())
        })
        .expect("valid configuration")
        .capture_log_crate(false)
            .drain(DRAIN);
        let captured = Captured::with(builder);
        let error = Logged::new(PodAwareModel, &captured.logger)
            .err()
            .expect("pod_name collides");
        assert_eq!(
            error,
            WrapError::KeyCollision {
                model: "pod_aware_model".to_owned(),
                key: "pod_name".to_owned()
            }
        );
        assert!(
            error
                .to_string()
                .starts_with("model `pod_aware_model` logs `pod_name`, but the logger already carries")
        );
        let _ = PodInput {
            pod_name: String::new(),
        }
        .pod_name;
    }

    #[test]
    fn wrapping_fails_when_the_logger_already_carries_a_framework_key() {
        let captured = Captured::on(DRAIN);
        let logger = captured.logger.new(slog::o!("status" => "x"));
        let error = Logged::new(CreditModel, &logger)
            .err()
            .expect("status collides");
        assert!(matches!(error, WrapError::KeyCollision { ref key, .. } if key == "status"));
    }

    #[test]
    fn wrapping_fails_when_a_logger_value_cannot_be_read_so_no_key_escapes_the_check() {
        let captured = Captured::on(DRAIN);
        // slog stops at the failing value: `status` after it would be unchecked.
        let logger = captured.logger.new(slog::o!("status" => "x", "bad" => FailingValue));
        let error = Logged::new(CreditModel, &logger)
            .err()
            .expect("the logger's keys cannot all be read");
        assert!(
            matches!(error, WrapError::UnreadableLoggerValue { ref model, .. } if model == "credit_risk_model"),
            "{error:?}"
        );
        assert!(error.to_string().contains("this value cannot be written"), "{error}");
    }

    #[test]
    fn a_field_that_logs_while_it_is_recorded_loses_nothing() {
        let captured = Captured::on(DRAIN);
        CHATTY_LOGGER.with(|logger| *logger.borrow_mut() = Some(captured.logger.slog().clone()));
        let model = Logged::new(ChattyModel, &captured.logger).expect("wraps");
        model.predict(&(Chatty(7),)).expect("predicts");
        CHATTY_LOGGER.with(|logger| *logger.borrow_mut() = None);
        drop(model);
        let records = captured.finish();
        let requested = with_message(&records, "Prediction requested.");
        let created = with_message(&records, "Prediction created.");
        assert_eq!((requested.len(), created.len()), (1, 1));
        assert_eq!(requested[0]["0"], 7);
        assert_eq!(created[0]["0"], 8);
        let serialized: Vec<_> = with_message(&records, "Serialized.")
            .iter()
            .map(|record| record["value"].clone())
            .collect();
        assert!(serialized.contains(&json!(7)) && serialized.contains(&json!(8)), "{serialized:?}");
    }

}

thread_local! {
    /// The logger a [`Chatty`] value logs to while it is serialized.
    static CHATTY_LOGGER: std::cell::RefCell<Option<slog::Logger>> =
        const { std::cell::RefCell::new(None) };
}

/// A field whose serialization logs a record of its own: a record made
/// while another is being made must not deadlock or be lost.
struct Chatty(u32);

impl serde::Serialize for Chatty {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CHATTY_LOGGER.with(|logger| {
            if let Some(logger) = logger.borrow().as_ref() {
                slog::info!(logger, "Serialized."; "value" => self.0);
            }
        });
        serializer.serialize_u32(self.0)
    }
}

struct ChattyModel;

#[logged_model::logged_model(input_fields = [0], output_fields = [0])]
impl Model for ChattyModel {
    type Input = (Chatty,);
    type Output = (Chatty,);
    type Error = std::convert::Infallible;
    fn qualified_name(&self) -> &str {
        "chatty"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &(Chatty,)) -> Result<(Chatty,), Self::Error> {
        Ok((Chatty(input.0.0 + 1),))
    }
}

//! A `Sensitive` value is never written in the clear, whichever path its
//! record takes: a prediction captured for the writer thread, a prediction
//! whose capture gave up (a record over `LOG_RECORD_MAX_BYTES`, a field that
//! fails) and is formatted by its caller, a plain slog record, and a
//! `tracing` event. On both drains. (Records of the `log` crate are in
//! `tests/log_crate.rs`: that crate takes one logger per process.)

use logged_model::tracing_layer::LoggedModelLayer;
use logged_model::{Logged, LoggerBuilder, Model, REDACTED, Sensitive, logged_model};
use logged_model_test_support::{Captured, JsonRecord, on_both_drains};
use serde::Serialize;
use std::collections::BTreeMap;
use tracing_subscriber::layer::SubscriberExt;

const PHONE: &str = "+49 228 555 0199";

/// Who applies: a sensitive value inside a struct that is logged whole.
#[derive(Clone, Debug, Serialize)]
struct Contact {
    city: String,
    phone: Sensitive<String>,
}

impl Contact {
    fn new() -> Self {
        Contact {
            city: "Bonn".to_owned(),
            phone: Sensitive::new(PHONE.to_owned()),
        }
    }
}

/// A map serde_json cannot write (its keys are not strings).
#[derive(Clone, Debug, Default)]
struct Grid(BTreeMap<(u8, u8), u8>);

impl Serialize for Grid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[derive(Clone, Debug)]
struct Application {
    contact: Contact,
    note: String,
    grid: Grid,
}

impl Application {
    fn with_note(note: String) -> Self {
        Application {
            contact: Contact::new(),
            note,
            grid: Grid::default(),
        }
    }
}

struct ContactModel;

#[logged_model(input_fields = [contact, note, grid], output_fields = [0])]
impl Model for ContactModel {
    type Input = Application;
    type Output = (u8,);
    type Error = String;
    fn qualified_name(&self) -> &str {
        "contact_model"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, _input: &Application) -> Result<(u8,), String> {
        Ok((1,))
    }
}

/// The record's `contact` is there, with its phone redacted, and the phone
/// is nowhere in the output's text.
fn assert_redacted(record: &JsonRecord, text: &str) {
    assert_eq!(record["contact"]["city"], "Bonn", "{record:?}");
    assert_eq!(record["contact"]["phone"], REDACTED, "{record:?}");
    assert!(!text.contains(PHONE), "the phone leaked: {text}");
    assert!(
        !text.contains("228 555"),
        "part of the phone leaked: {text}"
    );
}

on_both_drains! {
    fn predict_once(builder: LoggerBuilder, application: Application) -> (Vec<JsonRecord>, String) {
        let captured = Captured::with(builder.drain(DRAIN));
        let output = captured.output.clone();
        let model = Logged::new(ContactModel, &captured.logger).expect("wraps");
        model.predict(&application).expect("predicts");
        drop(model);
        let records = captured.finish();
        (records, output.text())
    }

    #[test]
    fn a_captured_prediction_redacts_a_nested_sensitive_value() {
        let (records, text) = predict_once(LoggerBuilder::new(), Application::with_note("short".to_owned()));
        assert_eq!(records.len(), 2);
        assert_redacted(&records[0], &text);
    }

    #[test]
    fn a_prediction_over_the_record_cap_is_formatted_by_its_caller_and_still_redacts() {
        // Longer than the record cap: the capture gives up, and the caller
        // formats (and cuts) the record.
        let builder = LoggerBuilder::new().record_max_bytes(1024).field_max_bytes(4096);
        let (records, text) = predict_once(builder, Application::with_note("n".repeat(3000)));
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["truncated_fields"], serde_json::json!(["note"]));
        assert_redacted(&records[0], &text);
    }

    #[test]
    fn a_prediction_with_a_field_that_fails_is_formatted_by_its_caller_and_still_redacts() {
        let mut application = Application::with_note("short".to_owned());
        application.grid.0.insert((1, 2), 3);
        let (records, text) = predict_once(LoggerBuilder::new(), application);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["grid"], serde_json::Value::Null);
        assert!(records[0]["field_errors"].to_string().contains("grid"), "{:?}", records[0]);
        assert_redacted(&records[0], &text);
    }

    #[test]
    fn a_plain_slog_record_redacts_a_nested_sensitive_value() {
        let captured = Captured::on(DRAIN);
        let output = captured.output.clone();
        slog::info!(captured.logger, "Contact updated."; "contact" => slog::Serde(Contact::new()));
        slog::info!(captured.logger, "Phone shown."; "phone" => %Contact::new().phone);
        let records = captured.finish();
        let text = output.text();
        assert_eq!(records.len(), 2);
        assert_redacted(&records[0], &text);
        assert_eq!(records[1]["phone"], REDACTED);
    }

    #[test]
    fn a_tracing_event_redacts_a_sensitive_value() {
        let captured = Captured::on(DRAIN);
        let output = captured.output.clone();
        let subscriber = tracing_subscriber::registry().with(LoggedModelLayer::new(captured.logger.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let contact = Contact::new();
            tracing::info!(phone = %contact.phone, contact = ?contact, "Contact updated.");
        });
        let records = captured.finish();
        let text = output.text();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["tracing.phone"], REDACTED);
        assert!(!text.contains(PHONE), "the phone leaked: {text}");
    }
}

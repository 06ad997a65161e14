//! Sensitive fields, sampling and size caps, on both drains: what reaches the
//! log, what is counted, and what is refused.

use logged_model::{
    HashKey, Logged, LoggerBuilder, Model, ModelSettings, Sensitive, WrapError, correlation,
    logged_model,
};
use logged_model_test_support::{Captured, JsonRecord, on_both_drains, with_message};
use serde::Serialize;
use std::collections::HashMap;
use std::process::Command;

/// Who applies, with a sensitive value inside a struct logged whole.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
struct Contact {
    city: String,
    phone: Sensitive<String>,
}

#[derive(Clone, Debug)]
struct Application {
    applicant_id: Sensitive<String>,
    personal_status: String,
    contact: Contact,
    amount: f64,
    note: String,
}

impl Application {
    fn new(amount: f64) -> Self {
        Application {
            applicant_id: Sensitive::new("applicant-0042".to_owned()),
            personal_status: "female : divorced/separated/married".to_owned(),
            contact: Contact {
                city: "Bonn".to_owned(),
                phone: Sensitive::new("+49 228 555".to_owned()),
            },
            amount,
            note: String::new(),
        }
    }
}

/// Fails for a negative amount.
struct Scorer;

#[logged_model(
    input_fields = [applicant_id(hash), personal_status(redact), contact, amount, note],
    output_fields = [0]
)]
impl Model for Scorer {
    type Input = Application;
    type Output = (f64,);
    type Error = String;
    fn qualified_name(&self) -> &str {
        "scorer"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &Application) -> Result<(f64,), String> {
        if input.amount < 0.0 {
            return Err(format!("negative amount {}", input.amount));
        }
        Ok((input.amount / 1000.0,))
    }
}

/// The same model, logged at one prediction in ten by its attribute.
struct TenthScorer;

#[logged_model(input_fields = [amount], output_fields = [0], sample_rate = 0.1)]
impl Model for TenthScorer {
    type Input = Application;
    type Output = (f64,);
    type Error = String;
    fn qualified_name(&self) -> &str {
        "tenth_scorer"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &Application) -> Result<(f64,), String> {
        Scorer.predict(input)
    }
}

fn key(text: &str) -> HashKey {
    HashKey::new(text).expect("a key of sixteen bytes or more")
}

fn settings(rate: Option<f64>) -> ModelSettings {
    let settings = ModelSettings::new().hash_key(key("the test's hash key"));
    match rate {
        Some(rate) => settings.sample_rate(rate).expect("a valid rate"),
        None => settings,
    }
}

const CHILD: &str = "LOGGED_MODEL_HASH_CHILD";

/// In a child process: the hash the model logs for the applicant id, with
/// the key from `LOG_HASH_KEY`.
#[test]
fn the_same_value_hashed_in_two_processes_with_one_key_gives_one_hash() {
    if std::env::var_os(CHILD).is_some() {
        let captured = Captured::new();
        let model = Logged::new(Scorer, &captured.logger).expect("LOG_HASH_KEY is set");
        model.predict(&Application::new(10.0)).expect("predicts");
        drop(model);
        let records = captured.finish();
        println!("HASH={}", records[0]["applicant_id"].as_str().unwrap_or(""));
        return;
    }
    let hash_with = |key: &str| {
        let output = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "the_same_value_hashed_in_two_processes_with_one_key_gives_one_hash",
                "--exact",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("LOG_HASH_KEY", key)
            .env_remove("LOG_SAMPLE_RATE")
            .output()
            .expect("the child runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("HASH=").map(str::to_owned))
            .expect("the child printed its hash")
    };
    let first = hash_with("one shared secret key");
    let second = hash_with("one shared secret key");
    let other = hash_with("another secret key!!");
    assert_eq!(first.len(), 64, "{first}");
    assert!(first.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(first, second, "same key, same value, same hash");
    assert_ne!(first, other, "another key, another hash");
}

#[test]
fn a_model_that_hashes_needs_a_key_and_says_which_variable() {
    let captured = Captured::new();
    let error = Logged::with_settings(Scorer, &captured.logger, &ModelSettings::new())
        .err()
        .expect("no key");
    assert!(matches!(error, WrapError::MissingHashKey { ref model, .. } if model == "scorer"));
    let message = error.to_string();
    assert!(
        message.contains("LOG_HASH_KEY") && message.contains("applicant_id"),
        "{message}"
    );
    // A model that hashes nothing needs none.
    assert!(Logged::with_settings(TenthScorer, &captured.logger, &ModelSettings::new()).is_ok());
}

#[test]
fn a_short_or_empty_key_and_an_invalid_rate_are_refused_naming_the_variable() {
    let from = |pairs: &'static [(&'static str, &'static str)]| {
        let env: HashMap<&str, &str> = pairs.iter().copied().collect();
        ModelSettings::from_env_with(move |name| env.get(name).map(|v| v.to_string()))
    };
    let short = from(&[("LOG_HASH_KEY", "hunter2")]).expect_err("too short");
    assert_eq!(
        short.to_string(),
        "LOG_HASH_KEY holds 7 bytes; a hash key needs at least 16 (the value is not shown)"
    );
    let empty = from(&[("LOG_HASH_KEY", "")]).expect("empty counts as unset");
    assert!(!empty.has_hash_key());
    for rate in ["1.5", "-0.1", "often", "NaN"] {
        let leaked: &'static str = Box::leak(rate.to_owned().into_boxed_str());
        let pairs: &'static [(&'static str, &'static str)] =
            Box::leak(vec![("LOG_SAMPLE_RATE", leaked)].into_boxed_slice());
        let error = from(pairs).expect_err("not a rate");
        assert_eq!(
            error.to_string(),
            format!("LOG_SAMPLE_RATE={rate:?} is not valid; expected a number from 0 to 1")
        );
    }
    assert_eq!(
        from(&[("LOG_SAMPLE_RATE", "0.25")])
            .expect("valid")
            .sample_rate_override(),
        Some(0.25)
    );
}

#[test]
fn a_sensitive_value_serializes_in_the_clear_outside_a_record() {
    let contact = Application::new(1.0).contact;
    let wire = serde_json::to_string(&contact).expect("serializes");
    assert_eq!(wire, r#"{"city":"Bonn","phone":"+49 228 555"}"#);
    let back: Contact = serde_json::from_str(&wire).expect("deserializes");
    assert_eq!(back, contact);
}

/// Runs `predictions` predictions from four threads, amount `i` each.
fn run_predictions<M>(model: &Logged<M>, predictions: usize, amount: impl Fn(usize) -> f64 + Sync)
where
    Logged<M>: Model<Input = Application, Output = (f64,), Error = String> + Sync,
{
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let amount = &amount;
            scope.spawn(move || {
                for index in (thread..predictions).step_by(4) {
                    let _ = model.predict(&Application::new(amount(index)));
                }
            });
        }
    });
}

/// The records of each prediction id.
fn by_prediction(records: &[JsonRecord]) -> HashMap<String, Vec<&JsonRecord>> {
    let mut grouped: HashMap<String, Vec<&JsonRecord>> = HashMap::new();
    for record in records {
        if let Some(id) = record.get("prediction_id").and_then(|id| id.as_str()) {
            grouped.entry(id.to_owned()).or_default().push(record);
        }
    }
    grouped
}

on_both_drains! {
    #[test]
    fn redacted_and_hashed_fields_never_show_the_value() {
        let captured = Captured::on(DRAIN);
        let output = captured.output.clone();
        let model = Logged::with_settings(Scorer, &captured.logger, &settings(None)).expect("wraps");
        model.predict(&Application::new(10.0)).expect("predicts");
        drop(model);
        let records = captured.finish();
        let requested = &records[0];
        assert_eq!(requested["personal_status"], "[REDACTED]");
        assert_eq!(requested["contact"]["city"], "Bonn");
        assert_eq!(requested["contact"]["phone"], "[REDACTED]", "redacted at any depth");
        let hash = requested["applicant_id"].as_str().expect("a hash");
        assert_eq!(hash.len(), 64);
        let text = output.text();
        for secret in ["applicant-0042", "+49 228 555", "divorced"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn sampling_at_zero_a_tenth_and_one_counts_every_prediction_exactly() {
        const PREDICTIONS: usize = 100_000;
        for rate in [0.0, 0.1, 1.0] {
            let captured = Captured::on(DRAIN);
            let model =
                Logged::with_settings(Scorer, &captured.logger, &settings(Some(rate))).expect("wraps");
            run_predictions(&model, PREDICTIONS, |index| index as f64);
            let stats = model.stats();
            drop(model);
            let records = captured.finish();
            assert_eq!(stats.made(), PREDICTIONS as u64, "rate {rate}");
            assert_eq!(stats.failed, 0);
            let grouped = by_prediction(&records);
            // Counted from the records, not from the stats' own arithmetic:
            // every prediction is either in the log or counted sampled out.
            assert_eq!(
                grouped.len() as u64 + stats.sampled_out,
                PREDICTIONS as u64,
                "rate {rate}: logged + sampled out = made"
            );
            let expected_sampled_out = match rate {
                0.0 => PREDICTIONS as f64,
                1.0 => 0.0,
                _ => PREDICTIONS as f64 * (1.0 - rate),
            };
            // Five standard deviations of a binomial count, or exact.
            let slack = 5.0 * (PREDICTIONS as f64 * rate * (1.0 - rate)).sqrt();
            assert!(
                (stats.sampled_out as f64 - expected_sampled_out).abs() <= slack,
                "rate {rate}: {} sampled out, expected about {expected_sampled_out}",
                stats.sampled_out
            );
            assert_eq!(grouped.len() as u64, stats.logged(), "rate {rate}: one id per logged prediction");
            for (id, pair) in &grouped {
                let messages: Vec<&serde_json::Value> = pair.iter().map(|r| &r["message"]).collect();
                assert_eq!(messages, ["Prediction requested.", "Prediction created."], "{id} was split");
            }
            assert_eq!(records.len() as u64, 2 * stats.logged());
            let expected_rate = if rate < 1.0 { Some(rate) } else { None };
            for record in &records {
                assert_eq!(record.get("sample_rate").and_then(|r| r.as_f64()), expected_rate);
            }
            // Binomial: 100,000 draws at 0.1 keep 10,000 ± 95 (σ); allow 5σ.
            let kept = stats.logged() as f64;
            let expected = rate * PREDICTIONS as f64;
            assert!((kept - expected).abs() <= 500.0, "rate {rate}: kept {kept}, expected {expected}");
        }
    }

    #[test]
    fn a_failure_is_logged_even_when_sampled_out_with_its_input_fields() {
        let captured = Captured::on(DRAIN);
        let model = Logged::with_settings(Scorer, &captured.logger, &settings(Some(0.0))).expect("wraps");
        run_predictions(&model, 1000, |index| if index % 10 == 0 { -(index as f64) - 1.0 } else { 1.0 });
        let stats = model.stats();
        drop(model);
        let records = captured.finish();
        assert_eq!(stats.failed, 100);
        assert_eq!(stats.sampled_out, 900);
        assert_eq!(records.len(), 100, "only the failures");
        for record in &records {
            assert_eq!(record["message"], "Prediction exception.");
            assert_eq!(record["status"], "error");
            assert_eq!(record["sample_rate"], 0.0);
            let amount = record["amount"].as_f64().expect("the input fields are there");
            assert_eq!(record["error_info"], format!("negative amount {amount}"));
            assert_eq!(record["personal_status"], "[REDACTED]");
            assert!(record.get("event.duration").is_none(), "not timed when sampled out");
        }
    }

    #[test]
    fn one_correlation_id_keeps_or_drops_every_model_of_a_request_together() {
        let captured = Captured::on(DRAIN);
        let half = settings(Some(0.5));
        let first = Logged::with_settings(Scorer, &captured.logger, &half).expect("wraps");
        let second = Logged::with_settings(TenthScorer, &captured.logger, &half).expect("wraps");
        for request in 0..400 {
            correlation::scope(format!("request-{request}"), || {
                first.predict(&Application::new(1.0)).expect("predicts");
                second.predict(&Application::new(1.0)).expect("predicts");
            });
        }
        drop((first, second));
        let records = captured.finish();
        let mut models_per_request: HashMap<&str, Vec<&str>> = HashMap::new();
        for record in with_message(&records, "Prediction created.") {
            models_per_request
                .entry(record["correlation_id"].as_str().expect("an id"))
                .or_default()
                .push(record["model_qualified_name"].as_str().expect("a name"));
        }
        assert!(models_per_request.len() > 100 && models_per_request.len() < 300);
        for (request, models) in &models_per_request {
            assert_eq!(models.len(), 2, "{request}: {models:?}");
        }
    }

    #[test]
    fn the_settings_rate_overrides_the_attributes() {
        let captured = Captured::on(DRAIN);
        let by_attribute = Logged::with_settings(TenthScorer, &captured.logger, &ModelSettings::new()).expect("wraps");
        let overridden = Logged::with_settings(TenthScorer, &captured.logger, &settings(Some(1.0))).expect("wraps");
        run_predictions(&by_attribute, 2000, |_| 1.0);
        run_predictions(&overridden, 2000, |_| 1.0);
        assert!(by_attribute.stats().sampled_out > 1500, "{:?}", by_attribute.stats());
        assert_eq!(overridden.stats().sampled_out, 0);
    }

    #[test]
    fn long_strings_are_cut_and_listed_and_every_line_stays_json() {
        let captured = Captured::with(
            LoggerBuilder::new()
                .drain(DRAIN)
                .field_max_bytes(100)
                .record_max_bytes(2000)
                .profile_interval(None),
        );
        let output = captured.output.clone();
        let model = Logged::with_settings(Scorer, &captured.logger, &settings(None)).expect("wraps");
        let cases = [
            "é✓😀".repeat(40),           // multi-byte characters at every cut
            "\u{1}\"\\".repeat(300),      // escapes that grow six-fold
            "plain".repeat(1000),
        ];
        for note in &cases {
            let application = Application { note: note.clone(), ..Application::new(1.0) };
            model.predict(&application).expect("predicts");
        }
        drop(model);
        let records = captured.finish();
        for line in output.lines() {
            assert!(line.len() < 2000, "{} bytes", line.len());
        }
        let requested = with_message(&records, "Prediction requested.");
        assert_eq!(requested.len(), cases.len(), "every record was cut, none dropped");
        assert_eq!(with_message(&records, "Prediction created.").len(), cases.len());
        for (record, note) in requested.iter().zip(&cases) {
            let cut = record["note"].as_str().expect("a string");
            assert!(cut.ends_with("…[truncated]"), "{cut}");
            let kept = cut.trim_end_matches("…[truncated]");
            assert!(note.starts_with(kept) && kept.len() <= 100, "{kept}");
            assert_eq!(record["truncated_fields"], serde_json::json!(["note"]));
            assert_eq!(record["amount"], 1.0, "the other fields are whole");
        }
    }
}

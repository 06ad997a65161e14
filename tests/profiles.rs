//! Profiles of every prediction: one "Model profile." record per model per
//! window and at shutdown, fed by every prediction (sampled out or not),
//! with exact counts, sketches that read back and merge across windows and
//! pods, and sensitive fields counted, never sketched. On both drains.

use logged_model::profile::{ModelProfile, PROFILE_MESSAGE, ProfileError};
use logged_model::{
    CapturedOutput, ConfigError, HashKey, Logged, LoggerBuilder, Model, ModelSettings, Sensitive,
    logged_model,
};
use logged_model_test_support::{JsonRecord, on_both_drains};
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Purpose {
    Car,
    Education,
    Furniture,
}

struct Application {
    amount: f64,
    months: u32,
    purpose: Purpose,
    note: Option<String>,
    phone: Sensitive<String>,
    applicant_id: Option<Sensitive<String>>,
}

#[derive(Serialize)]
struct Verdict {
    risky: bool,
    probability: f64,
}

/// Fails above an amount of 9,000.
struct Scorer;

#[logged_model(
    input_fields = [amount, months, purpose, note, phone(redact), applicant_id(hash)],
    output_fields = [risky, probability]
)]
impl Model for Scorer {
    type Input = Application;
    type Output = Verdict;
    type Error = String;
    fn qualified_name(&self) -> &str {
        "scorer"
    }
    fn version(&self) -> &str {
        "2"
    }
    fn predict(&self, input: &Application) -> Result<Verdict, String> {
        if input.amount > 9_000.0 {
            return Err("amount out of range".to_owned());
        }
        Ok(Verdict {
            risky: input.amount > 5_000.0,
            probability: input.amount / 10_000.0,
        })
    }
}

const PHONE: &str = "+49 30 1234567";
const APPLICANT: &str = "applicant-secret-7";

fn application(index: u32) -> Application {
    Application {
        amount: f64::from(index % 100) * 100.0,
        months: 6 + index % 30,
        purpose: [Purpose::Car, Purpose::Education, Purpose::Furniture][(index % 3) as usize],
        note: index.is_multiple_of(4).then(|| "first".to_owned()),
        phone: Sensitive::new(PHONE.to_owned()),
        applicant_id: (!index.is_multiple_of(5)).then(|| Sensitive::new(APPLICANT.to_owned())),
    }
}

fn settings(rate: f64) -> ModelSettings {
    ModelSettings::new()
        .sample_rate(rate)
        .expect("a valid rate")
        .hash_key(HashKey::new("a key of sixteen bytes or more").expect("valid"))
}

fn profiles(records: &[JsonRecord]) -> Vec<ModelProfile> {
    records
        .iter()
        .filter(|record| record["message"] == PROFILE_MESSAGE)
        .map(|record| ModelProfile::from_record(record).expect("a readable profile"))
        .collect()
}

fn merged(profiles: &[ModelProfile]) -> ModelProfile {
    let (first, rest) = profiles.split_first().expect("a profile");
    let mut all = first.clone();
    for profile in rest {
        all.merge(profile).expect("same model");
    }
    all
}

on_both_drains! {
    #[test]
    fn every_prediction_is_profiled_at_any_rate_with_exact_counts() {
        for rate in [0.0, 0.1, 1.0] {
            let before = std::time::SystemTime::now();
            let output = CapturedOutput::default();
            let (logger, guard) = LoggerBuilder::new()
                .drain(DRAIN)
                .build_with_writer(output.clone())
                .expect("valid");
            let model = Logged::with_settings(Scorer, &logger, &settings(rate)).expect("wraps");
            let mut failures = 0;
            for index in 0..1000 {
                if model.predict(&application(index)).is_err() {
                    failures += 1;
                }
            }
            let stats = model.stats();
            drop((model, logger, guard));
            let records = output.records().expect("JSON lines");
            let profiles = profiles(&records);
            assert_eq!(profiles.len(), 1, "one window, written at shutdown (rate {rate})");
            let profile = &profiles[0];
            assert_eq!(profile.model, "scorer");
            let (start, end) = (
                humantime::parse_rfc3339(&profile.start).expect("RFC 3339"),
                humantime::parse_rfc3339(&profile.end).expect("RFC 3339"),
            );
            assert!(before <= start && start <= end && end <= std::time::SystemTime::now());
            assert_eq!(profile.version, "2");
            let counts = profile.predictions;
            assert_eq!(counts.made, 1000);
            assert_eq!(counts.failed, failures);
            assert_eq!(counts.sampled_out, stats.sampled_out, "rate {rate}");
            assert_eq!(counts.logged, 1000 - stats.sampled_out);
            assert_eq!(counts.unprofiled, 0);
            // Inputs of every prediction, outputs of every success.
            for input in ["amount", "months", "purpose", "note", "phone", "applicant_id"] {
                assert_eq!(profile.field(input).expect(input).count(), 1000, "{input} at {rate}");
            }
            for output_field in ["risky", "probability"] {
                assert_eq!(profile.field(output_field).expect(output_field).count(), 1000 - failures);
                assert_eq!(profile.fields[output_field].role, "output");
            }
            assert_eq!(profile.fields["amount"].role, "input");
        }
    }

    #[test]
    fn numbers_and_texts_are_sketched_and_sensitive_fields_only_counted() {
        let output = CapturedOutput::default();
        let (logger, guard) = LoggerBuilder::new().drain(DRAIN).build_with_writer(output.clone()).expect("valid");
        let model = Logged::with_settings(Scorer, &logger, &settings(0.0)).expect("wraps");
        let mut amounts: Vec<f64> = Vec::new();
        for index in 0..900 {
            let input = application(index);
            amounts.push(input.amount);
            let _ = model.predict(&input);
        }
        drop((model, logger, guard));
        let text = output.text();
        assert!(!text.contains(PHONE) && !text.contains(APPLICANT), "no sensitive value in the log");
        let profile = &profiles(&output.records().expect("JSON"))[0];
        let amount = profile.field("amount").and_then(|f| f.numbers()).expect("numbers");
        assert_eq!(amount.count(), 900);
        assert_eq!(amount.min(), Some(0.0));
        assert_eq!(amount.max(), Some(9_900.0));
        let exact_mean = amounts.iter().sum::<f64>() / 900.0;
        assert!((amount.mean().expect("a mean") - exact_mean).abs() < 1e-6);
        amounts.sort_by(f64::total_cmp);
        let exact_median = amounts[449];
        let median = amount.quantile(0.5).expect("a median");
        assert!((median - exact_median).abs() <= 0.02 * 9_900.0, "{median} against {exact_median}");
        let purpose = profile.field("purpose").and_then(|f| f.texts()).expect("texts");
        assert_eq!(purpose.max_error(), 0, "three items: exact");
        let mut items = purpose.items();
        items.sort();
        assert_eq!(items, [("car".to_owned(), 300), ("education".to_owned(), 300), ("furniture".to_owned(), 300)]);
        assert_eq!(purpose.distinct().round(), 3.0);
        let note = profile.field("note").expect("note");
        assert_eq!(note.nulls(), 900 - 225, "None is a null");
        assert_eq!(note.texts().map(|t| t.count()), Some(225));
        for sensitive in ["phone", "applicant_id"] {
            let field = profile.field(sensitive).expect(sensitive);
            assert!(field.numbers().is_none() && field.texts().is_none(), "{sensitive} is not sketched");
            assert_eq!(field.count(), 900);
        }
        assert_eq!(profile.field("applicant_id").map(|f| f.nulls()), Some(180), "an absent id is a null");
        assert_eq!(profile.field("phone").map(|f| f.nulls()), Some(0));
        let risky = profile.field("risky").and_then(|f| f.texts()).expect("a bool is a category");
        let mut items = risky.items();
        items.sort();
        let succeeded: Vec<f64> = amounts.iter().copied().filter(|a| *a <= 9_000.0).collect();
        let risky_count = succeeded.iter().filter(|a| **a > 5_000.0).count() as u64;
        let safe_count = succeeded.len() as u64 - risky_count;
        assert_eq!(items, [("false".to_owned(), safe_count), ("true".to_owned(), risky_count)]);
    }

    #[test]
    fn windows_follow_the_interval_and_merge_into_the_whole() {
        let output = CapturedOutput::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .profile_interval(Some(Duration::from_secs(1)))
            .build_with_writer(output.clone())
            .expect("valid");
        let model = Logged::with_settings(Scorer, &logger, &settings(0.5)).expect("wraps");
        for index in 0..300 {
            let _ = model.predict(&application(index));
            if index == 150 {
                std::thread::sleep(Duration::from_millis(1300));
            }
        }
        drop((model, logger, guard));
        let windows = profiles(&output.records().expect("JSON"));
        assert!(windows.len() >= 2, "{} windows", windows.len());
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "windows follow each other");
        }
        let whole = merged(&windows);
        assert_eq!(whole.windows, windows.len() as u64);
        assert_eq!(whole.predictions.made, 300);
        assert_eq!(whole.field("amount").map(|f| f.count()), Some(300));
        assert_eq!(whole.start, windows[0].start);
        assert_eq!(whole.end, windows[windows.len() - 1].end);
    }

    #[test]
    fn profiles_from_several_threads_and_pods_merge_with_nothing_lost() {
        let mut pods = Vec::new();
        for _pod in 0..2 {
            let output = CapturedOutput::default();
            let (logger, guard) = LoggerBuilder::new().drain(DRAIN).build_with_writer(output.clone()).expect("valid");
            let model = std::sync::Arc::new(Logged::with_settings(Scorer, &logger, &settings(0.1)).expect("wraps"));
            let threads: Vec<_> = (0..4)
                .map(|thread| {
                    let model = std::sync::Arc::clone(&model);
                    std::thread::spawn(move || {
                        for index in 0..500 {
                            let _ = model.predict(&application(thread * 500 + index));
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().expect("no panic");
            }
            drop((model, logger, guard));
            pods.extend(profiles(&output.records().expect("JSON")));
        }
        let fleet = merged(&pods);
        assert_eq!(fleet.predictions.made, 4000);
        assert_eq!(fleet.predictions.unprofiled, 0);
        assert_eq!(fleet.field("months").map(|f| f.count()), Some(4000));
        let purpose = fleet.field("purpose").and_then(|f| f.texts()).expect("texts");
        assert_eq!(purpose.items().iter().map(|(_, n)| n).sum::<u64>(), 4000);
    }
}

#[test]
fn a_profile_of_another_model_does_not_merge() {
    let record = |model: &str| -> JsonRecord {
        serde_json::from_value(serde_json::json!({
            "message": PROFILE_MESSAGE,
            "model_qualified_name": model,
            "model_version": "1",
            "model_profile": {
                "window": {"start": "2026-12-07T10:00:00.000000Z", "end": "2026-12-07T10:01:00.000000Z"},
                "predictions": {"made": 1, "logged": 1, "sampled_out": 0, "failed": 0, "unprofiled": 0, "outcomes": 0},
                "fields": {"x": {"role": "input", "count": 1, "nulls": 1}}
            }
        }))
        .expect("an object")
    };
    let mut ours = ModelProfile::from_record(&record("a")).expect("readable");
    let error = ours
        .merge(&ModelProfile::from_record(&record("b")).expect("readable"))
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "cannot merge the profile of `b` into that of `a`"
    );
    let mut not_a_profile = record("a");
    not_a_profile.insert("message".to_owned(), "Prediction created.".into());
    assert!(matches!(
        ModelProfile::from_record(&not_a_profile),
        Err(ProfileError::NotAProfile(_))
    ));
    let mut damaged = record("a");
    damaged["model_profile"]["predictions"]["made"] = "one".into();
    let error = ModelProfile::from_record(&damaged).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "profile record: `model_profile.predictions.made` is missing or not what it should be"
    );
}

#[test]
fn profile_interval_is_read_from_the_environment_and_bad_values_are_refused() {
    let build = |value: &'static str| {
        LoggerBuilder::from_env_with(move |name| {
            (name == "LOG_PROFILE_INTERVAL").then(|| value.to_owned())
        })
    };
    for good in ["60s", "5m", "1h", "30", "off", "OFF"] {
        assert!(build(good).is_ok(), "{good}");
    }
    for bad in ["0", "500ms", "soon", "-1", ""] {
        let error = build(bad).err().expect(bad);
        assert!(
            matches!(
                error,
                ConfigError::InvalidValue {
                    variable: "LOG_PROFILE_INTERVAL",
                    ..
                }
            ),
            "{bad}: {error}"
        );
        assert!(error.to_string().contains("or off"), "{error}");
    }
}

#[test]
fn no_profile_when_profiling_is_off_or_the_level_is_above_info() {
    for builder in [
        LoggerBuilder::from_env_with(|name| {
            (name == "LOG_PROFILE_INTERVAL").then(|| "off".to_owned())
        })
        .expect("valid"),
        LoggerBuilder::new().level(slog::Level::Warning),
    ] {
        let output = CapturedOutput::default();
        let (logger, guard) = builder.build_with_writer(output.clone()).expect("valid");
        let model = Logged::with_settings(Scorer, &logger, &settings(1.0)).expect("wraps");
        let _ = model.predict(&application(1));
        drop((model, logger, guard));
        assert!(profiles(&output.records().expect("JSON")).is_empty());
    }
}

#[test]
fn a_profile_of_many_fields_stays_under_the_line_limit() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    let model = Logged::with_settings(Scorer, &logger, &settings(0.0)).expect("wraps");
    // Enough values for every sketch to fill.
    for index in 0..200_000 {
        let mut input = application(index);
        input.amount = f64::from(index.wrapping_mul(2_654_435_761) % 9_000);
        input.note = Some(format!("note {}", index % 1000));
        let _ = model.predict(&input);
    }
    drop((model, logger, guard));
    let text = output.text();
    let line = text
        .lines()
        .find(|line| line.contains(PROFILE_MESSAGE))
        .expect("a profile line");
    assert!(line.len() < 16_000, "{} bytes", line.len());
    assert!(!line.contains("truncated_fields"), "nothing cut");
    // It fit by a smaller `k`, its sketches kept.
    let profile = &profiles(&output.records().expect("JSON"))[0];
    let amount = profile
        .field("amount")
        .and_then(|f| f.numbers())
        .expect("the amount's sketch kept");
    let k = amount.kll().k();
    assert!((16..256).contains(&k), "k = {k}");
}

/// Apache DataSketches' Python library, pinned: the independent reader.
const DATASKETCHES: &str = "datasketches==5.2.0";

#[test]
fn datasketches_own_python_library_reads_the_sketches_as_written() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    let model = Logged::with_settings(Scorer, &logger, &settings(0.2)).expect("wraps");
    for index in 0..20_000u32 {
        let mut input = application(index);
        // Past the sketch's k: its estimation mode, compactions included.
        input.amount = f64::from(index.wrapping_mul(2_654_435_761) % 9_000) + 0.25;
        let _ = model.predict(&input);
    }
    drop((model, logger, guard));
    let records = output.records().expect("JSON");
    let record = records
        .iter()
        .find(|r| r["message"] == PROFILE_MESSAGE)
        .expect("a profile");
    let file =
        std::env::temp_dir().join(format!("logged-model-profile-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(record).expect("JSON")).expect("written");
    let python = logged_model_test_support::python_with("datasketches", &[DATASKETCHES]);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/read_profile.py");
    let read = std::process::Command::new(python)
        .arg(script)
        .arg(&file)
        .output()
        .expect("python runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&read.stdout).expect("the reader's JSON");
    let ours = ModelProfile::from_record(record).expect("readable");
    let ranks = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
    let mut numeric = 0;
    for (key, field) in &ours.fields {
        let read_back = &theirs[key];
        assert_eq!(read_back["count"], field.sketch.count(), "{key}");
        assert_eq!(read_back["nulls"], field.sketch.nulls(), "{key}");
        if let Some(numbers) = field.sketch.numbers() {
            numeric += 1;
            assert_eq!(read_back["numbers"]["n"], numbers.count(), "{key}");
            assert_eq!(read_back["numbers"]["min"].as_f64(), numbers.min(), "{key}");
            assert_eq!(read_back["numbers"]["max"].as_f64(), numbers.max(), "{key}");
            let quantiles: Vec<Option<f64>> =
                ranks.iter().map(|rank| numbers.quantile(*rank)).collect();
            let python: Vec<Option<f64>> = read_back["numbers"]["quantiles"]
                .as_array()
                .expect("quantiles")
                .iter()
                .map(serde_json::Value::as_f64)
                .collect();
            // The same items, up to the last bit of a float read back from
            // the reader's JSON.
            let same = python.len() == quantiles.len()
                && python.iter().zip(&quantiles).all(|(p, q)| match (p, q) {
                    (Some(p), Some(q)) => (p - q).abs() <= 1e-12 * q.abs().max(1.0),
                    _ => false,
                });
            assert!(
                same,
                "{key}: the same quantiles: {python:?} against {quantiles:?}"
            );
        }
        if let Some(texts) = field.sketch.texts() {
            let mut items: Vec<(String, u64)> = texts.items();
            items.sort();
            let python: Vec<(String, u64)> = read_back["texts"]["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|row| {
                    (
                        row[0].as_str().unwrap_or("").to_owned(),
                        row[1].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            assert_eq!(python, items, "{key}: the same frequent items");
            let distinct = read_back["texts"]["distinct"]
                .as_f64()
                .expect("an estimate");
            assert!(
                (distinct - texts.distinct()).abs() < 1e-6,
                "{key}: {distinct} against {}",
                texts.distinct()
            );
        }
    }
    assert!(numeric >= 3, "amount, months, probability: {numeric}");
    assert!(
        ours.field("amount")
            .and_then(|f| f.numbers())
            .is_some_and(|n| n.kll().is_estimation_mode())
    );
}

#[derive(Serialize)]
struct Repaid {
    repaid: bool,
}

/// A model with outcomes.
struct Lender;

#[logged_model(input_fields = [0], outcome = Repaid, outcome_fields = [repaid])]
impl Model for Lender {
    type Input = (f64,);
    type Output = f64;
    type Error = String;
    fn qualified_name(&self) -> &str {
        "lender"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &(f64,)) -> Result<f64, String> {
        Ok(input.0)
    }
}

#[test]
fn the_outcomes_written_are_counted_in_the_models_profile() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    // An outcome logger made before the model counts into its profile too.
    let outcomes =
        logged_model::OutcomeLogger::<Lender>::new(&logger, "lender", "1").expect("valid");
    let model = Logged::new(Lender, &logger).expect("wraps");
    let mut ids = Vec::new();
    for amount in 0..10 {
        let (id, _) = model.predict_with_id(&(f64::from(amount),));
        ids.push(id.expect("logged"));
    }
    for id in &ids[..7] {
        outcomes.log(id, &Repaid { repaid: true });
    }
    drop((model, outcomes, logger, guard));
    let profile = &profiles(&output.records().expect("JSON"))[0];
    assert_eq!(profile.predictions.made, 10);
    assert_eq!(
        profile.predictions.outcomes, 7,
        "a join rate of 70 % from the profile alone"
    );
}

/// A model that profiles fields it does not log.
struct Wide;

#[logged_model(
    input_fields = [amount],
    output_fields = [risky],
    profile_fields = [months, purpose, applicant_id(hash)]
)]
impl Model for Wide {
    type Input = Application;
    type Output = Verdict;
    type Error = String;
    fn qualified_name(&self) -> &str {
        "wide"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &Application) -> Result<Verdict, String> {
        Scorer.predict(input)
    }
}

#[test]
fn fields_profiled_but_not_logged_are_profiled_for_every_prediction_failed_or_not() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    // No hash key: a field profiled as `(hash)` is counted, never hashed.
    let model = Logged::new(Wide, &logger).expect("no hash key needed");
    let mut failures = 0;
    for index in 0..500 {
        failures += u64::from(model.predict(&application(index)).is_err());
    }
    assert!(failures > 0);
    drop((model, logger, guard));
    let records = output.records().expect("JSON");
    for record in records.iter().filter(|r| r["message"] != PROFILE_MESSAGE) {
        for key in ["months", "purpose", "applicant_id"] {
            assert!(
                record.get(key).is_none(),
                "{key} is profiled, not logged: {record:?}"
            );
        }
    }
    let profile = &profiles(&records)[0];
    let months = profile
        .field("months")
        .and_then(|f| f.numbers())
        .expect("numbers");
    assert_eq!(months.count(), 500, "failed predictions too");
    assert_eq!(months.min(), Some(6.0));
    assert_eq!(months.max(), Some(35.0));
    let purpose = profile
        .field("purpose")
        .and_then(|f| f.texts())
        .expect("texts");
    assert_eq!(purpose.items().len(), 3);
    assert_eq!(
        profile.field("risky").map(|f| f.count()),
        Some(500 - failures)
    );
    let id = profile.field("applicant_id").expect("counted");
    assert!(id.texts().is_none() && id.numbers().is_none());
    assert_eq!(id.count(), 500);
    assert_eq!(profile.fields["months"].role, "input");
}

/// A model with more text fields than any record's sketches could hold.
struct Wordy;

#[logged_model(input_fields = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])]
impl Model for Wordy {
    type Input = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str {
        "wordy"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, _input: &Self::Input) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_profile_too_large_for_a_line_keeps_its_counts_and_says_so() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    let model = Logged::with_settings(Wordy, &logger, &settings(0.0)).expect("wraps");
    for index in 0..300u32 {
        let word = |field: u32| format!("{field}-{}-{}", "x".repeat(100), index % 97);
        let input = (
            word(0),
            word(1),
            word(2),
            word(3),
            word(4),
            word(5),
            word(6),
            word(7),
            word(8),
            word(9),
            word(10),
            word(11),
            word(12),
            word(13),
            word(14),
            word(15),
            word(16),
            word(17),
            word(18),
            word(19),
        );
        model.predict(&input).expect("predicts");
    }
    drop((model, logger, guard));
    let text = output.text();
    let line = text
        .lines()
        .find(|line| line.contains(PROFILE_MESSAGE))
        .expect("a profile line");
    assert!(line.len() < 16_000, "{} bytes", line.len());
    assert!(!line.contains("truncated_fields"), "nothing cut");
    let profile = &profiles(&output.records().expect("JSON"))[0];
    assert_eq!(profile.predictions.made, 300);
    for (key, field) in &profile.fields {
        assert_eq!(field.sketch.count(), 300, "{key}: the counts stay");
    }
    let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(
        record["model_profile"]["fields"]["0"]["sketches"],
        "omitted: the record's size"
    );
}

#[test]
fn merged_profiles_sum_every_count_and_span_every_window() {
    let record = |start: &str, end: &str, counts: [u64; 6]| -> JsonRecord {
        serde_json::from_value(serde_json::json!({
            "message": PROFILE_MESSAGE,
            "model_qualified_name": "a",
            "model_version": "1",
            "model_profile": {
                "window": {"start": start, "end": end},
                "predictions": {
                    "made": counts[0], "logged": counts[1], "sampled_out": counts[2],
                    "failed": counts[3], "unprofiled": counts[4], "outcomes": counts[5]
                },
                "fields": {"x": {"role": "input", "count": counts[0], "nulls": 0}}
            }
        }))
        .expect("an object")
    };
    // The later window first: the merge orders the span itself.
    let mut merged = ModelProfile::from_record(&record(
        "2026-12-07T10:01:00.000000Z",
        "2026-12-07T10:02:00.000000Z",
        [10, 4, 6, 1, 2, 3],
    ))
    .expect("readable");
    let earlier = ModelProfile::from_record(&record(
        "2026-12-07T10:00:00.000000Z",
        "2026-12-07T10:01:00.000000Z",
        [20, 15, 5, 2, 1, 7],
    ))
    .expect("readable");
    merged.merge(&earlier).expect("same model");
    let counts = merged.predictions;
    assert_eq!(
        [
            counts.made,
            counts.logged,
            counts.sampled_out,
            counts.failed,
            counts.unprofiled,
            counts.outcomes
        ],
        [30, 19, 11, 3, 3, 10]
    );
    assert_eq!(merged.start, "2026-12-07T10:00:00.000000Z");
    assert_eq!(merged.end, "2026-12-07T10:02:00.000000Z");
    assert_eq!(merged.windows, 2);
    assert_eq!(merged.field("x").map(|f| f.count()), Some(30));
    // Merging in the other order spans the same.
    let mut other = earlier.clone();
    other
        .merge(
            &ModelProfile::from_record(&record(
                "2026-12-07T10:01:00.000000Z",
                "2026-12-07T10:02:00.000000Z",
                [10, 4, 6, 1, 2, 3],
            ))
            .expect("readable"),
        )
        .expect("same model");
    assert_eq!(
        (other.start.as_str(), other.end.as_str()),
        (merged.start.as_str(), merged.end.as_str())
    );
}

/// A model its neighbour's field calls while it is being profiled.
struct Inner;

#[logged_model(input_fields = [0])]
impl Model for Inner {
    type Input = (f64,);
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str {
        "inner"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, _input: &(f64,)) -> Result<(), String> {
        Ok(())
    }
}

static INNER: std::sync::OnceLock<Logged<Inner>> = std::sync::OnceLock::new();

/// A field whose `Serialize` makes a prediction of its own.
struct Calling;

impl Serialize for Calling {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(inner) = INNER.get() {
            let _ = inner.predict(&(1.0,));
        }
        serializer.serialize_f64(1.0)
    }
}

struct Outer;

#[logged_model(input_fields = [0], sample_rate = 0.0)]
impl Model for Outer {
    type Input = (Calling,);
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str {
        "outer"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, _input: &(Calling,)) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_prediction_made_while_its_thread_profiles_another_is_counted_unprofiled() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    let _ = INNER.set(Logged::new(Inner, &logger).expect("wraps"));
    let outer = Logged::new(Outer, &logger).expect("wraps");
    for _ in 0..5 {
        outer.predict(&(Calling,)).expect("predicts");
    }
    drop((outer, logger, guard));
    let records = output.records().expect("JSON");
    let inner = profiles(&records)
        .into_iter()
        .find(|profile| profile.model == "inner")
        .expect("the inner model's profile");
    assert_eq!(inner.predictions.made, 5);
    assert_eq!(
        inner.predictions.unprofiled, 5,
        "each was made inside the outer profile's pass"
    );
    assert_eq!(inner.field("0").map(|f| f.count()).unwrap_or(0), 0);
}

#[test]
fn an_idle_window_writes_nothing_and_outcomes_alone_make_one() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .profile_interval(Some(Duration::from_secs(1)))
        .build_with_writer(output.clone())
        .expect("valid");
    let model = Logged::new(Lender, &logger).expect("wraps");
    let outcomes = model.outcome_logger().expect("an outcome logger");
    let ids: Vec<_> = (0..3)
        .filter_map(|amount| model.predict_with_id(&(f64::from(amount),)).0)
        .collect();
    // A window or two with nothing in them, then outcomes alone.
    std::thread::sleep(Duration::from_millis(2300));
    for id in &ids[..2] {
        outcomes.log(id, &Repaid { repaid: false });
    }
    std::thread::sleep(Duration::from_millis(1300));
    drop((model, outcomes, logger, guard));
    let windows = profiles(&output.records().expect("JSON"));
    assert!(
        windows.len() >= 2 && windows.len() <= 3,
        "{} windows",
        windows.len()
    );
    for window in &windows {
        let counts = window.predictions;
        assert!(
            counts.made + counts.outcomes + counts.unprofiled > 0,
            "an empty window was written: {counts:?}"
        );
    }
    assert_eq!(windows.iter().map(|w| w.predictions.made).sum::<u64>(), 3);
    assert_eq!(
        windows.iter().map(|w| w.predictions.outcomes).sum::<u64>(),
        2
    );
    let last = &windows[windows.len() - 1];
    assert_eq!(
        (last.predictions.made, last.predictions.outcomes),
        (0, 2),
        "the outcomes' own window"
    );
}

//! The model: trained on the real data, reproducible byte for byte, and
//! predicting as its metrics say.

use credit_risk_service::artifact::ModelArtifact;
use credit_risk_service::dataset::{self, Creditability};
use credit_risk_service::model::{CreditRisk, CreditRiskModel, PredictionError};
use credit_risk_service::training::{self, default_settings};
use credit_risk_service::{DEFAULT_ARTIFACT, DEFAULT_DATA, MODEL_VERSION, examples};
use logged_model::Model;
use std::path::Path;

fn rows() -> Vec<dataset::LabelledApplication> {
    dataset::load(Path::new(DEFAULT_DATA)).expect("the committed data set loads")
}

#[test]
fn the_data_set_has_a_thousand_rows_three_hundred_bad() {
    let rows = rows();
    assert_eq!(rows.len(), 1000);
    assert_eq!(
        rows.iter()
            .filter(|r| r.creditability == Creditability::Bad)
            .count(),
        300
    );
}

#[test]
fn retraining_with_the_same_seed_reproduces_the_committed_artifact_byte_for_byte() {
    let artifact = training::train(&rows(), default_settings(), MODEL_VERSION).expect("trains");
    let retrained = artifact.to_json().expect("serializes");
    let committed = std::fs::read_to_string(DEFAULT_ARTIFACT).expect("the committed artifact");
    assert!(
        retrained == committed,
        "the committed artifact is stale: run `cargo run -p credit-risk-service -- train`"
    );
}

#[test]
fn another_seed_gives_another_split_and_model() {
    let rows = rows();
    let settings = training::TrainingSettings {
        seed: 7,
        ..default_settings()
    };
    let other = training::train(&rows, settings, MODEL_VERSION).expect("trains");
    let committed = ModelArtifact::load(Path::new(DEFAULT_ARTIFACT)).expect("loads");
    assert_ne!(other.classifier.params(), committed.classifier.params());
}

#[test]
fn the_split_is_stratified_and_disjoint() {
    let rows = rows();
    let (train, test) = training::stratified_split(&rows, 0.2, 42);
    assert_eq!(train.len(), 800);
    assert_eq!(test.len(), 200);
    let bad_in_test = test
        .iter()
        .filter(|&&i| rows[i].creditability == Creditability::Bad)
        .count();
    assert_eq!(bad_in_test, 60, "20% of the 300 bad rows");
    assert!(train.iter().all(|i| !test.contains(i)));
}

#[test]
fn the_held_out_metrics_show_a_useful_model() {
    let artifact = ModelArtifact::load(Path::new(DEFAULT_ARTIFACT)).expect("loads");
    let metrics = &artifact.metrics;
    assert_eq!(metrics.rows, 200);
    assert!(metrics.roc_auc > 0.7, "ROC AUC {}", metrics.roc_auc);
    assert!(
        metrics.recall_bad > 0.75,
        "at the cost threshold most bad credit is caught"
    );
    // Predicting everyone safe costs 5 * 60 / 200 = 1.5 per applicant.
    assert!(metrics.mean_cost < 1.0, "cheaper than lending to everyone");
}

#[test]
fn the_served_model_agrees_with_the_training_evaluation() {
    let rows = rows();
    let artifact = ModelArtifact::load(Path::new(DEFAULT_ARTIFACT)).expect("loads");
    let expected = artifact.metrics.clone();
    let threshold = artifact.settings.threshold;
    let model = CreditRiskModel::new(artifact);
    let (_, test) = training::stratified_split(&rows, 0.2, 42);
    let scored: Vec<(f64, bool)> = test
        .iter()
        .map(|&i| {
            let prediction = model.predict(&rows[i].application).expect("predicts");
            (
                prediction.probability_of_risky,
                rows[i].creditability == Creditability::Bad,
            )
        })
        .collect();
    // Recomputed here, independently of the metrics module: the confusion
    // counts at the threshold, the cost matrix, and the ROC AUC as the share
    // of (bad, good) pairs in which the bad row scores higher (ties count half).
    let bad_risky = scored
        .iter()
        .filter(|(p, bad)| *bad && *p >= threshold)
        .count();
    let bad_safe = scored
        .iter()
        .filter(|(p, bad)| *bad && *p < threshold)
        .count();
    let good_risky = scored
        .iter()
        .filter(|(p, bad)| !*bad && *p >= threshold)
        .count();
    let good_safe = scored
        .iter()
        .filter(|(p, bad)| !*bad && *p < threshold)
        .count();
    let confusion = &expected.confusion;
    assert_eq!(bad_risky, confusion.bad_predicted_risky as usize);
    assert_eq!(bad_safe, confusion.bad_predicted_safe as usize);
    assert_eq!(good_risky, confusion.good_predicted_risky as usize);
    assert_eq!(good_safe, confusion.good_predicted_safe as usize);
    let mean_cost = (5.0 * bad_safe as f64 + good_risky as f64) / scored.len() as f64;
    assert!(
        (mean_cost - expected.mean_cost).abs() < 1e-12,
        "{mean_cost}"
    );
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (bad_score, _) in scored.iter().filter(|(_, bad)| *bad) {
        for (good_score, _) in scored.iter().filter(|(_, bad)| !*bad) {
            pairs += 1.0;
            if bad_score > good_score {
                wins += 1.0;
            } else if bad_score == good_score {
                wins += 0.5;
            }
        }
    }
    assert!(
        (wins / pairs - expected.roc_auc).abs() < 1e-9,
        "{}",
        wins / pairs
    );
}

#[test]
fn typical_applicants_are_classified_as_expected() {
    let model =
        CreditRiskModel::new(ModelArtifact::load(Path::new(DEFAULT_ARTIFACT)).expect("loads"));
    assert_eq!(
        model
            .predict(&examples::good_applicant())
            .expect("predicts")
            .credit_risk,
        CreditRisk::Safe
    );
    assert_eq!(
        model
            .predict(&examples::risky_applicant())
            .expect("predicts")
            .credit_risk,
        CreditRisk::Risky
    );
}

#[test]
fn the_model_refuses_input_out_of_range() {
    let model =
        CreditRiskModel::new(ModelArtifact::load(Path::new(DEFAULT_ARTIFACT)).expect("loads"));
    let application = credit_risk_service::application::CreditApplication {
        age_in_years: 12,
        ..examples::good_applicant()
    };
    let error = model.predict(&application).expect_err("out of range");
    assert!(
        matches!(error, PredictionError::InvalidInput(ref invalid) if invalid.field == "age_in_years")
    );
    assert_eq!(
        error.to_string(),
        "invalid input: age_in_years must be from 18 to 120; got 12"
    );
}

#[test]
fn an_artifact_of_another_format_or_shape_is_refused() {
    let committed = std::fs::read_to_string(DEFAULT_ARTIFACT).expect("the committed artifact");
    let other_format = committed.replace("credit-risk-model/1", "credit-risk-model/2");
    assert!(
        ModelArtifact::from_json(&other_format)
            .expect_err("refused")
            .contains("format")
    );
    let other_columns = committed.replace("\"purpose=car (new)\"", "\"purpose=boat\"");
    assert!(
        ModelArtifact::from_json(&other_columns)
            .expect_err("refused")
            .contains("retrain")
    );
    assert!(ModelArtifact::from_json("{").is_err());
    let missing = ModelArtifact::load(Path::new("no/such/artifact.json")).expect_err("refused");
    assert!(
        missing
            .to_string()
            .starts_with("cannot access model artifact no/such/artifact.json")
    );
}

/// The first `rows` data rows of the committed data, with `change` applied
/// to the cells of data row `row` (1-based), loaded from a temporary file.
fn load_changed(rows: usize, row: usize, mut change: impl FnMut(&mut Vec<String>)) -> String {
    let directory =
        std::env::temp_dir().join(format!("credit-risk-data-{}-{row}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let path = directory.join("broken.csv");
    let data = std::fs::read_to_string(DEFAULT_DATA).expect("the data");
    let mut reader = csv::ReaderBuilder::new().from_reader(data.as_bytes());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(reader.headers().expect("a header"))
        .expect("writes");
    for (index, record) in reader.records().take(rows).enumerate() {
        let mut cells: Vec<String> = record.expect("a row").iter().map(str::to_owned).collect();
        if index + 1 == row {
            change(&mut cells);
        }
        writer.write_record(&cells).expect("writes");
    }
    std::fs::write(&path, writer.into_inner().expect("flushes")).expect("writes");
    let error = dataset::load(&path).expect_err("refused").to_string();
    std::fs::remove_dir_all(&directory).expect("cleans up");
    error
}

#[test]
fn a_malformed_number_is_reported_with_its_row_number() {
    // Column 13 is `age_in_years`.
    let error = load_changed(3, 3, |cells| cells[12] = "forty-two".to_owned());
    assert!(error.contains("data row 3"), "{error}");
    assert!(error.contains("field 12: invalid digit"), "{error}");
}

#[test]
fn an_unknown_category_is_reported_with_its_row_number() {
    // Column 4 is `purpose`.
    let error = load_changed(3, 2, |cells| cells[3] = "spaceship".to_owned());
    assert!(error.contains("data row 2"), "{error}");
    assert!(error.contains("spaceship"), "{error}");
}

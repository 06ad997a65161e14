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
    assert_eq!(
        credit_risk_service::metrics::Metrics::evaluate(&scored, threshold),
        expected
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

#[test]
fn a_malformed_data_row_is_reported_with_its_row_number() {
    let directory = std::env::temp_dir().join(format!("credit-risk-data-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let path = directory.join("broken.csv");
    let data = std::fs::read_to_string(DEFAULT_DATA).expect("the data");
    let mut lines: Vec<String> = data.lines().take(4).map(str::to_owned).collect();
    lines[3] = lines[3].replacen(",42,", ",forty-two,", 1);
    lines[2] = lines[2].replace("radio/television", "spaceship");
    std::fs::write(&path, lines.join("\n")).expect("writes");
    let error = dataset::load(&path).expect_err("refused").to_string();
    std::fs::remove_dir_all(&directory).expect("cleans up");
    assert!(error.contains("data row 2"), "{error}");
    assert!(error.contains("spaceship"), "{error}");
}

//! The quality expected before outcomes (`evaluate`'s confidence-based
//! estimate) against the quality realized, on every row of the data held
//! out: repeated five-fold cross-validation, each fold predicted by a model
//! trained (and calibrated by its own cross-validation) on the other four,
//! the estimate read from a profile sketch of the fold's probabilities as
//! `evaluate` reads it from profile records.
//!
//! One split's 200 held-out rows cannot settle a 0.03 agreement: their
//! realized cost alone varies by about 0.08 from sample to sample. Every
//! row held out once, in five differently shuffled partitions, can.

use credit_risk_service::dataset::{self, Creditability, LabelledApplication};
use credit_risk_service::metrics::Metrics;
use credit_risk_service::profiles::{EstimatedQuality, estimate_quality};
use credit_risk_service::training::{self, default_settings};
use credit_risk_service::{DEFAULT_DATA, MODEL_VERSION};
use logged_model::profile::FieldSketch;
use std::path::Path;

const FOLDS: usize = 5;

/// The estimate and the realized quality of each fold.
fn folds(seed: u64) -> Vec<(EstimatedQuality, Metrics)> {
    let rows = dataset::load(Path::new(DEFAULT_DATA)).expect("the committed data set loads");
    let settings = default_settings();
    let folds = training::stratified_folds(&rows, FOLDS, seed);
    folds
        .iter()
        .map(|test| {
            let train: Vec<usize> = (0..rows.len()).filter(|i| !test.contains(i)).collect();
            let artifact =
                training::train_on(&rows, &train, test, settings, MODEL_VERSION).expect("trains");
            let held_out: Vec<&LabelledApplication> = test.iter().map(|&i| &rows[i]).collect();
            let probabilities = training::probabilities(&artifact, &held_out).expect("scores");
            let mut sketch = FieldSketch::default();
            for &p in &probabilities {
                sketch.add_number(p);
            }
            let estimated = estimate_quality(
                sketch.numbers().expect("numbers"),
                settings.threshold,
                artifact.calibration.expect("calibrated"),
            );
            let scored: Vec<(f64, bool)> = probabilities
                .into_iter()
                .zip(&held_out)
                .map(|(p, row)| (p, row.creditability == Creditability::Bad))
                .collect();
            (estimated, Metrics::evaluate(&scored, settings.threshold))
        })
        .collect()
}

#[test]
fn the_folds_hold_every_row_once_in_the_classes_proportion() {
    let rows = dataset::load(Path::new(DEFAULT_DATA)).expect("loads");
    let folds = training::stratified_folds(&rows, FOLDS, 42);
    let mut seen: Vec<usize> = folds.iter().flatten().copied().collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..rows.len()).collect::<Vec<_>>());
    for fold in &folds {
        assert_eq!(fold.len(), 200);
        let bad = fold
            .iter()
            .filter(|&&i| rows[i].creditability == Creditability::Bad)
            .count();
        assert_eq!(bad, 60);
    }
}

/// Seeds of the repeated partitions.
const REPEATS: [u64; 5] = [1, 2, 3, 4, 5];

#[test]
fn the_estimate_matches_the_realized_quality_over_every_row_held_out() {
    let folds: Vec<_> = REPEATS.iter().flat_map(|&seed| folds(seed)).collect();
    let rows: f64 = folds.iter().map(|(_, m)| f64::from(m.rows)).sum();
    let pooled = |f: &dyn Fn(&EstimatedQuality, &Metrics) -> (f64, f64)| {
        folds
            .iter()
            .fold((0.0, 0.0), |(e, r), (estimated, realized)| {
                let (fe, fr) = f(estimated, realized);
                let n = f64::from(realized.rows);
                (e + fe * n / rows, r + fr * n / rows)
            })
    };
    let share = |count: u32, realized: &Metrics| f64::from(count) / f64::from(realized.rows);
    let measures = [
        (
            "bad predicted risky",
            pooled(&|e, r| {
                (
                    e.bad_predicted_risky,
                    share(r.confusion.bad_predicted_risky, r),
                )
            }),
        ),
        (
            "bad predicted safe",
            pooled(&|e, r| {
                (
                    e.bad_predicted_safe,
                    share(r.confusion.bad_predicted_safe, r),
                )
            }),
        ),
        (
            "good predicted risky",
            pooled(&|e, r| {
                (
                    e.good_predicted_risky,
                    share(r.confusion.good_predicted_risky, r),
                )
            }),
        ),
        (
            "good predicted safe",
            pooled(&|e, r| {
                (
                    e.good_predicted_safe,
                    share(r.confusion.good_predicted_safe, r),
                )
            }),
        ),
        ("mean cost", pooled(&|e, r| (e.mean_cost, r.mean_cost))),
        ("ROC AUC", pooled(&|e, r| (e.roc_auc, r.roc_auc))),
    ];
    for (what, (estimated, realized)) in measures {
        eprintln!("{what}: estimated {estimated:.4}, realized {realized:.4}");
    }
    for (what, (estimated, realized)) in measures {
        assert!(
            (estimated - realized).abs() <= 0.03,
            "{what}: estimated {estimated}, realized {realized}"
        );
    }
}

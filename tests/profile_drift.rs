//! Drift from profiles alone agrees with the same statistics computed from
//! the raw values (written again here, from their definitions in
//! `logged_model::profile::drift`), within 0.01, on three drifted and three
//! stable fields, with the current traffic sampled at 1 %: the profile sees
//! every prediction; the sampled records would see one in a hundred.

use logged_model::profile::drift::{DriftKind, FieldDrift};
use logged_model::profile::{FieldSketch, ModelProfile, PROFILE_MESSAGE};
use logged_model::{CapturedOutput, Logged, LoggerBuilder, Model, ModelSettings, logged_model};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

struct Applicant {
    income: f64,
    region: &'static str,
    color: &'static str,
    amount: f64,
    channel: &'static str,
}

struct Scorer;

#[logged_model(input_fields = [income, region, color, amount, channel], output_fields = [0])]
impl Model for Scorer {
    type Input = Applicant;
    type Output = (f64,);
    type Error = std::convert::Infallible;
    fn qualified_name(&self) -> &str {
        "scorer"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &Applicant) -> Result<(f64,), Self::Error> {
        Ok((1.0 / (1.0 + (-(input.amount - 3_000.0) / 2_000.0).exp()),))
    }
}

fn pick(rng: &mut StdRng, items: &[(&'static str, f64)]) -> &'static str {
    let mut at: f64 = rng.random();
    for (item, weight) in items {
        if at < *weight {
            return item;
        }
        at -= weight;
    }
    items[items.len() - 1].0
}

/// Applicants: `drifted` moves `amount` (and so the score) and `channel`;
/// `income`, `region` and `color` keep their distributions.
fn applicants(seed: u64, drifted: bool, count: usize) -> Vec<Applicant> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let income =
                3_000.0 + 800.0 * ((0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0);
            let region = pick(
                &mut rng,
                &[
                    ("north", 0.25),
                    ("south", 0.25),
                    ("east", 0.25),
                    ("west", 0.25),
                ],
            );
            let color = pick(&mut rng, &[("red", 0.5), ("green", 0.3), ("blue", 0.2)]);
            let scale = if drifted { 4_000.0 } else { 2_000.0 };
            let amount = -(1.0 - rng.random::<f64>()).ln() * scale;
            let channels: &[(&'static str, f64)] = if drifted {
                &[("web", 0.3), ("branch", 0.3), ("partner", 0.4)]
            } else {
                &[("web", 0.6), ("branch", 0.3), ("partner", 0.1)]
            };
            let channel = pick(&mut rng, channels);
            Applicant {
                income,
                region,
                color,
                amount,
                channel,
            }
        })
        .collect()
}

/// The merged profile of `applicants` predicted at `rate` by four pods
/// (four loggers, a quarter each).
fn profile_of(applicants: &[Applicant], rate: f64) -> ModelProfile {
    let quarter = applicants.len() / 4;
    let mut pods = applicants
        .chunks(quarter)
        .map(|share| pod_profile(share, rate));
    let mut fleet = pods.next().expect("a pod");
    for pod in pods {
        fleet.merge(&pod).expect("same model");
    }
    assert_eq!(fleet.predictions.made, applicants.len() as u64);
    fleet
}

/// The merged profile of `applicants` predicted at `rate` by one pod.
fn pod_profile(applicants: &[Applicant], rate: f64) -> ModelProfile {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid");
    let settings = ModelSettings::new().sample_rate(rate).expect("a rate");
    let model = Logged::with_settings(Scorer, &logger, &settings).expect("wraps");
    for applicant in applicants {
        model.predict(applicant).expect("predicts");
    }
    drop((model, logger, guard));
    let records = output.records().expect("JSON");
    let logged = records
        .iter()
        .filter(|r| r["message"] == "Prediction requested.")
        .count();
    assert!(
        rate == 1.0 || logged < applicants.len() / 10,
        "sampled: {logged} logged"
    );
    let mut profiles = records
        .iter()
        .filter(|r| r["message"] == PROFILE_MESSAGE)
        .map(|r| ModelProfile::from_record(r).expect("readable"));
    let mut whole = profiles.next().expect("a profile");
    for profile in profiles {
        whole.merge(&profile).expect("same model");
    }
    assert_eq!(whole.predictions.made, applicants.len() as u64);
    whole
}

// The statistics from raw values, from their definitions.

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values
}

/// The smallest value with at least a share `rank` at or below it.
fn quantile(sorted: &[f64], rank: f64) -> f64 {
    let index = ((rank * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// The share of values at or below `x`.
fn cdf(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|value| *value <= x) as f64 / sorted.len() as f64
}

fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(r, c)| {
            let (r, c) = (r.max(1e-4), c.max(1e-4));
            (c - r) * (c / r).ln()
        })
        .sum()
}

fn js(reference: &[f64], current: &[f64]) -> f64 {
    let kl = |p: f64, m: f64| if p > 0.0 { p * (p / m).log2() } else { 0.0 };
    reference
        .iter()
        .zip(current)
        .map(|(r, c)| {
            let m = (r + c) / 2.0;
            if m > 0.0 {
                0.5 * kl(*r, m) + 0.5 * kl(*c, m)
            } else {
                0.0
            }
        })
        .sum()
}

struct Raw {
    psi: f64,
    js: f64,
    ks: Option<f64>,
    wasserstein: Option<f64>,
}

fn raw_numbers(reference: &[f64], current: &[f64]) -> Raw {
    let mut edges: Vec<f64> = (1..10)
        .map(|d| quantile(reference, f64::from(d) / 10.0))
        .collect();
    edges.dedup();
    let shares = |values: &[f64]| {
        let mut shares = Vec::new();
        let mut below = 0.0;
        for edge in &edges {
            let at = cdf(values, *edge);
            shares.push(at - below);
            below = at;
        }
        shares.push(1.0 - below);
        shares
    };
    let (r, c) = (shares(reference), shares(current));
    let ks = reference
        .iter()
        .chain(current)
        .map(|x| (cdf(reference, *x) - cdf(current, *x)).abs())
        .fold(0.0, f64::max);
    let gap = (0..1000)
        .map(|step| {
            let rank = 0.01 + 0.98 * (f64::from(step) + 0.5) / 1000.0;
            (quantile(reference, rank) - quantile(current, rank)).abs()
        })
        .sum::<f64>()
        / 1000.0;
    let spread = quantile(reference, 0.99) - quantile(reference, 0.01);
    Raw {
        psi: psi(&r, &c),
        js: js(&r, &c),
        ks: Some(ks),
        wasserstein: Some(gap / spread),
    }
}

fn raw_texts(reference: &[&str], current: &[&str]) -> Raw {
    let counts = |values: &[&str]| {
        let mut counts: BTreeMap<String, f64> = BTreeMap::new();
        for value in values {
            *counts.entry((*value).to_owned()).or_default() += 1.0;
        }
        counts
    };
    let (r, c) = (counts(reference), counts(current));
    let categories: std::collections::BTreeSet<&String> = r.keys().chain(c.keys()).collect();
    let shares = |counts: &BTreeMap<String, f64>, n: usize| -> Vec<f64> {
        categories
            .iter()
            .map(|k| counts.get(*k).copied().unwrap_or(0.0) / n as f64)
            .collect()
    };
    let (r, c) = (shares(&r, reference.len()), shares(&c, current.len()));
    Raw {
        psi: psi(&r, &c),
        js: js(&r, &c),
        ks: None,
        wasserstein: None,
    }
}

thread_local! {
    static WORST: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

fn close(name: &str, ours: Option<f64>, raw: Option<f64>) {
    match (ours, raw) {
        (Some(ours), Some(raw)) => {
            assert!(
                (ours - raw).abs() <= 0.01,
                "{name}: {ours} from the profiles, {raw} from the raw values"
            );
            WORST.with(|worst| worst.set(worst.get().max((ours - raw).abs())));
        }
        (None, None) => {}
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn drift_from_profiles_is_within_a_hundredth_of_drift_from_the_raw_values() {
    const COUNT: usize = 20_000;
    let reference_applicants = applicants(1, false, COUNT);
    let stable = applicants(2, false, COUNT);
    let drifted = applicants(3, true, COUNT);
    // The reference as a model artifact keeps it: the training rows'
    // numbers in sketches of a large `k` (the traffic's come from records).
    let mut reference = profile_of(&reference_applicants, 1.0);
    for field in ["income", "amount", "0"] {
        let mut sketch = FieldSketch::with_quantile_k(4096);
        for applicant in &reference_applicants {
            sketch.add_number(match field {
                "income" => applicant.income,
                "amount" => applicant.amount,
                _ => Scorer
                    .predict(applicant)
                    .map(|(score,)| score)
                    .unwrap_or(0.0),
            });
        }
        reference.fields.get_mut(field).expect("profiled").sketch = sketch;
    }
    for (current_applicants, moved) in [(&stable, false), (&drifted, true)] {
        let current = profile_of(current_applicants, 0.01);
        let drift: BTreeMap<String, FieldDrift> = current
            .drift(&reference)
            .into_iter()
            .map(|d| (d.field.clone(), d))
            .collect();
        assert_eq!(drift.len(), 6, "{:?}", drift.keys());
        let numbers = |applicants: &[Applicant], field: &str| -> Vec<f64> {
            sorted(applicants.iter().map(|a| match field {
                "income" => a.income,
                "amount" => a.amount,
                _ => Scorer.predict(a).map(|(score,)| score).unwrap_or(0.0),
            }))
        };
        let texts = |applicants: &[Applicant], field: &str| -> Vec<&'static str> {
            applicants
                .iter()
                .map(|a| match field {
                    "color" => a.color,
                    "region" => a.region,
                    _ => a.channel,
                })
                .collect()
        };
        for (field, raw) in [
            (
                "income",
                raw_numbers(
                    &numbers(&reference_applicants, "income"),
                    &numbers(current_applicants, "income"),
                ),
            ),
            (
                "region",
                raw_texts(
                    &texts(&reference_applicants, "region"),
                    &texts(current_applicants, "region"),
                ),
            ),
            (
                "amount",
                raw_numbers(
                    &numbers(&reference_applicants, "amount"),
                    &numbers(current_applicants, "amount"),
                ),
            ),
            (
                "0",
                raw_numbers(
                    &numbers(&reference_applicants, "0"),
                    &numbers(current_applicants, "0"),
                ),
            ),
            (
                "color",
                raw_texts(
                    &texts(&reference_applicants, "color"),
                    &texts(current_applicants, "color"),
                ),
            ),
            (
                "channel",
                raw_texts(
                    &texts(&reference_applicants, "channel"),
                    &texts(current_applicants, "channel"),
                ),
            ),
        ] {
            let ours = &drift[field];
            let label = format!(
                "{field} ({})",
                if moved {
                    "drifted traffic"
                } else {
                    "stable traffic"
                }
            );
            close(&format!("{label} psi"), Some(ours.psi), Some(raw.psi));
            close(&format!("{label} js"), Some(ours.js), Some(raw.js));
            close(&format!("{label} ks"), ours.ks, raw.ks);
            close(
                &format!("{label} wasserstein"),
                ours.wasserstein,
                raw.wasserstein,
            );
            let expect_moved = moved && matches!(field, "amount" | "channel" | "0");
            if expect_moved {
                assert!(
                    raw.psi > 0.25 && ours.psi > 0.25,
                    "{label}: psi {}",
                    ours.psi
                );
            } else {
                assert!(raw.psi < 0.1 && ours.psi < 0.1, "{label}: psi {}", ours.psi);
            }
            let kind = if matches!(field, "color" | "channel" | "region") {
                DriftKind::Texts
            } else {
                DriftKind::Numbers
            };
            assert_eq!(ours.kind, kind);
            assert_eq!(ours.current_values, COUNT as u64);
        }
    }
    let worst = WORST.with(std::cell::Cell::get);
    eprintln!(
        "the largest gap between a statistic from the profiles and from the raw values: {worst:.4}"
    );
}

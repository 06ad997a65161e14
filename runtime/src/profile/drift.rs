//! How far a field's values moved between two profiles (a reference, such
//! as the training data's, and the traffic of some windows), from their
//! sketches alone. The statistics and how each is computed:
//!
//! | statistic | numbers | texts |
//! | --- | --- | --- |
//! | `psi` (population stability index) | over ten bins cut at the reference's deciles: Σ (c − r) ln(c / r), each share at least 0.0001 | over the categories seen in either |
//! | `js` (Jensen–Shannon divergence, base 2, 0 to 1) | over the same bins | over the same categories |
//! | `ks` (Kolmogorov–Smirnov) | the largest gap between the two cumulative distributions, at 2,002 points (each sketch's quantiles at every 0.001 of rank) | none |
//! | `wasserstein` (1-Wasserstein of the central 98 %, as a share of the reference's central 98 % range) | the mean gap between the two quantile functions at 1,000 ranks evenly spread from 0.01 to 0.99, divided by the reference's Q(0.99) − Q(0.01) (or its whole range, if that is 0) | none |
//!
//! A bin holds the values above its lower edge and at or below its upper
//! one; a quantile at rank `r` is the smallest value with at least a share
//! `r` of the values at or below it. Computed from the raw values with the
//! same definitions, the statistics differ from these by the sketches'
//! rank error, which shrinks as windows and pods are merged (their errors
//! are independent, and a merged profile's sketches have a `k` of
//! [`MERGE_K`](super::MERGE_K)). `tests/profile_drift.rs` holds them within
//! 0.01 on three drifted and three stable fields, for traffic of four pods
//! sampled at 1 % against a reference summarized at `k` = 4096 (the largest
//! gap in six runs: 0.007); one window against one window is off by up to
//! about 0.02 on the PSI of a large shift.

use super::sketch::{FieldSketch, NumberSketch, TextSketch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The drift of one field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDrift {
    /// The field's key.
    pub field: String,
    /// Whether its values were numbers or texts.
    pub kind: DriftKind,
    /// Values in the reference.
    pub reference_values: u64,
    /// Values in the profile compared.
    pub current_values: u64,
    /// Population stability index.
    pub psi: f64,
    /// Jensen–Shannon divergence, base 2.
    pub js: f64,
    /// Kolmogorov–Smirnov distance (numbers only).
    pub ks: Option<f64>,
    /// 1-Wasserstein distance of the central 98 %, as a share of the
    /// reference's central 98 % range (numbers only; `None` when the
    /// reference has a single value).
    pub wasserstein: Option<f64>,
}

/// What a field's values were.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftKind {
    /// Numbers: quantile sketches compared.
    Numbers,
    /// Texts: category shares compared.
    Texts,
}

impl DriftKind {
    /// `"numbers"` or `"texts"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Numbers => "numbers",
            DriftKind::Texts => "texts",
        }
    }
}

/// The usual reading of a PSI: below 0.1 stable, up to 0.25 a moderate
/// shift, above it a significant one.
pub fn psi_reading(psi: f64) -> &'static str {
    if psi < 0.1 {
        "stable"
    } else if psi <= 0.25 {
        "moderate shift"
    } else {
        "significant shift"
    }
}

/// The drift of `current` against `reference`, if both have values of one
/// kind (numbers are compared when both have numbers).
pub fn field_drift(
    field: &str,
    reference: &FieldSketch,
    current: &FieldSketch,
) -> Option<FieldDrift> {
    if let (Some(reference), Some(current)) = (reference.numbers(), current.numbers()) {
        return numbers_drift(field, reference, current);
    }
    if let (Some(reference), Some(current)) = (reference.texts(), current.texts()) {
        return texts_drift(field, reference, current);
    }
    None
}

/// Shares each at least 0.0001, as PSI needs.
const FLOOR: f64 = 1e-4;

/// Population stability index of `current` shares against `reference` ones.
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(FLOOR), c.max(FLOOR));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// Jensen–Shannon divergence (base 2) of two distributions over the same
/// bins.
pub fn jensen_shannon(reference: &[f64], current: &[f64]) -> f64 {
    let part = |p: f64, m: f64| if p > 0.0 { p * (p / m).log2() } else { 0.0 };
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let m = (r + c) / 2.0;
            if m > 0.0 {
                0.5 * part(r, m) + 0.5 * part(c, m)
            } else {
                0.0
            }
        })
        .sum()
}

/// The shares of the bins cut at `edges`, from a cumulative distribution
/// at those edges.
fn shares_from_cdf(cdf: &[f64]) -> Vec<f64> {
    let mut shares = Vec::with_capacity(cdf.len() + 1);
    let mut below = 0.0;
    for &at in cdf {
        shares.push((at - below).max(0.0));
        below = at;
    }
    shares.push((1.0 - below).max(0.0));
    shares
}

const KS_STEPS: u32 = 1000;

/// The share of each tail the Wasserstein distance leaves out.
const TRIM: f64 = 0.01;

fn numbers_drift(
    field: &str,
    reference: &NumberSketch,
    current: &NumberSketch,
) -> Option<FieldDrift> {
    let mut edges: Vec<f64> = (1..10)
        .filter_map(|decile| reference.quantile(f64::from(decile) / 10.0))
        .collect();
    edges.dedup();
    let reference_shares = shares_from_cdf(&cdf_at(reference, &edges)?);
    let current_shares = shares_from_cdf(&cdf_at(current, &edges)?);
    // Kolmogorov–Smirnov over both sketches' quantiles.
    let mut grid: Vec<f64> = (0..=KS_STEPS)
        .flat_map(|step| {
            let rank = f64::from(step) / f64::from(KS_STEPS);
            [reference.quantile(rank), current.quantile(rank)]
        })
        .flatten()
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let ks = cdf_at(reference, &grid)?
        .iter()
        .zip(cdf_at(current, &grid)?)
        .map(|(r, c)| (r - c).abs())
        .fold(0.0, f64::max);
    // 1-Wasserstein of the central 98 %: the mean gap between the quantile
    // functions (a sketch's far tail is too coarse to take its gaps).
    let gap: f64 = (0..KS_STEPS)
        .filter_map(|step| {
            let rank = TRIM + (1.0 - 2.0 * TRIM) * (f64::from(step) + 0.5) / f64::from(KS_STEPS);
            Some((reference.quantile(rank)? - current.quantile(rank)?).abs())
        })
        .sum::<f64>()
        / f64::from(KS_STEPS);
    let spread = match (reference.quantile(1.0 - TRIM), reference.quantile(TRIM)) {
        (Some(high), Some(low)) if high > low => Some(high - low),
        _ => match (reference.max(), reference.min()) {
            (Some(max), Some(min)) if max > min => Some(max - min),
            _ => None,
        },
    };
    Some(FieldDrift {
        field: field.to_owned(),
        kind: DriftKind::Numbers,
        reference_values: reference.count(),
        current_values: current.count(),
        psi: psi(&reference_shares, &current_shares),
        js: jensen_shannon(&reference_shares, &current_shares),
        ks: Some(ks),
        wasserstein: spread.map(|spread| gap / spread),
    })
}

/// The sketch's cumulative distribution at `points` (increasing).
fn cdf_at(sketch: &NumberSketch, points: &[f64]) -> Option<Vec<f64>> {
    if points.is_empty() {
        return Some(Vec::new());
    }
    let mut cdf = sketch.cdf(points)?;
    // The last entry is the share above every point.
    cdf.truncate(points.len());
    Some(cdf)
}

fn texts_drift(field: &str, reference: &TextSketch, current: &TextSketch) -> Option<FieldDrift> {
    let counts = |sketch: &TextSketch| -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = sketch.items().into_iter().collect();
        let listed: u64 = counts.values().sum();
        // Counts the sketch no longer tells apart (none when it is exact).
        if sketch.count() > listed {
            counts.insert(String::from("\u{0}other"), sketch.count() - listed);
        }
        counts
    };
    let (reference_counts, current_counts) = (counts(reference), counts(current));
    let categories: Vec<&String> = reference_counts
        .keys()
        .chain(current_counts.keys())
        .collect();
    let mut categories = categories;
    categories.sort();
    categories.dedup();
    let shares = |counts: &BTreeMap<String, u64>, total: u64| -> Vec<f64> {
        #[allow(clippy::cast_precision_loss)]
        categories
            .iter()
            .map(|category| {
                counts.get(*category).copied().unwrap_or(0) as f64 / total.max(1) as f64
            })
            .collect()
    };
    let reference_shares = shares(&reference_counts, reference.count());
    let current_shares = shares(&current_counts, current.count());
    Some(FieldDrift {
        field: field.to_owned(),
        kind: DriftKind::Texts,
        reference_values: reference.count(),
        current_values: current.count(),
        psi: psi(&reference_shares, &current_shares),
        js: jensen_shannon(&reference_shares, &current_shares),
        ks: None,
        wasserstein: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_distributions_do_not_drift_and_disjoint_ones_do_to_the_bounds() {
        assert_eq!(psi(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert_eq!(jensen_shannon(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]) - 1.0).abs() < 1e-12);
        // PSI's floor keeps an empty bin finite.
        assert!(psi(&[1.0, 0.0], &[0.0, 1.0]).is_finite());
        assert_eq!(psi_reading(0.05), "stable");
        assert_eq!(psi_reading(0.2), "moderate shift");
        assert_eq!(psi_reading(0.3), "significant shift");
    }

    #[test]
    fn shares_come_from_the_cumulative_distribution_at_the_edges() {
        assert_eq!(shares_from_cdf(&[0.25, 0.5, 1.0]), [0.25, 0.25, 0.5, 0.0]);
        assert_eq!(shares_from_cdf(&[]), [1.0]);
    }
}

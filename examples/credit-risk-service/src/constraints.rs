//! `evaluate --constraints FILE`: the gate. The file sets upper limits on
//! the drift statistics of each profiled field (or of every field, `"*"`)
//! and on the mean cost, estimated from the probabilities or realized from
//! the outcomes; each statistic above its limit is a violation, written as
//! a JSON record, and the command exits with [`VIOLATED`].
//!
//! ```json
//! {
//!   "drift": {
//!     "*": { "psi": 0.25 },
//!     "credit_amount": { "psi": 0.1, "ks": 0.1, "js": 0.05, "wasserstein": 0.1 }
//!   },
//!   "mean_cost": { "estimated": 0.7, "realized": 0.7 }
//! }
//! ```
//!
//! A limit on a field the profiles do not hold, or on a statistic that
//! cannot be computed (no profile records, no outcomes yet for a realized
//! cost), is a violation too: a gate that cannot look does not pass.

use crate::evaluate::Evaluation;
use logged_model::profile::drift::DriftKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The exit code of `evaluate` when a constraint is violated.
pub const VIOLATED: u8 = 3;

/// Upper limits.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Limits on the drift of each field, by key; `"*"` for every field.
    #[serde(default)]
    pub drift: BTreeMap<String, DriftLimits>,
    /// Limits on the mean cost.
    #[serde(default)]
    pub mean_cost: Option<CostLimits>,
}

/// Limits on a field's drift statistics (see `logged_model::profile::drift`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftLimits {
    /// Population stability index.
    pub psi: Option<f64>,
    /// Jensen–Shannon divergence.
    pub js: Option<f64>,
    /// Kolmogorov–Smirnov distance.
    pub ks: Option<f64>,
    /// Trimmed Wasserstein distance.
    pub wasserstein: Option<f64>,
}

/// Limits on the mean cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostLimits {
    /// On the cost expected from the probabilities (every prediction).
    pub estimated: Option<f64>,
    /// On the cost of the predictions whose outcomes arrived.
    pub realized: Option<f64>,
}

/// One limit exceeded, or that could not be checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Always `"Constraint violated."`: the record's message.
    pub message: String,
    /// `drift` or `mean_cost`.
    pub constraint: String,
    /// The field, for a drift limit.
    pub field: Option<String>,
    /// The statistic: `psi`, `js`, `ks`, `wasserstein`, `estimated`, `realized`.
    pub statistic: String,
    /// Its value, when it could be computed.
    pub value: Option<f64>,
    /// The limit.
    pub limit: f64,
    /// In words.
    pub reason: String,
}

/// Reads and checks a constraints file: JSON, known keys only, limits that
/// are numbers of 0 or more.
pub fn load(path: &Path) -> Result<Constraints, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the constraints {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("constraints {}: {e}", path.display()))
}

/// Parses and checks constraints.
pub fn parse(text: &str) -> Result<Constraints, String> {
    let constraints: Constraints = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut limits: Vec<(String, f64)> = Vec::new();
    for (field, drift) in &constraints.drift {
        for (statistic, limit) in drift.limits() {
            limits.push((format!("drift.{field}.{statistic}"), limit));
        }
    }
    if let Some(cost) = constraints.mean_cost {
        limits.extend(
            cost.estimated
                .map(|l| ("mean_cost.estimated".to_owned(), l)),
        );
        limits.extend(cost.realized.map(|l| ("mean_cost.realized".to_owned(), l)));
    }
    for (name, limit) in &limits {
        if !(limit.is_finite() && *limit >= 0.0) {
            return Err(format!(
                "{name} is {limit}; a limit is a number of 0 or more"
            ));
        }
    }
    if limits.is_empty() {
        return Err("no limit is set: a gate with nothing to check passes everything".to_owned());
    }
    Ok(constraints)
}

impl DriftLimits {
    fn limits(&self) -> impl Iterator<Item = (&'static str, f64)> {
        [
            ("psi", self.psi),
            ("js", self.js),
            ("ks", self.ks),
            ("wasserstein", self.wasserstein),
        ]
        .into_iter()
        .filter_map(|(name, limit)| limit.map(|limit| (name, limit)))
    }
}

fn violation(
    constraint: &str,
    field: Option<&str>,
    statistic: &str,
    value: Option<f64>,
    limit: f64,
) -> Violation {
    let subject = match field {
        Some(field) => format!("{statistic} of {field}"),
        None => format!("the {statistic} mean cost"),
    };
    let reason = match value {
        Some(value) => format!("{subject} is {value:.4}, above the limit of {limit}"),
        None => format!("{subject} could not be computed, so the limit of {limit} is not met"),
    };
    Violation {
        message: "Constraint violated.".to_owned(),
        constraint: constraint.to_owned(),
        field: field.map(str::to_owned),
        statistic: statistic.to_owned(),
        value,
        limit,
        reason,
    }
}

/// Every limit `evaluation` exceeds or cannot be checked against.
pub fn check(constraints: &Constraints, evaluation: &Evaluation) -> Vec<Violation> {
    let mut violations = Vec::new();
    let drifts = evaluation
        .profiles
        .as_ref()
        .map(|profiles| profiles.drift.as_slice())
        .unwrap_or_default();
    for (field, limits) in &constraints.drift {
        let fields: Vec<&str> = if field == "*" {
            drifts.iter().map(|d| d.field.as_str()).collect()
        } else {
            vec![field.as_str()]
        };
        if fields.is_empty() {
            for (statistic, limit) in limits.limits() {
                violations.push(violation("drift", Some(field), statistic, None, limit));
            }
        }
        for name in fields {
            let drift = drifts.iter().find(|d| d.field == name);
            for (statistic, limit) in limits.limits() {
                let value = drift.and_then(|d| match statistic {
                    "psi" => Some(d.psi),
                    "js" => Some(d.js),
                    "ks" => d.ks,
                    _ => d.wasserstein,
                });
                // A statistic of numbers on a field of texts does not apply
                // to it under "*"; named, it must.
                let applies = drift.is_none_or(|d| {
                    field != "*"
                        || d.kind == DriftKind::Numbers
                        || matches!(statistic, "psi" | "js")
                });
                match value {
                    Some(value) if value <= limit => {}
                    _ if !applies => {}
                    value => {
                        violations.push(violation("drift", Some(name), statistic, value, limit))
                    }
                }
            }
        }
    }
    if let Some(cost) = constraints.mean_cost {
        let estimated = evaluation
            .profiles
            .as_ref()
            .and_then(|profiles| profiles.estimated.as_ref())
            .map(|estimated| estimated.mean_cost);
        let realized = evaluation.quality.as_ref().map(|quality| quality.mean_cost);
        for (statistic, limit, value) in [
            ("estimated", cost.estimated, estimated),
            ("realized", cost.realized, realized),
        ] {
            let Some(limit) = limit else { continue };
            match value {
                Some(value) if value <= limit => {}
                value => violations.push(violation("mean_cost", None, statistic, value, limit)),
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_an_unknown_key_or_a_bad_limit_is_refused_with_what_is_wrong() {
        let error = parse(r#"{"drift": {"*": {"psy": 0.2}}}"#).expect_err("refused");
        assert!(error.contains("unknown field `psy`"), "{error}");
        let error = parse(r#"{"drift": {"age": {"psi": -1}}}"#).expect_err("refused");
        assert!(error.contains("drift.age.psi is -1"), "{error}");
        let error = parse(r#"{"mean_cost": {}}"#).expect_err("refused");
        assert!(error.contains("no limit is set"), "{error}");
        let error = parse("not json").expect_err("refused");
        assert!(error.contains("expected"), "{error}");
        assert!(parse(r#"{"mean_cost": {"estimated": 0.7}}"#).is_ok());
    }
}

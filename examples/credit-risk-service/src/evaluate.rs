//! `credit-risk-service evaluate`: the model's quality recomputed from its
//! logs alone. It reads JSON-lines log files (the standard output of several
//! pods, concatenated in any order, mixed with access-log records, other
//! models' records and lines that are not JSON, or Elasticsearch search
//! responses, one per line, whose documents are the records), joins each "Prediction
//! created." to its "Prediction outcome." by `prediction_id`, and computes
//! what the training evaluation computed on held-out rows (ROC AUC, the
//! confusion matrix and the mean cost at the service's threshold), the
//! calibration by decile of the predicted probability, and the drift of each
//! logged numeric input against the training data (population stability
//! index).
//!
//! The files are streamed. Memory holds the predictions and outcomes still
//! waiting for their other half, and, for each joined pair, its score, its
//! truth and its id (about 40 bytes), which the exact ROC AUC needs.

use crate::artifact::ModelArtifact;
use crate::dataset::{Creditability, LabelledApplication};
use crate::metrics::Metrics;
use crate::model::QUALIFIED_NAME;
use crate::profiles::{ProfileEvaluation, evaluate_profiles};
use logged_model::profile::{ModelProfile, PROFILE_MESSAGE};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The logged numeric inputs whose drift is measured.
const DRIFT_FIELDS: [&str; 2] = ["duration_in_month", "credit_amount"];

/// What the logs say about the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Lines read, and of them lines that were not JSON objects.
    pub lines: u64,
    /// Lines that were not JSON objects (kept out of everything else).
    pub lines_not_json: u64,
    /// "Prediction created." records of this model.
    pub predictions: u64,
    /// Predictions with an outcome.
    pub with_outcome: u64,
    /// Predictions with no outcome (yet).
    pub without_outcome: u64,
    /// Outcomes whose prediction is not in the logs read.
    pub orphan_outcomes: u64,
    /// Outcomes reported again for a prediction that had one.
    pub duplicate_outcomes: u64,
    /// Which of several outcomes of one prediction counts.
    pub duplicate_rule: String,
    /// The threshold of `risky`, from the artifact.
    pub threshold: f64,
    /// ROC AUC, the confusion matrix and the mean cost of the joined pairs;
    /// `None` without both classes among them.
    pub quality: Option<Metrics>,
    /// Calibration: the joined pairs in ten groups of rising predicted
    /// probability.
    pub calibration: Vec<CalibrationDecile>,
    /// Drift of each logged numeric input against the training data.
    pub drift: Vec<FieldDrift>,
    /// What the model's profile records say (every prediction, sampled
    /// out or not): windows, drift against the training profile, and the
    /// quality expected before outcomes; `None` without profile records.
    #[serde(default)]
    pub profiles: Option<ProfileEvaluation>,
    /// Profile records that could not be read (each also said on standard
    /// error by the command).
    #[serde(default)]
    pub unreadable_profiles: Vec<String>,
    /// The outcome join window by window of the predictions' time.
    #[serde(default)]
    pub join_windows: Vec<JoinWindow>,
}

/// One tenth of the joined predictions, by predicted probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationDecile {
    /// 1 to 10, from the lowest probabilities.
    pub decile: u32,
    /// Predictions in it.
    pub predictions: u64,
    /// Their mean predicted probability of bad credit.
    pub mean_predicted: f64,
    /// The share of them that went bad.
    pub observed_bad_rate: f64,
}

/// The population stability index of one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDrift {
    /// The input field.
    pub field: String,
    /// Logged values read.
    pub values: u64,
    /// PSI over the training data's deciles.
    pub psi: f64,
    /// `stable` (below 0.1), `moderate shift` (0.1 to 0.25) or `significant
    /// shift` (above 0.25): the usual reading.
    pub reading: String,
}

/// The parts of a record evaluation reads; everything else is skipped.
#[derive(Deserialize)]
struct LineView<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model_qualified_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    prediction_id: Option<Cow<'a, str>>,
    #[serde(default)]
    probability_of_risky: Option<f64>,
    #[serde(default)]
    creditability: Option<Creditability>,
    #[serde(rename = "@timestamp", borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default)]
    duration_in_month: Option<f64>,
    #[serde(default)]
    credit_amount: Option<f64>,
}

/// The documents of an Elasticsearch search response on one line
/// (`hits.hits[]._source`, as JSON texts); `None` for any other line.
fn search_hits(text: &str) -> Option<Vec<String>> {
    if !text.starts_with('{') || !text.contains("\"hits\"") {
        return None;
    }
    let response: serde_json::Value = serde_json::from_str(text).ok()?;
    let hits = response.get("hits")?.get("hits")?.as_array()?;
    Some(
        hits.iter()
            .filter_map(|hit| hit.get("_source"))
            .map(serde_json::Value::to_string)
            .collect(),
    )
}

/// An RFC 3339 timestamp of a record.
fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// The start of the window of `window` length that holds `time` (windows
/// are aligned on the Unix epoch: whole hours for an hour).
fn window_start(time: SystemTime, window: Duration) -> SystemTime {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let width = window.as_secs().max(1);
    UNIX_EPOCH + Duration::from_secs(since.as_secs() / width * width)
}

/// The outcome join of the predictions made in one window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinWindow {
    /// When the window starts (RFC 3339).
    pub start: String,
    /// Predictions made in it ("Prediction created." records read).
    pub predictions: u64,
    /// Of them, with an outcome.
    pub with_outcome: u64,
    /// Of them, with none (yet).
    pub without_outcome: u64,
    /// Of those with an outcome, outcomes reported later than the given age
    /// after the prediction.
    pub late_outcomes: u64,
    /// Outcomes reported in it whose prediction is not in the logs read.
    pub orphan_outcomes: u64,
}

/// How `evaluate` cuts the join into windows, and what the profiles are
/// compared with.
#[derive(Clone, Debug)]
pub struct JoinOptions {
    /// The windows' length.
    pub window: Duration,
    /// An outcome reported later than this after its prediction is late.
    pub late_after: Duration,
    /// The profile the logs' profiles are compared with: other windows'
    /// ([`read_profiles`]); `None`, the artifact's training profile.
    pub reference: Option<ModelProfile>,
}

impl Default for JoinOptions {
    /// Hourly windows; an outcome later than 30 days is late; drift against
    /// the training profile.
    fn default() -> Self {
        JoinOptions {
            window: Duration::from_secs(3_600),
            late_after: Duration::from_secs(30 * 86_400),
            reference: None,
        }
    }
}

/// The model's profile records in `readers` (log lines or search
/// responses), merged into one: a reference for another set of windows.
/// `None` when they hold none.
pub fn read_profiles<R: BufRead>(
    readers: impl IntoIterator<Item = R>,
) -> Result<Option<ModelProfile>, String> {
    let mut merged: Option<ModelProfile> = None;
    let mut line = String::new();
    let mut add = |text: &str| -> Result<(), String> {
        let Ok(record) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
        else {
            return Ok(());
        };
        let ours =
            record.get("model_qualified_name").and_then(|v| v.as_str()) == Some(QUALIFIED_NAME);
        if !ours || record.get("message").and_then(|v| v.as_str()) != Some(PROFILE_MESSAGE) {
            return Ok(());
        }
        let profile = ModelProfile::from_record(&record).map_err(|e| e.to_string())?;
        match &mut merged {
            Some(merged) => merged.merge(&profile).map_err(|e| e.to_string()),
            None => {
                merged = Some(profile);
                Ok(())
            }
        }
    };
    for mut reader in readers {
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                break;
            }
            let text = line.trim_end();
            match search_hits(text) {
                Some(documents) => documents.iter().try_for_each(|d| add(d))?,
                None => add(text)?,
            }
        }
    }
    Ok(merged)
}

/// The join, window by window of the predictions' (or orphan outcomes')
/// time; records without a readable time fall in a window of their own at
/// the epoch.
fn join_windows(join: &Join, options: &JoinOptions) -> Vec<JoinWindow> {
    let mut windows: std::collections::BTreeMap<SystemTime, JoinWindow> = Default::default();
    enum Entry {
        Waiting,
        Joined { late: bool },
        Orphan,
    }
    let mut entries: Vec<(Option<SystemTime>, Entry)> = Vec::new();
    for (made, reported) in &join.pair_times {
        let late = match (made, reported) {
            (Some(made), Some(reported)) => reported
                .duration_since(*made)
                .is_ok_and(|delay| delay > options.late_after),
            _ => false,
        };
        entries.push((*made, Entry::Joined { late }));
    }
    for (_, made) in join.open_predictions.values() {
        entries.push((*made, Entry::Waiting));
    }
    for (_, reported) in join.open_outcomes.values() {
        entries.push((parse_time(reported), Entry::Orphan));
    }
    for (time, kind) in entries {
        let start = window_start(time.unwrap_or(UNIX_EPOCH), options.window);
        let window = windows.entry(start).or_insert_with(|| JoinWindow {
            start: humantime::format_rfc3339_seconds(start).to_string(),
            predictions: 0,
            with_outcome: 0,
            without_outcome: 0,
            late_outcomes: 0,
            orphan_outcomes: 0,
        });
        match kind {
            Entry::Waiting => {
                window.predictions += 1;
                window.without_outcome += 1;
            }
            Entry::Joined { late } => {
                window.predictions += 1;
                window.with_outcome += 1;
                window.late_outcomes += u64::from(late);
            }
            Entry::Orphan => window.orphan_outcomes += 1,
        }
    }
    windows.into_values().collect()
}

/// A prediction id as a number, for compact maps.
fn id_of(text: &str) -> Option<u128> {
    uuid::Uuid::try_parse(text).ok().map(|uuid| uuid.as_u128())
}

/// The state of a join in progress.
struct Join {
    /// Predictions waiting for an outcome: their score and when made.
    open_predictions: HashMap<u128, (f64, Option<SystemTime>)>,
    /// Outcomes waiting for a prediction: the truth and when it was reported.
    open_outcomes: HashMap<u128, (bool, String)>,
    /// Joined pairs: score and truth, in the order joined.
    pairs: Vec<(f64, bool)>,
    /// The pair of each joined id, and when its outcome was reported.
    joined: HashMap<u128, (usize, String)>,
    /// When each joined pair's prediction was made and its outcome reported.
    pair_times: Vec<(Option<SystemTime>, Option<SystemTime>)>,
    duplicates: u64,
    predictions: u64,
}

impl Join {
    fn prediction(&mut self, id: u128, score: f64, made: Option<SystemTime>) {
        self.predictions += 1;
        match self.open_outcomes.remove(&id) {
            Some((bad, reported)) => {
                self.pair_times.push((made, parse_time(&reported)));
                self.joined.insert(id, (self.pairs.len(), reported));
                self.pairs.push((score, bad));
            }
            None => {
                self.open_predictions.insert(id, (score, made));
            }
        }
    }

    /// The latest outcome of a prediction (by `@timestamp`) counts.
    fn outcome(&mut self, id: u128, bad: bool, reported: String) {
        if let Some((score, made)) = self.open_predictions.remove(&id) {
            self.pair_times.push((made, parse_time(&reported)));
            self.joined.insert(id, (self.pairs.len(), reported));
            self.pairs.push((score, bad));
        } else if let Some((index, when)) = self.joined.get_mut(&id) {
            self.duplicates += 1;
            if reported >= *when {
                if let Some(times) = self.pair_times.get_mut(*index) {
                    times.1 = parse_time(&reported);
                }
                *when = reported;
                if let Some(pair) = self.pairs.get_mut(*index) {
                    pair.1 = bad;
                }
            }
        } else if let Some((previous, when)) = self.open_outcomes.get_mut(&id) {
            self.duplicates += 1;
            if reported >= *when {
                *previous = bad;
                *when = reported;
            }
        } else {
            self.open_outcomes.insert(id, (bad, reported));
        }
    }
}

/// Decile edges of a sample, and the share of values in each bin.
struct Bins {
    edges: Vec<f64>,
}

impl Bins {
    fn deciles(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = (1..10)
            .filter_map(|decile| values.get(values.len() * decile / 10).copied())
            .collect();
        edges.dedup();
        Bins { edges }
    }

    fn bin(&self, value: f64) -> usize {
        self.edges.partition_point(|edge| *edge <= value)
    }

    fn shares(&self, counts: &[u64]) -> Vec<f64> {
        let total: u64 = counts.iter().sum();
        counts
            .iter()
            .map(|&count| count as f64 / total.max(1) as f64)
            .collect()
    }
}

/// PSI of `actual` against `expected` shares; an empty bin counts as 0.0001.
fn population_stability_index(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(1e-4), a.max(1e-4));
            (a - e) * (a / e).ln()
        })
        .sum()
}

fn reading(psi: f64) -> &'static str {
    if psi < 0.1 {
        "stable"
    } else if psi <= 0.25 {
        "moderate shift"
    } else {
        "significant shift"
    }
}

/// Evaluates the records of `readers` against the artifact's threshold and
/// the training side of `rows` (the artifact's own split).
pub fn evaluate<R: BufRead>(
    readers: impl IntoIterator<Item = R>,
    artifact: &ModelArtifact,
    rows: &[LabelledApplication],
) -> std::io::Result<Evaluation> {
    evaluate_with(readers, artifact, rows, JoinOptions::default())
}

/// [`evaluate`], with the join's windows and lateness as given.
pub fn evaluate_with<R: BufRead>(
    readers: impl IntoIterator<Item = R>,
    artifact: &ModelArtifact,
    rows: &[LabelledApplication],
    options: JoinOptions,
) -> std::io::Result<Evaluation> {
    let (train, _) = crate::training::stratified_split(
        rows,
        artifact.settings.test_fraction,
        artifact.settings.seed,
    );
    let reference = |field: &str| -> Vec<f64> {
        train
            .iter()
            .map(|&i| {
                let application = &rows[i].application;
                match field {
                    "duration_in_month" => f64::from(application.duration_in_month),
                    _ => application.credit_amount,
                }
            })
            .collect()
    };
    let bins: Vec<Bins> = DRIFT_FIELDS
        .iter()
        .map(|f| Bins::deciles(reference(f)))
        .collect();
    let mut logged_counts: Vec<Vec<u64>> =
        bins.iter().map(|b| vec![0; b.edges.len() + 1]).collect();
    let mut join = Join {
        open_predictions: HashMap::new(),
        open_outcomes: HashMap::new(),
        pairs: Vec::new(),
        joined: HashMap::new(),
        pair_times: Vec::new(),
        duplicates: 0,
        predictions: 0,
    };
    let (mut lines, mut not_json) = (0u64, 0u64);
    let mut profiles: Vec<ModelProfile> = Vec::new();
    let mut unreadable_profiles: Vec<String> = Vec::new();
    let mut line = String::new();
    // One record's text: a log line, or a document of a search response.
    let mut record = |text: &str, line: u64| -> bool {
        let Ok(view) = serde_json::from_str::<LineView<'_>>(text) else {
            return false;
        };
        if view.model_qualified_name.as_deref() != Some(QUALIFIED_NAME) {
            return true;
        }
        if view.message.as_deref() == Some(PROFILE_MESSAGE) {
            let read = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map_err(|e| e.to_string())
                .and_then(|record| ModelProfile::from_record(&record).map_err(|e| e.to_string()));
            match read {
                Ok(profile) => profiles.push(profile),
                Err(error) => unreadable_profiles.push(format!("line {line}: {error}")),
            }
            return true;
        }
        let id = view.prediction_id.as_deref().and_then(id_of);
        match (view.message.as_deref(), id) {
            (Some("Prediction requested."), _) => {
                for (index, value) in [view.duration_in_month, view.credit_amount]
                    .into_iter()
                    .enumerate()
                {
                    if let Some(value) = value {
                        logged_counts[index][bins[index].bin(value)] += 1;
                    }
                }
            }
            (Some("Prediction created."), Some(id)) => {
                if let Some(score) = view.probability_of_risky {
                    let made = view.timestamp.as_deref().and_then(parse_time);
                    join.prediction(id, score, made);
                }
            }
            (Some(logged_model::OUTCOME_MESSAGE), Some(id)) => {
                if let Some(truth) = view.creditability {
                    let reported = view.timestamp.map(Cow::into_owned).unwrap_or_default();
                    join.outcome(id, truth == Creditability::Bad, reported);
                }
            }
            _ => {}
        }
        true
    };
    for mut reader in readers {
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            lines += 1;
            let text = line.trim_end();
            // An Elasticsearch search response (what the gate's CronJob
            // fetches): its documents are the records.
            if let Some(documents) = search_hits(text) {
                for document in documents {
                    record(&document, lines);
                }
                continue;
            }
            if !record(text, lines) {
                not_json += 1;
            }
        }
    }
    let drift = DRIFT_FIELDS
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let expected_counts = {
                let mut counts = vec![0u64; bins[index].edges.len() + 1];
                for value in reference(field) {
                    counts[bins[index].bin(value)] += 1;
                }
                counts
            };
            let psi = population_stability_index(
                &bins[index].shares(&expected_counts),
                &bins[index].shares(&logged_counts[index]),
            );
            FieldDrift {
                field: (*field).to_owned(),
                values: logged_counts[index].iter().sum(),
                psi,
                reading: reading(psi).to_owned(),
            }
        })
        .collect();
    let has_both_classes =
        join.pairs.iter().any(|(_, bad)| *bad) && join.pairs.iter().any(|(_, bad)| !*bad);
    let threshold = artifact.settings.threshold;
    Ok(Evaluation {
        lines,
        lines_not_json: not_json,
        predictions: join.predictions,
        with_outcome: join.pairs.len() as u64,
        without_outcome: join.open_predictions.len() as u64,
        orphan_outcomes: join.open_outcomes.len() as u64,
        duplicate_outcomes: join.duplicates,
        duplicate_rule: "the latest outcome of a prediction (by @timestamp) counts".to_owned(),
        threshold,
        quality: has_both_classes.then(|| Metrics::evaluate(&join.pairs, threshold)),
        calibration: calibration(&join.pairs),
        drift,
        profiles: evaluate_profiles(&profiles, artifact, options.reference.as_ref())
            .map_err(std::io::Error::other)?,
        unreadable_profiles,
        join_windows: join_windows(&join, &options),
    })
}

fn calibration(pairs: &[(f64, bool)]) -> Vec<CalibrationDecile> {
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    (0..10)
        .filter_map(|decile| {
            let group = &sorted[sorted.len() * decile / 10..sorted.len() * (decile + 1) / 10];
            (!group.is_empty()).then(|| CalibrationDecile {
                decile: decile as u32 + 1,
                predictions: group.len() as u64,
                mean_predicted: group.iter().map(|(p, _)| p).sum::<f64>() / group.len() as f64,
                observed_bad_rate: group.iter().filter(|(_, bad)| *bad).count() as f64
                    / group.len() as f64,
            })
        })
        .collect()
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "lines read:           {} ({} not JSON)",
            self.lines, self.lines_not_json
        )?;
        writeln!(f, "predictions:          {}", self.predictions)?;
        writeln!(f, "  with outcome:       {}", self.with_outcome)?;
        writeln!(f, "  without outcome:    {}", self.without_outcome)?;
        writeln!(
            f,
            "orphan outcomes:      {} (no prediction in these logs)",
            self.orphan_outcomes
        )?;
        writeln!(
            f,
            "duplicate outcomes:   {} ({})",
            self.duplicate_outcomes, self.duplicate_rule
        )?;
        match &self.quality {
            Some(quality) => writeln!(f, "\n{quality}")?,
            None => writeln!(f, "\nquality: needs outcomes of both classes")?,
        }
        writeln!(f, "\ncalibration (deciles of predicted probability):")?;
        writeln!(
            f,
            "  decile  predictions  mean predicted  observed bad rate"
        )?;
        for decile in &self.calibration {
            writeln!(
                f,
                "  {:>6}  {:>11}  {:>14.4}  {:>17.4}",
                decile.decile, decile.predictions, decile.mean_predicted, decile.observed_bad_rate
            )?;
        }
        writeln!(
            f,
            "\ndrift against the training data (PSI; <0.1 stable, 0.1-0.25 moderate, >0.25 significant):"
        )?;
        for drift in &self.drift {
            writeln!(
                f,
                "  {:<20} {:>8.4}  {} ({} values)",
                drift.field, drift.psi, drift.reading, drift.values
            )?;
        }
        if !self.join_windows.is_empty() {
            writeln!(f, "\noutcome join by window of the predictions' time:")?;
            writeln!(
                f,
                "  {:<22} {:>11} {:>12} {:>15} {:>6} {:>7}",
                "window", "predictions", "with outcome", "without outcome", "late", "orphan"
            )?;
            for window in &self.join_windows {
                writeln!(
                    f,
                    "  {:<22} {:>11} {:>12} {:>15} {:>6} {:>7}",
                    window.start,
                    window.predictions,
                    window.with_outcome,
                    window.without_outcome,
                    window.late_outcomes,
                    window.orphan_outcomes
                )?;
            }
        }
        match &self.profiles {
            Some(profiles) => write!(f, "{profiles}")?,
            None => writeln!(f, "\nprofiles: none in these logs")?,
        }
        for unreadable in &self.unreadable_profiles {
            writeln!(f, "  unreadable profile record: {unreadable}")?;
        }
        Ok(())
    }
}

/// Against values computed apart from this code, by
/// `tests/fixtures/make_evaluate_fixtures.py` (scikit-learn's ROC AUC, and
/// the documented definitions of the rest written again in Python).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_join_is_counted_by_window_with_late_and_orphan_outcomes() {
        let mut join = Join {
            open_predictions: HashMap::new(),
            open_outcomes: HashMap::new(),
            pairs: Vec::new(),
            joined: HashMap::new(),
            pair_times: Vec::new(),
            duplicates: 0,
            predictions: 0,
        };
        let at = |text: &str| parse_time(text);
        // Hour 10: three predictions; one joined in time, one late, one waiting.
        join.prediction(1, 0.2, at("2026-12-07T10:05:00Z"));
        join.prediction(2, 0.7, at("2026-12-07T10:59:59.999Z"));
        join.prediction(3, 0.4, at("2026-12-07T10:30:00Z"));
        join.outcome(1, false, "2026-12-08T10:00:00Z".to_owned());
        join.outcome(2, true, "2027-02-01T00:00:00Z".to_owned());
        // Hour 11: an outcome before its prediction is read, and an orphan.
        join.outcome(4, true, "2026-12-07T11:20:00Z".to_owned());
        join.prediction(4, 0.9, at("2026-12-07T11:10:00Z"));
        join.outcome(5, false, "2026-12-07T11:45:00Z".to_owned());
        let windows = join_windows(&join, &JoinOptions::default());
        assert_eq!(
            windows,
            [
                JoinWindow {
                    start: "2026-12-07T10:00:00Z".to_owned(),
                    predictions: 3,
                    with_outcome: 2,
                    without_outcome: 1,
                    late_outcomes: 1,
                    orphan_outcomes: 0,
                },
                JoinWindow {
                    start: "2026-12-07T11:00:00Z".to_owned(),
                    predictions: 1,
                    with_outcome: 1,
                    without_outcome: 0,
                    late_outcomes: 0,
                    orphan_outcomes: 1,
                },
            ]
        );
        let daily = join_windows(
            &join,
            &JoinOptions {
                window: Duration::from_secs(86_400),
                late_after: Duration::from_secs(3_600),
                reference: None,
            },
        );
        assert_eq!(daily.len(), 1);
        assert_eq!(
            (daily[0].predictions, daily[0].late_outcomes),
            (4, 2),
            "a day late is late at an hour"
        );
    }
    use crate::metrics::ConfusionMatrix;
    use serde_json::Value;

    fn fixtures() -> Value {
        serde_json::from_str(include_str!("../tests/fixtures/evaluate_expected.json"))
            .expect("the fixture is JSON")
    }

    fn pairs(value: &Value) -> Vec<(f64, bool)> {
        serde_json::from_value(value.clone()).expect("pairs of a probability and a truth")
    }

    fn close(ours: f64, theirs: &Value, what: &str) {
        let theirs = theirs.as_f64().expect("a number");
        assert!(
            (ours - theirs).abs() < 1e-12,
            "{what}: {ours} against {theirs}"
        );
    }

    fn assert_metrics(ours: &Metrics, theirs: &Value) {
        assert_eq!(u64::from(ours.rows), theirs["rows"].as_u64().expect("rows"));
        close(ours.accuracy, &theirs["accuracy"], "accuracy");
        close(ours.precision_bad, &theirs["precision_bad"], "precision");
        close(ours.recall_bad, &theirs["recall_bad"], "recall");
        close(ours.roc_auc, &theirs["roc_auc"], "ROC AUC (scikit-learn)");
        close(ours.mean_cost, &theirs["mean_cost"], "mean cost");
        let confusion: ConfusionMatrix =
            serde_json::from_value(theirs["confusion"].clone()).expect("a confusion matrix");
        assert_eq!(ours.confusion, confusion);
    }

    fn assert_calibration(ours: &[CalibrationDecile], theirs: &Value) {
        let theirs = theirs.as_array().expect("deciles");
        assert_eq!(ours.len(), theirs.len());
        for (ours, theirs) in ours.iter().zip(theirs) {
            assert_eq!(
                u64::from(ours.decile),
                theirs["decile"].as_u64().expect("a decile")
            );
            assert_eq!(
                ours.predictions,
                theirs["predictions"].as_u64().expect("a count")
            );
            close(
                ours.mean_predicted,
                &theirs["mean_predicted"],
                "mean predicted",
            );
            close(
                ours.observed_bad_rate,
                &theirs["observed_bad_rate"],
                "observed bad rate",
            );
        }
    }

    #[test]
    fn auc_cost_and_the_confusion_matrix_match_scikit_learn_and_the_definitions() {
        let fixtures = fixtures();
        let cases = fixtures["metric_cases"].as_array().expect("cases");
        assert!(!cases.is_empty());
        for case in cases {
            let threshold = case["threshold"].as_f64().expect("a threshold");
            assert_metrics(
                &Metrics::evaluate(&pairs(&case["pairs"]), threshold),
                &case["expected"],
            );
        }
    }

    #[test]
    fn calibration_deciles_match_in_counts_means_and_observed_bad_rates() {
        let fixtures = fixtures();
        let case = &fixtures["calibration_case"];
        assert_calibration(&calibration(&pairs(&case["pairs"])), &case["expected"]);
    }

    #[test]
    fn psi_matches_for_the_same_a_shifted_and_a_sparse_population() {
        let fixtures = fixtures();
        let cases = fixtures["psi_cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 3);
        for case in cases {
            let values = |key: &str| -> Vec<f64> {
                serde_json::from_value(case[key].clone()).expect("numbers")
            };
            let bins = Bins::deciles(values("reference"));
            let counts = |sample: Vec<f64>| {
                let mut counts = vec![0u64; bins.edges.len() + 1];
                for value in sample {
                    counts[bins.bin(value)] += 1;
                }
                counts
            };
            let psi = population_stability_index(
                &bins.shares(&counts(values("reference"))),
                &bins.shares(&counts(values("actual"))),
            );
            let expected = case["expected"].as_f64().expect("a PSI");
            assert!(
                (psi - expected).abs() < 1e-9,
                "{}: {psi} against {expected}",
                case["name"]
            );
        }
        assert!(
            cases[1]["expected"].as_f64() > Some(0.25),
            "the shift is significant"
        );
    }

    fn committed() -> (ModelArtifact, Vec<crate::dataset::LabelledApplication>) {
        (
            ModelArtifact::load(std::path::Path::new(crate::DEFAULT_ARTIFACT))
                .expect("the committed artifact"),
            crate::dataset::load(std::path::Path::new(crate::DEFAULT_DATA))
                .expect("the committed data"),
        )
    }

    #[test]
    fn quality_needs_outcomes_of_both_classes() {
        let (artifact, rows) = committed();
        let id = "cc82106f-6111-4f3e-8e36-af6849d4a8e0";
        let line = |message: &str, extra: &str| {
            format!(
                "{{\"message\":\"{message}\",\"model_qualified_name\":\"credit_risk_model\",\"prediction_id\":\"{id}\",{extra}}}\n"
            )
        };
        for truth in ["good", "bad"] {
            let log = line("Prediction created.", "\"probability_of_risky\":0.4")
                + &line(
                    "Prediction outcome.",
                    &format!("\"creditability\":\"{truth}\""),
                );
            let evaluation = evaluate([std::io::BufReader::new(log.as_bytes())], &artifact, &rows)
                .expect("reads");
            assert_eq!(evaluation.with_outcome, 1);
            assert!(evaluation.quality.is_none(), "one {truth} outcome only");
            assert!(
                evaluation
                    .to_string()
                    .contains("quality: needs outcomes of both classes"),
                "{evaluation}"
            );
        }
    }

    #[test]
    fn the_report_says_what_was_read_joined_and_found() {
        let (artifact, rows) = committed();
        let log = include_str!("../tests/fixtures/evaluate_log.ndjson");
        let evaluation =
            evaluate([std::io::BufReader::new(log.as_bytes())], &artifact, &rows).expect("reads");
        let report = evaluation.to_string();
        for expected in [
            "lines read:           173 (1 not JSON)",
            "predictions:          60",
            "  with outcome:       50",
            "  without outcome:    10",
            "orphan outcomes:      1 (no prediction in these logs)",
            "duplicate outcomes:   1 (the latest outcome of a prediction (by @timestamp) counts)",
            "calibration (deciles of predicted probability):",
            "drift against the training data",
        ] {
            assert!(report.contains(expected), "{expected:?} in:\n{report}");
        }
    }

    #[test]
    fn psi_is_read_as_stable_below_a_tenth_and_significant_above_a_quarter() {
        assert_eq!(reading(0.0), "stable");
        assert_eq!(reading(0.0999), "stable");
        assert_eq!(reading(0.1), "moderate shift");
        assert_eq!(reading(0.25), "moderate shift");
        assert_eq!(reading(0.2501), "significant shift");
        assert_eq!(reading(3.0), "significant shift");
    }

    #[test]
    fn a_log_evaluates_to_what_was_computed_apart() {
        let fixtures = fixtures();
        let expected = &fixtures["log"];
        let artifact = ModelArtifact::load(std::path::Path::new(crate::DEFAULT_ARTIFACT))
            .expect("the committed artifact");
        let rows = crate::dataset::load(std::path::Path::new(crate::DEFAULT_DATA))
            .expect("the committed data");
        close(
            artifact.settings.threshold,
            &expected["threshold"],
            "threshold",
        );
        let log = include_str!("../tests/fixtures/evaluate_log.ndjson");
        let evaluation =
            evaluate([std::io::BufReader::new(log.as_bytes())], &artifact, &rows).expect("reads");
        for (ours, key) in [
            (evaluation.lines, "lines"),
            (evaluation.lines_not_json, "lines_not_json"),
            (evaluation.predictions, "predictions"),
            (evaluation.with_outcome, "with_outcome"),
            (evaluation.without_outcome, "without_outcome"),
            (evaluation.orphan_outcomes, "orphan_outcomes"),
            (evaluation.duplicate_outcomes, "duplicate_outcomes"),
        ] {
            assert_eq!(Some(ours), expected[key].as_u64(), "{key}");
        }
        assert_metrics(
            evaluation.quality.as_ref().expect("both classes"),
            &expected["quality"],
        );
        assert_calibration(&evaluation.calibration, &expected["calibration"]);
        for drift in &evaluation.drift {
            assert_eq!(drift.values, 60, "{drift:?}");
        }
    }
}

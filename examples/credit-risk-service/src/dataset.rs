//! Reads the German Credit CSV into typed, labelled applications.

use crate::application::CreditApplication;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The data set's target: `good` or `bad` credit.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Default,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Creditability {
    /// Repaid as agreed.
    #[default]
    Good,
    /// Defaulted.
    Bad,
}

/// Indexed as a keyword (it is written as `"good"` or `"bad"`).
impl logged_model::mapping::EsType for Creditability {
    const ES_TYPE: &'static str = "keyword";
}

/// One row: an application and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledApplication {
    /// The attributes.
    pub application: CreditApplication,
    /// The outcome.
    pub creditability: Creditability,
}

/// Why the data set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be opened or parsed as CSV.
    #[error("cannot read {path}: {source}")]
    Csv {
        /// The file.
        path: String,
        /// The cause.
        source: csv::Error,
    },
    /// The header lacks the target column.
    #[error("{path} has no `creditability` column")]
    NoTarget {
        /// The file.
        path: String,
    },
    /// A row does not hold a valid application.
    #[error("{path}, data row {row}: {reason}")]
    Row {
        /// The file.
        path: String,
        /// The 1-based data row.
        row: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads every row of the CSV at `path`.
pub fn load(path: &Path) -> Result<Vec<LabelledApplication>, DatasetError> {
    let name = path.display().to_string();
    let csv_error = |source| DatasetError::Csv {
        path: name.clone(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_error)?;
    let headers = reader.headers().map_err(csv_error)?.clone();
    let target = headers
        .iter()
        .position(|header| header == "creditability")
        .ok_or_else(|| DatasetError::NoTarget { path: name.clone() })?;
    let feature_headers: csv::StringRecord = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != target)
        .map(|(_, h)| h)
        .collect();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 1;
        let row_error = |reason: String| DatasetError::Row {
            path: name.clone(),
            row,
            reason,
        };
        let record = record.map_err(csv_error)?;
        let features: csv::StringRecord = record
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != target)
            .map(|(_, v)| v)
            .collect();
        let application: CreditApplication = features
            .deserialize(Some(&feature_headers))
            .map_err(|e| row_error(e.to_string()))?;
        application
            .validate()
            .map_err(|e| row_error(e.to_string()))?;
        let creditability = match record.get(target) {
            Some("good") => Creditability::Good,
            Some("bad") => Creditability::Bad,
            other => {
                return Err(row_error(format!(
                    "creditability must be good or bad, not {other:?}"
                )));
            }
        };
        rows.push(LabelledApplication {
            application,
            creditability,
        });
    }
    Ok(rows)
}

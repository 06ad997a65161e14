//! The credit-risk example service: a logistic regression trained with linfa
//! on the German Credit data set, served over HTTP by axum, every prediction
//! logged by logged-model.

pub mod application;
pub mod artifact;
pub mod calibration;
mod categorical;
pub mod cli;
pub mod constraints;
pub mod dataset;
pub mod encoding;
pub mod evaluate;
pub mod examples;
pub mod http;
pub mod index_template;
pub mod kibana;
pub mod metrics;
pub mod model;
pub mod profiles;
pub mod scoring;
pub mod server;
pub mod training;

/// The version written into artifacts this code trains.
pub const MODEL_VERSION: &str = "0.1.0";

/// The committed data set.
pub const DEFAULT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/german_credit.csv");

/// The committed artifact.
pub const DEFAULT_ARTIFACT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/model/credit_risk_model.json");

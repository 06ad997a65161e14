//! The command line: `serve` (the default), `train`, `evaluate`,
//! `index-template` and `kibana-objects`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The credit-risk service.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The options of `serve`, when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the model over HTTP (the default).
    Serve(ServeArgs),
    /// Train the model on the data set and write the artifact.
    Train(TrainArgs),
    /// Print the ConfigMap that installs the index of the service's records
    /// (deploy/logging/index-template.yaml): a data stream, its templates
    /// with the types of every field, and its retention.
    IndexTemplate,
    /// Print the Kibana saved objects (deploy/kibana/credit-risk.ndjson): a
    /// data view, saved searches and the service's dashboard.
    KibanaObjects,
    /// Recompute the model's quality from its logs: join predictions to
    /// their reported outcomes, then ROC AUC, confusion matrix, mean cost,
    /// calibration and input drift.
    Evaluate(EvaluateArgs),
}

/// Options of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// JSON-lines log files (several pods' logs, in any order).
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// Print the evaluation as JSON.
    #[arg(long)]
    pub json: bool,
    /// The model artifact (its threshold and training split).
    #[arg(long, env = "MODEL_PATH", default_value = crate::DEFAULT_ARTIFACT)]
    pub model: PathBuf,
    /// The German Credit CSV (the training data, for drift).
    #[arg(long, default_value = crate::DEFAULT_DATA)]
    pub data: PathBuf,
    /// A JSON file of limits on drift and cost (see `constraints`): each
    /// limit exceeded is written to standard output as a JSON record, the
    /// report goes to standard error, and the command exits with 3.
    #[arg(long)]
    pub constraints: Option<PathBuf>,
    /// Log files whose profile records are the reference the drift is
    /// measured against (other windows, other pods), in place of the
    /// training profile the artifact carries. Repeatable.
    #[arg(long = "reference", value_name = "LOG")]
    pub reference: Vec<PathBuf>,
    /// The length of the windows the outcome join is counted in (`1h`,
    /// `1d`, ...).
    #[arg(long, default_value = "1h", value_parser = duration)]
    pub window: std::time::Duration,
    /// An outcome reported later than this after its prediction is counted
    /// late.
    #[arg(long, default_value = "30d", value_parser = duration)]
    pub late_after: std::time::Duration,
}

/// A duration such as `90s`, `1h` or `30d`, at least a second.
fn duration(value: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(value) {
        Ok(duration) if duration >= std::time::Duration::from_secs(1) => Ok(duration),
        Ok(_) => Err("at least a second".to_owned()),
        Err(error) => Err(format!("{error} (for example 90s, 1h, 30d)")),
    }
}

/// Options of `serve`. Logging is configured by `LOG_LEVEL`, `LOG_ENV_VARS`,
/// `LOG_OVERFLOW`, `LOG_CHANNEL_SIZE` and `LOG_DRAIN`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "HTTP_HOST", default_value = "0.0.0.0")]
    pub host: String,
    /// The port to listen on.
    #[arg(long, env = "HTTP_PORT", default_value_t = 8000)]
    pub port: u16,
    /// The model artifact to serve.
    #[arg(long, env = "MODEL_PATH", default_value = crate::DEFAULT_ARTIFACT)]
    pub model: PathBuf,
    /// Seconds a request may take before it is answered with 503.
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", default_value_t = 10)]
    pub request_timeout: u64,
    /// Whether predictions are logged (`on`, `off`): off serves the bare
    /// model, to measure what the logging costs.
    #[arg(long, env = "PREDICTION_LOGGING", default_value = "on", value_parser = on_off)]
    pub prediction_logging: bool,
    /// Whether every request writes an access-log record (`on`, `off`).
    #[arg(long, env = "ACCESS_LOGGING", default_value = "on", value_parser = on_off)]
    pub access_logging: bool,
    /// Seconds shutdown waits for open requests before it gives up on them.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 20)]
    pub shutdown_timeout: u64,
}

/// Options of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The German Credit CSV.
    #[arg(long, default_value = crate::DEFAULT_DATA)]
    pub data: PathBuf,
    /// Where to write the artifact.
    #[arg(long, default_value = crate::DEFAULT_ARTIFACT)]
    pub out: PathBuf,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

fn on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("expected on or off, not {other:?}")),
    }
}

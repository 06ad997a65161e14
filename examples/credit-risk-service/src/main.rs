//! The credit-risk service's executable: `serve` (the default), `train`,
//! `evaluate`, `index-template` or `kibana-objects`.

use clap::Parser;
use credit_risk_service::artifact::ModelArtifact;
use credit_risk_service::cli::{Cli, Command, EvaluateArgs, ServeArgs, TrainArgs};
use credit_risk_service::http::state::{AppState, ServedModel};
use credit_risk_service::model::CreditRiskModel;
use credit_risk_service::{MODEL_VERSION, dataset, server, training};
use logged_model::{
    HashKey, LogOutput, Logged, LoggerBuilder, Model, ModelSettings, OutcomeLogger, keys,
};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Train(args)) => train(&args),
        Some(Command::Evaluate(args)) => evaluate(&args),
        Some(Command::IndexTemplate) => {
            match credit_risk_service::index_template::config_map_yaml() {
                Ok(yaml) => {
                    print!("{yaml}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: the index template: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::KibanaObjects) => {
            print!("{}", credit_risk_service::kibana::ndjson());
            ExitCode::SUCCESS
        }
        Some(Command::Serve(args)) => serve(&args),
        None => serve(&cli.serve),
    }
}

/// Installs `subscriber` for the whole process.
fn install_tracing_subscriber(
    subscriber: impl tracing_subscriber::util::SubscriberInitExt,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    subscriber.try_init()
}

fn evaluate(args: &EvaluateArgs) -> ExitCode {
    let run = || -> Result<(String, Vec<String>), String> {
        let constraints = args
            .constraints
            .as_deref()
            .map(credit_risk_service::constraints::load)
            .transpose()?;
        let artifact = ModelArtifact::load(&args.model).map_err(|e| e.to_string())?;
        let rows = dataset::load(&args.data).map_err(|e| e.to_string())?;
        let readers = args
            .logs
            .iter()
            .map(|path| {
                std::fs::File::open(path)
                    .map(|file| std::io::BufReader::with_capacity(1 << 20, file))
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let reference = if args.reference.is_empty() {
            None
        } else {
            let readers = args
                .reference
                .iter()
                .map(|path| {
                    std::fs::File::open(path)
                        .map(std::io::BufReader::new)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let profile = credit_risk_service::evaluate::read_profiles(readers)?;
            Some(profile.ok_or("the --reference logs hold no profile record of the model")?)
        };
        let options = credit_risk_service::evaluate::JoinOptions {
            window: args.window,
            late_after: args.late_after,
            reference,
        };
        let evaluation =
            credit_risk_service::evaluate::evaluate_with(readers, &artifact, &rows, options)
                .map_err(|e| format!("cannot read the logs: {e}"))?;
        for unreadable in &evaluation.unreadable_profiles {
            eprintln!("evaluate: a profile record was not read: {unreadable}");
        }
        let report = if args.json {
            serde_json::to_string_pretty(&evaluation).map_err(|e| e.to_string())?
        } else {
            evaluation.to_string()
        };
        let violations = match &constraints {
            Some(constraints) => credit_risk_service::constraints::check(constraints, &evaluation)
                .iter()
                .map(|v| serde_json::to_string(v).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok((report, violations))
    };
    match run() {
        Ok((report, violations)) if args.constraints.is_some() => {
            // The violations alone on standard output, for a pipeline.
            eprintln!("{report}");
            for violation in &violations {
                println!("{violation}");
            }
            if violations.is_empty() {
                eprintln!("evaluate: every constraint holds");
                ExitCode::SUCCESS
            } else {
                eprintln!("evaluate: {} constraints violated", violations.len());
                ExitCode::from(credit_risk_service::constraints::VIOLATED)
            }
        }
        Ok((report, _)) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("evaluate failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn train(args: &TrainArgs) -> ExitCode {
    let result = dataset::load(&args.data)
        .map_err(|e| e.to_string())
        .and_then(|rows| {
            let settings = credit_risk_service::artifact::TrainingSettings {
                seed: args.seed,
                ..training::default_settings()
            };
            training::train(&rows, settings, MODEL_VERSION).map_err(|e| e.to_string())
        })
        .and_then(|artifact| {
            artifact
                .save(&args.out)
                .map(|()| artifact)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(artifact) => {
            println!("{}", artifact.metrics);
            println!("wrote {}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("training failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    // Before the logger exists, a failure is still written as a JSON line.
    let (logger, guard) = match LoggerBuilder::from_env().and_then(LoggerBuilder::build) {
        Ok(built) => built,
        Err(error) => {
            let record: serde_json::Map<String, serde_json::Value> = [
                (keys::LEVEL, "CRITICAL".to_owned()),
                (
                    keys::MESSAGE,
                    "Service failed to start: invalid logging configuration.".to_owned(),
                ),
                (keys::ERROR_INFO, error.to_string()),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.into()))
            .collect();
            println!("{}", serde_json::Value::Object(record));
            return ExitCode::from(2);
        }
    };
    // Events of the crates that use `tracing` (axum, hyper, tower) go
    // through the same drain: everything printed is one JSON object a line.
    let layer = logged_model::tracing_layer::LoggedModelLayer::new(logger.clone());
    let subscriber =
        tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer);
    if install_tracing_subscriber(subscriber).is_err() {
        slog::warn!(
            logger,
            "Another tracing subscriber is installed: tracing events are not in this log."
        );
    }
    let output = guard.output();
    let result = run(args, &logger, &output);
    // A stalled output would hold a last record (and this thread) for
    // ever: then it is left out, and counted below with the rest.
    let stalled = output.is_stalled();
    let code = match result {
        Ok(()) => {
            if !stalled {
                slog::info!(logger, "Service stopped.");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            if !stalled {
                slog::crit!(logger, "Service failed."; keys::ERROR_INFO => error.clone());
            }
            eprintln!("credit-risk-service failed: {error}");
            ExitCode::FAILURE
        }
    };
    drop(logger);
    // Writes every queued record before the process exits, for as long as
    // the shutdown timeout allows: a stalled output cannot hold the process
    // past it (what could not be written is reported on stderr).
    guard.finish_within(Duration::from_secs(args.shutdown_timeout));
    code
}

/// The model's settings, read from the environment with the logger's
/// configuration. Without `LOG_HASH_KEY`, this service (not the framework)
/// chooses a random key for this process, so that it runs with no set-up,
/// and says so: hashes then group records of this process only.
fn model_settings(logger: &logged_model::Logger) -> Result<ModelSettings, String> {
    let settings = logger.model_settings().map_err(|e| e.to_string())?;
    if settings.has_hash_key() {
        return Ok(settings);
    }
    slog::warn!(
        logger,
        "LOG_HASH_KEY is not set: hashed fields use a random key made for this process, so their hashes match only within it. Set LOG_HASH_KEY (16 bytes or more) to join records across pods and restarts."
    );
    Ok(settings.hash_key(HashKey::random()))
}

fn run(args: &ServeArgs, logger: &logged_model::Logger, output: &LogOutput) -> Result<(), String> {
    let artifact = ModelArtifact::load(&args.model).map_err(|e| e.to_string())?;
    slog::info!(logger, "Model loaded.";
        "roc_auc" => artifact.metrics.roc_auc,
        keys::MODEL_VERSION => artifact.model_version.clone(),
        "model_path" => args.model.display().to_string());
    let roc_auc = artifact.metrics.roc_auc;
    let model = CreditRiskModel::new(artifact);
    let settings = model_settings(logger)?;
    let outcomes =
        OutcomeLogger::with_settings(logger, model.qualified_name(), model.version(), &settings)
            .map_err(|e| e.to_string())?;
    let model = if args.prediction_logging {
        ServedModel::Logged(std::sync::Arc::new(
            Logged::with_settings(model, logger, &settings).map_err(|e| e.to_string())?,
        ))
    } else {
        slog::warn!(logger, "Prediction logging is off.");
        ServedModel::Bare(Box::new(model))
    };
    let state = AppState::new(
        model,
        outcomes,
        roc_auc,
        logger.slog().clone(),
        Duration::from_secs(args.request_timeout),
    )
    .with_access_log(args.access_logging)
    .with_log_output(output.clone())
    .shared();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let address = format!("{}:{}", args.host, args.port);
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        slog::info!(logger, "Service started.";
            "server.port" => local.port(), "server.address" => local.ip().to_string());
        server::serve(
            listener,
            state,
            server::shutdown_signal(),
            Duration::from_secs(args.shutdown_timeout),
        )
        .await
        .map_err(|e| format!("the server failed: {e}"))
    })
}

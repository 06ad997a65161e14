//! The logger is one value for the whole pipeline: what a model wrapped
//! with it, its outcome logger and a child of it get from it, and the
//! models' settings read once, with the rest of the configuration.

use logged_model::{
    ConfigError, Logged, LoggerBuilder, Model, ModelSettings, OutputState, WrapError,
};
use logged_model_test_support::models::{Application, CreditModel};
use logged_model_test_support::{Captured, on_both_drains};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A builder reading `pairs` as its environment.
fn from_env(pairs: &[(&'static str, &'static str)]) -> LoggerBuilder {
    let pairs = pairs.to_vec();
    LoggerBuilder::from_env_with(move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("a valid configuration")
    .capture_log_crate(false)
}

on_both_drains! {
    #[test]
    fn a_model_wrapped_with_the_logger_takes_its_sample_rate() {
        let captured = Captured::with(from_env(&[("LOG_SAMPLE_RATE", "0")]).drain(DRAIN));
        let model = Logged::new(CreditModel, &captured.logger).expect("wraps");
        model.predict(&Application::typical()).expect("predicts");
        assert_eq!(model.stats().sampled_out, 1);
        drop(model);
        assert!(captured.finish().is_empty(), "sampled out: no record");
    }

    #[test]
    fn model_settings_given_to_the_builder_are_every_wrapped_models() {
        let builder = LoggerBuilder::new()
            .drain(DRAIN)
            .model_settings(ModelSettings::new().sample_rate(0.0).expect("a valid rate"));
        let captured = Captured::with(builder);
        let model = Logged::new(CreditModel, &captured.logger).expect("wraps");
        model.predict(&Application::typical()).expect("predicts");
        assert_eq!(model.stats().sampled_out, 1);
        drop(model);
        assert!(captured.finish().is_empty());
    }

    #[test]
    fn a_child_logger_keeps_the_pipeline_and_adds_its_values() {
        let captured = Captured::on(DRAIN);
        let child = captured.logger.new(slog::o!("tenant" => "north"));
        assert_eq!(child.output().state(), OutputState::Taking);
        let model = Logged::new(CreditModel, &child).expect("wraps");
        model.predict(&Application::typical()).expect("predicts");
        slog::info!(child, "A record of the service's own.");
        drop((model, child));
        let records = captured.finish();
        assert_eq!(records.len(), 3, "{records:?}");
        for record in &records {
            assert_eq!(record["tenant"], "north", "{record:?}");
        }
        assert_eq!(records[0]["message"], logged_model::REQUESTED_MESSAGE);
        assert_eq!(records[2]["message"], "A record of the service's own.");
    }

    #[test]
    fn the_loggers_output_is_the_guards() {
        let captured = Captured::on(DRAIN);
        slog::info!(captured.logger, "One.");
        let from_logger = captured.logger.output();
        drop(captured.logger);
        drop(captured.guard);
        assert_eq!(from_logger.stats().written, 1);
        assert_eq!(captured.output.records().expect("JSON lines").len(), 1);
    }
}

#[test]
fn an_invalid_rate_in_the_environment_is_reported_when_a_model_is_wrapped_naming_it() {
    let captured = Captured::with(from_env(&[("LOG_SAMPLE_RATE", "2")]));
    slog::info!(captured.logger, "The logger itself works.");
    match Logged::new(CreditModel, &captured.logger) {
        Err(WrapError::Settings { model, error }) => {
            assert_eq!(model, "credit_risk_model");
            assert!(
                matches!(
                    error,
                    ConfigError::InvalidValue {
                        variable: "LOG_SAMPLE_RATE",
                        ..
                    }
                ),
                "{error:?}"
            );
        }
        Ok(_) => panic!("a rate of 2 was accepted"),
        Err(other) => panic!("another error: {other}"),
    }
    assert_eq!(captured.finish().len(), 1);
}

#[test]
fn the_models_settings_are_read_once_when_the_logger_is_built() {
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&reads);
    let builder = LoggerBuilder::from_env_with(move |name| {
        if name == "LOG_SAMPLE_RATE" {
            counted.fetch_add(1, Ordering::SeqCst);
            return Some("1".to_owned());
        }
        None
    })
    .expect("valid")
    .capture_log_crate(false);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        0,
        "read when the logger is built"
    );
    let captured = Captured::with(builder);
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    for _ in 0..3 {
        let model = Logged::new(CreditModel, &captured.logger).expect("wraps");
        model.predict(&Application::typical()).expect("predicts");
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1, "not again by each model");
    assert_eq!(captured.finish().len(), 6);
}

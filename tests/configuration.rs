//! Configuration from environment variables: defaults, valid values, and a
//! clear error for every invalid one.

use logged_model::{ConfigError, DrainKind, LoggerBuilder};
use logged_model_test_support::Captured;
use std::collections::HashMap;

fn from_env(pairs: &[(&'static str, &'static str)]) -> Result<LoggerBuilder, ConfigError> {
    let env: HashMap<&str, &str> = pairs.iter().copied().collect();
    LoggerBuilder::from_env_with(move |name| env.get(name).map(|value| value.to_string()))
        .map(|builder| builder.capture_log_crate(false))
}

fn error_of(pairs: &[(&'static str, &'static str)]) -> String {
    match from_env(pairs).and_then(|builder| builder.build_with_writer(std::io::sink())) {
        Ok(_) => panic!("{pairs:?} was accepted"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn an_empty_environment_gives_the_defaults() {
    let captured = Captured::with(from_env(&[]).expect("valid"));
    slog::debug!(captured.logger, "Hidden at the default level.");
    slog::info!(captured.logger, "Shown.");
    let records = captured.finish();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["message"], "Shown.");
}

#[test]
fn log_level_sets_the_threshold() {
    let captured = Captured::with(from_env(&[("LOG_LEVEL", "debug")]).expect("valid"));
    slog::trace!(captured.logger, "Hidden.");
    slog::debug!(captured.logger, "Shown.");
    let records = captured.finish();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["log.level"], "DEBUG");
}

#[test]
fn an_invalid_level_names_the_variable_and_the_valid_values() {
    assert_eq!(
        error_of(&[("LOG_LEVEL", "verbose")]),
        "LOG_LEVEL=\"verbose\" is not valid; expected one of trace, debug, info, warning, error, critical"
    );
}

#[test]
fn an_invalid_overflow_policy_names_the_variable_and_the_valid_values() {
    assert_eq!(
        error_of(&[("LOG_OVERFLOW", "lossy")]),
        "LOG_OVERFLOW=\"lossy\" is not valid; expected block or drop"
    );
}

#[test]
fn an_invalid_channel_size_names_the_variable_and_the_range() {
    for value in ["0", "many", "-1", "2000000"] {
        let expected = format!(
            "LOG_CHANNEL_SIZE={value:?} is not valid; expected a whole number from 1 to 1048576"
        );
        let leaked: &'static str = Box::leak(value.to_owned().into_boxed_str());
        assert_eq!(error_of(&[("LOG_CHANNEL_SIZE", leaked)]), expected);
    }
}

#[test]
fn a_channel_size_of_zero_in_code_is_an_error_too() {
    let result = LoggerBuilder::new()
        .channel_size(0)
        .build_with_writer(std::io::sink());
    assert!(matches!(
        result,
        Err(ConfigError::InvalidValue {
            variable: "channel_size",
            ..
        })
    ));
}

#[test]
fn an_env_var_named_like_a_framework_key_is_an_error_at_build() {
    assert_eq!(
        error_of(&[("LOG_ENV_VARS", "POD_NAME,STATUS")]),
        "LOG_ENV_VARS: environment variable STATUS would be logged as `status`, a key logged-model writes itself; leave it out"
    );
}

#[test]
fn two_env_vars_with_the_same_key_are_an_error_at_build() {
    assert_eq!(
        error_of(&[("LOG_ENV_VARS", "POD_NAME,pod_name")]),
        "LOG_ENV_VARS: environment variables POD_NAME and pod_name would both be logged as `pod_name`; keep one"
    );
}

#[test]
fn a_malformed_env_var_name_is_an_error_at_build() {
    assert_eq!(
        error_of(&[("LOG_ENV_VARS", "POD NAME")]),
        "LOG_ENV_VARS: \"POD NAME\" is not a variable name; use letters, digits and `_`, e.g. POD_NAME"
    );
    assert_eq!(
        error_of(&[("LOG_ENV_VARS", "BAD-NAME,X")]),
        "LOG_ENV_VARS: \"BAD-NAME\" is not a variable name; use letters, digits and `_`, e.g. POD_NAME"
    );
}

#[test]
fn env_fields_given_in_code_are_checked_the_same_way() {
    let result = LoggerBuilder::new()
        .env_vars(["MESSAGE"])
        .build_with_writer(std::io::sink());
    assert!(matches!(
        result,
        Err(ConfigError::ReservedEnvKey {
            variable: "env_vars",
            ..
        })
    ));
}

#[test]
fn log_drain_selects_the_drain() {
    for (value, expected) in [
        ("line", DrainKind::Line),
        ("slog-async", DrainKind::SlogAsync),
        (" SLOG-ASYNC ", DrainKind::SlogAsync),
    ] {
        let captured = Captured::with(from_env(&[("LOG_DRAIN", value)]).expect("valid"));
        assert_eq!(captured.guard.drain(), expected, "LOG_DRAIN={value:?}");
        slog::info!(captured.logger, "Written."; "answer" => 42);
        assert_eq!(captured.finish()[0]["answer"], 42);
    }
    let captured = Captured::with(from_env(&[]).expect("valid"));
    assert_eq!(captured.guard.drain(), DrainKind::Line, "the default");
}

#[test]
fn an_invalid_drain_names_the_variable_and_the_valid_values() {
    assert_eq!(
        error_of(&[("LOG_DRAIN", "fast")]),
        "LOG_DRAIN=\"fast\" is not valid; expected line or slog-async"
    );
}

#[test]
fn invalid_size_caps_name_their_variable_and_the_range() {
    assert_eq!(
        error_of(&[("LOG_FIELD_MAX_BYTES", "10")]),
        "LOG_FIELD_MAX_BYTES=\"10\" is not valid; expected a whole number of bytes, 64 or more"
    );
    assert_eq!(
        error_of(&[("LOG_RECORD_MAX_BYTES", "big")]),
        "LOG_RECORD_MAX_BYTES=\"big\" is not valid; expected a whole number of bytes, 1024 or more"
    );
    let in_code = LoggerBuilder::new()
        .record_max_bytes(100)
        .build_with_writer(std::io::sink());
    assert!(matches!(
        in_code,
        Err(ConfigError::InvalidValue {
            variable: "record_max_bytes",
            ..
        })
    ));
}

#[test]
fn size_caps_from_the_environment_apply_to_every_line() {
    let captured = Captured::with(
        from_env(&[
            ("LOG_FIELD_MAX_BYTES", "64"),
            ("LOG_RECORD_MAX_BYTES", "1024"),
        ])
        .expect("valid"),
    );
    slog::info!(captured.logger, "Long."; "text" => "x".repeat(100));
    let records = captured.finish();
    assert_eq!(
        records[0]["text"],
        format!("{}…[truncated]", "x".repeat(64))
    );
    assert_eq!(records[0]["truncated_fields"], serde_json::json!(["text"]));
}

//! Records of crates that log through the `log` facade go through the same
//! drain. One test in its own binary: the `log` crate takes one logger per
//! process.

use logged_model::{CapturedOutput, ConfigError, LoggerBuilder};

#[test]
fn log_crate_records_become_json_lines_and_a_second_capture_is_refused() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .capture_log_crate(true)
        .env_vars(["LOGGED_MODEL_TEST_UNSET_VARIABLE"])
        .build_with_writer(output.clone())
        .expect("the first capture succeeds");
    log::info!(target: "some_dependency", "Connected to {}.", "the database");
    log::debug!("Below the level: not written.");
    log::warn!("Retrying.");
    let phone = logged_model::Sensitive::new("+49 228 555 0199".to_owned());
    log::info!("Contact updated: {phone}, {phone:?}.");

    let second = LoggerBuilder::new()
        .capture_log_crate(true)
        .build_with_writer(std::io::sink());
    assert!(matches!(second, Err(ConfigError::LogCrateTaken)));

    drop(logger);
    drop(guard);
    let text = output.text();
    let records = output.records().expect("JSON lines");
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["message"], "Connected to the database.");
    assert_eq!(records[0]["log.level"], "INFO");
    assert_eq!(records[0]["log.logger"], "some_dependency");
    assert_eq!(records[0]["log.origin.file.name"], "tests/log_crate.rs");
    assert_eq!(records[0]["logged_model_test_unset_variable"], "N/A");
    assert_eq!(records[1]["log.level"], "WARN");
    assert_eq!(records[1]["log.logger"], "log_crate");
    assert_eq!(
        records[2]["message"],
        "Contact updated: [REDACTED], Sensitive([REDACTED])."
    );
    assert!(
        !text.contains("228 555"),
        "a sensitive value leaked: {text}"
    );
}

//! The two drains write the same lines: same keys, same order, same values
//! and JSON types, same escaping. Only the time stamps differ.

use logged_model::{DrainKind, LoggerBuilder};
use logged_model_test_support::Captured;
use serde::Serialize;

#[derive(Clone, Serialize)]
struct Nested {
    income: Option<f64>,
    tags: Vec<&'static str>,
}

fn lines_on(drain: DrainKind) -> Vec<String> {
    let captured = Captured::with(
        LoggerBuilder::new()
            .drain(drain)
            .level(slog::Level::Trace)
            .env_vars(["LOGGED_MODEL_UNSET"]),
    );
    let logger = captured
        .logger
        .new(slog::o!("component" => "equivalence", "ratio" => 2.5e-7));
    let nested = Nested {
        income: None,
        tags: vec!["a", "b\"c"],
    };
    slog::info!(logger, "Plain message.");
    slog::warn!(logger, "Formatted {} and {:?}.", "text\nwith newline", 'q';
        "u" => 7u8, "i" => -12i64, "f" => 0.1f64, "big" => u64::MAX, "nan" => f64::NAN,
        "b" => true, "c" => 'é', "s" => "tab\tand \u{1} control", "unit" => (), "none" => Option::<u8>::None,
        "nested" => slog::Serde(nested.clone()));
    slog::crit!(logger, "Critical.");
    let output = captured.output.clone();
    drop(logger);
    captured.finish();
    output
        .lines()
        .into_iter()
        .map(|line| {
            // `{"@timestamp":"2026-11-28T16:22:43.261113Z",` is 44 bytes.
            assert!(line.starts_with("{\"@timestamp\":\""), "{line}");
            line[44..].to_owned()
        })
        .collect()
}

#[test]
fn both_drains_write_identical_lines_but_for_the_time() {
    let line = lines_on(DrainKind::Line);
    let slog_async = lines_on(DrainKind::SlogAsync);
    assert_eq!(line.len(), 3);
    for (ours, theirs) in line.iter().zip(&slog_async) {
        assert_eq!(ours, theirs);
    }
}

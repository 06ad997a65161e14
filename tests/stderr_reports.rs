//! What cannot be reported in the log is said on standard error: a record
//! logged after the guard was dropped, and records lost to an output that
//! never recovered. Each case runs in a child process (this test binary,
//! started again with one test and a marker variable) whose stderr is read.

use logged_model::{DrainKind, LoggerBuilder};
use std::io::{self, Write};
use std::process::Command;

const CHILD: &str = "LOGGED_MODEL_STDERR_CHILD";

/// Runs `test` of this binary in a child process and returns its stderr.
fn stderr_of_child(test: &str, drain: &str) -> String {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, drain)
        .output()
        .expect("the child runs");
    assert!(output.status.success(), "the child failed: {output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The drain the child is asked to use, or `None` in the parent.
fn child_drain() -> Option<DrainKind> {
    match std::env::var(CHILD).ok()?.as_str() {
        "slog-async" => Some(DrainKind::SlogAsync),
        _ => Some(DrainKind::Line),
    }
}

/// An output that always fails.
struct BrokenOutput;

impl Write for BrokenOutput {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("the disk is gone"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn records_logged_after_the_guard_is_dropped_are_reported_once_on_stderr() {
    if let Some(drain) = child_drain() {
        let (logger, guard) = LoggerBuilder::new()
            .drain(drain)
            .build_with_writer(io::sink())
            .expect("valid configuration");
        drop(guard);
        slog::info!(logger, "Too late.");
        slog::info!(logger, "Too late again.");
        return;
    }
    for drain in ["line", "slog-async"] {
        let stderr = stderr_of_child(
            "records_logged_after_the_guard_is_dropped_are_reported_once_on_stderr",
            drain,
        );
        let reports = stderr
            .matches("a record was logged after its LogGuard was dropped")
            .count();
        assert_eq!(reports, 1, "{drain}: {stderr}");
    }
}

#[test]
fn records_an_output_never_took_are_counted_on_stderr_at_shutdown() {
    if let Some(drain) = child_drain() {
        let (logger, guard) = LoggerBuilder::new()
            .drain(drain)
            .build_with_writer(BrokenOutput)
            .expect("valid configuration");
        for sequence in 0..7 {
            slog::info!(logger, "Lost."; "sequence" => sequence);
        }
        drop(logger);
        assert_eq!(guard.finish().failed_writes, 7);
        return;
    }
    for drain in ["line", "slog-async"] {
        let stderr = stderr_of_child(
            "records_an_output_never_took_are_counted_on_stderr_at_shutdown",
            drain,
        );
        assert!(
            stderr.contains(
                "logged-model: 7 log records lost and not reported in the log: \
                 Log records lost: the log output failed to write them."
            ),
            "{drain}: {stderr}"
        );
    }
}

//! A failing output never reaches the caller: predictions go on, nothing
//! panics, and the lost records are counted and reported once the output
//! works again.

use logged_model::{Logged, LoggerBuilder, Model};
use logged_model_test_support::models::{Application, CreditModel};
use logged_model_test_support::on_both_drains;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// Waits for `condition`, failing the test after ten seconds.
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "no {what} within ten seconds"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

on_both_drains! {
    const FAILED_REPORT: &str = "Log records lost: the log output failed to write them.";

    /// An output that fails while `failing` is set, writing `partial` bytes of
    /// the line before it fails.
    #[derive(Clone, Default)]
    struct FlakyOutput {
        bytes: Arc<Mutex<Vec<u8>>>,
        failing: Arc<Mutex<bool>>,
        partial: usize,
        wrote_partial: Arc<Mutex<bool>>,
    }

    impl FlakyOutput {
        fn set_failing(&self, failing: bool) {
            *self.failing.lock().expect("not poisoned") = failing;
            *self.wrote_partial.lock().expect("not poisoned") = false;
        }

        fn text(&self) -> String {
            String::from_utf8(self.bytes.lock().expect("not poisoned").clone()).expect("UTF-8")
        }
    }

    impl Write for FlakyOutput {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if *self.failing.lock().expect("not poisoned") {
                let mut wrote_partial = self.wrote_partial.lock().expect("not poisoned");
                if self.partial > 0 && !*wrote_partial && bytes.len() > self.partial {
                    *wrote_partial = true;
                    self.bytes
                        .lock()
                        .expect("not poisoned")
                        .extend_from_slice(&bytes[..self.partial]);
                    return Ok(self.partial);
                }
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "no space left on device",
                ));
            }
            self.bytes
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn log_ticks(logger: &slog::Logger, range: std::ops::Range<u64>) {
        for sequence in range {
            slog::info!(logger, "Tick."; "sequence" => sequence);
        }
    }

    /// Waits until the writer thread has taken every queued record, by logging
    /// through a second logger into the same drain and watching the output.
    fn settle(logger: &slog::Logger, output: &FlakyOutput, marker: &str) {
        slog::info!(logger, "Marker."; "marker" => marker.to_owned());
        for _ in 0..1000 {
            if output.text().contains(marker) || *output.failing.lock().expect("not poisoned") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[test]
    fn records_lost_while_the_output_fails_are_counted_and_reported_when_it_recovers() {
        let output = FlakyOutput::default();
        let (logger, guard) = LoggerBuilder::new().drain(DRAIN)
            .build_with_writer(output.clone())
            .expect("valid");
        log_ticks(&logger, 0..10);
        settle(&logger, &output, "before");
        output.set_failing(true);
        log_ticks(&logger, 10..25);
        // Let the writer try (and fail) all fifteen before the output recovers.
        wait_until("fifteen failed writes", || guard.stats().failed_writes >= 15);
        output.set_failing(false);
        log_ticks(&logger, 25..30);
        drop(logger);
        let stats = guard.finish();

        assert_eq!(stats.failed_writes, 15);
        let records: Vec<serde_json::Value> = output
            .text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("JSON"))
            .collect();
        let sequences: Vec<u64> = records
            .iter()
            .filter_map(|r| r["sequence"].as_u64())
            .collect();
        assert_eq!(sequences, (0..10).chain(25..30).collect::<Vec<_>>());
        let reports: Vec<&serde_json::Value> = records
            .iter()
            .filter(|r| r["message"] == FAILED_REPORT)
            .collect();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0]["failed_writes"], 15);
        assert_eq!(reports[0]["log.level"], "WARN");
    }

    #[test]
    fn a_line_cut_short_by_a_failure_is_ended_before_the_next_one() {
        let output = FlakyOutput {
            partial: 20,
            ..FlakyOutput::default()
        };
        let (logger, guard) = LoggerBuilder::new().drain(DRAIN)
            .build_with_writer(output.clone())
            .expect("valid");
        output.set_failing(true);
        log_ticks(&logger, 0..1);
        wait_until("one failed write", || guard.stats().failed_writes >= 1);
        output.set_failing(false);
        log_ticks(&logger, 1..3);
        drop(logger);
        assert_eq!(guard.finish().failed_writes, 1);

        let text = output.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].len(),
            20,
            "the fragment stands on a line of its own"
        );
        assert!(serde_json::from_str::<serde_json::Value>(lines[0]).is_err());
        for line in &lines[1..] {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "{line}"
            );
        }
        assert_eq!(lines.len(), 4, "fragment, two ticks, one report");
    }

    #[test]
    fn predictions_go_on_when_the_output_is_a_broken_pipe() {
        let (reader, writer) = io::pipe().expect("a pipe");
        drop(reader);
        let (logger, guard) = LoggerBuilder::new().drain(DRAIN).profile_interval(None)
            .build_with_writer(writer)
            .expect("valid");
        let model = Logged::new(CreditModel, &logger).expect("no key collides");
        for _ in 0..100 {
            assert!(model.predict(&Application::typical()).is_ok());
        }
        drop(model);
        drop(logger);
        assert_eq!(guard.finish().failed_writes, 200);
    }
}

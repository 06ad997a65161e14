//! In `drop` mode a full channel drops records, and every dropped record is
//! counted and reported: lines written plus reported drops equal the records
//! emitted, exactly.

use logged_model::{LoggerBuilder, Overflow};
use logged_model_test_support::on_both_drains;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_drains! {
    /// An output that takes a while for each line, so the channel fills up.
    #[derive(Clone, Default)]
    struct SlowOutput(Arc<Mutex<Vec<u8>>>);

    impl Write for SlowOutput {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_micros(50));
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    const EMITTED: u64 = 20_000;
    const DROP_REPORT: &str = "Log records dropped: the log channel was full.";

    #[test]
    fn lines_written_plus_reported_drops_equal_records_emitted() {
        let output = SlowOutput::default();
        let (logger, guard) = LoggerBuilder::new().drain(DRAIN)
            .overflow(Overflow::Drop)
            .channel_size(4)
            .build_with_writer(output.clone())
            .expect("valid configuration");
        for sequence in 0..EMITTED {
            slog::info!(logger, "Tick."; "sequence" => sequence);
        }
        drop(logger);
        let stats = guard.finish();

        let bytes = output.0.lock().expect("not poisoned").clone();
        let text = String::from_utf8(bytes).expect("UTF-8");
        let mut ticks = 0;
        let mut reported = 0;
        for line in text.lines() {
            let record: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
            if record["message"] == DROP_REPORT {
                assert_eq!(record["log.level"], "WARN");
                reported += record["dropped_records"].as_u64().expect("a count");
            } else {
                assert_eq!(record["message"], "Tick.");
                ticks += 1;
            }
        }
        assert!(stats.dropped > 0, "the tiny channel overflowed");
        assert_eq!(reported, stats.dropped, "every drop is reported once");
        assert_eq!(ticks + reported, EMITTED);
    }

    #[test]
    fn in_block_mode_a_slow_output_loses_nothing() {
        let output = SlowOutput::default();
        let (logger, guard) = LoggerBuilder::new().drain(DRAIN)
            .channel_size(4)
            .build_with_writer(output.clone())
            .expect("valid configuration");
        for sequence in 0..2_000u64 {
            slog::info!(logger, "Tick."; "sequence" => sequence);
        }
        drop(logger);
        assert_eq!(guard.finish().dropped, 0);
        let bytes = output.0.lock().expect("not poisoned").clone();
        let sequences: Vec<u64> = String::from_utf8(bytes)
            .expect("UTF-8")
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).expect("JSON")["sequence"]
                    .as_u64()
                    .expect("a number")
            })
            .collect();
        assert_eq!(
            sequences,
            (0..2_000).collect::<Vec<_>>(),
            "all of them, in order"
        );
    }

    /// Records the largest single write it is given.
    #[derive(Clone, Default)]
    struct MeasuringOutput {
        bytes: Arc<Mutex<Vec<u8>>>,
        largest_write: Arc<Mutex<usize>>,
    }

    impl Write for MeasuringOutput {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_micros(200));
            let mut largest = self.largest_write.lock().map_err(|_| io::Error::other("poisoned"))?;
            *largest = (*largest).max(bytes.len());
            self.bytes.lock().map_err(|_| io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_slow_output_holds_memory_to_the_channel_capacity_not_the_backlog() {
        const CAPACITY: usize = 16;
        let output = MeasuringOutput::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .channel_size(CAPACITY)
            .build_with_writer(output.clone())
            .expect("valid configuration");
        let producers: Vec<_> = (0..4)
            .map(|producer| {
                let logger = logger.clone();
                std::thread::spawn(move || {
                    for sequence in 0..500u64 {
                        slog::info!(logger, "Tick."; "producer" => producer, "sequence" => sequence);
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.join().expect("no panic");
        }
        drop(logger);
        assert_eq!(guard.finish().dropped, 0);
        let text = String::from_utf8(output.bytes.lock().expect("not poisoned").clone()).expect("UTF-8");
        assert_eq!(text.lines().count(), 2000);
        let longest_line = text.lines().map(|line| line.len() + 1).max().unwrap_or(0);
        let largest_write = *output.largest_write.lock().expect("not poisoned");
        // 2000 records were emitted far faster than written; each write
        // still held at most one channel's worth.
        assert!(
            largest_write <= CAPACITY * longest_line,
            "a write of {largest_write} bytes exceeds {CAPACITY} lines of at most {longest_line} bytes"
        );
    }

    #[test]
    fn a_record_logged_after_the_guard_is_dropped_is_discarded_without_a_panic() {
        let output = SlowOutput::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .build_with_writer(output.clone())
            .expect("valid configuration");
        slog::info!(logger, "Before.");
        drop(guard);
        slog::info!(logger, "After.");
        let text = String::from_utf8(output.0.lock().expect("not poisoned").clone()).expect("UTF-8");
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("Before."));
    }
}

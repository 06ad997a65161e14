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

    /// Holds its first write until the gate opens; counts the lines of that write.
    #[derive(Clone, Default)]
    struct GatedOutput {
        bytes: Arc<Mutex<Vec<u8>>>,
        open: Arc<(Mutex<bool>, std::sync::Condvar)>,
        first_write_lines: Arc<Mutex<Option<usize>>>,
    }

    impl GatedOutput {
        fn open(&self) {
            let (open, changed) = &*self.open;
            *open.lock().expect("not poisoned") = true;
            changed.notify_all();
        }
    }

    impl Write for GatedOutput {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            {
                let mut first = self.first_write_lines.lock().map_err(|_| io::Error::other("poisoned"))?;
                if first.is_none() {
                    *first = Some(bytes.iter().filter(|&&byte| byte == b'\n').count());
                }
            }
            let (open, changed) = &*self.open;
            let mut is_open = open.lock().map_err(|_| io::Error::other("poisoned"))?;
            while !*is_open {
                is_open = changed.wait(is_open).map_err(|_| io::Error::other("poisoned"))?;
            }
            self.bytes.lock().map_err(|_| io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_output_holds_the_callers_once_the_channel_is_full() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        const CAPACITY: usize = 16;
        const EMITTED: usize = 200;
        let output = GatedOutput::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .channel_size(CAPACITY)
            .build_with_writer(output.clone())
            .expect("valid configuration");
        let returned = Arc::new(AtomicUsize::new(0));
        let producer = {
            let logger = logger.clone();
            let returned = Arc::clone(&returned);
            std::thread::spawn(move || {
                for sequence in 0..EMITTED {
                    slog::info!(logger, "Tick."; "sequence" => sequence);
                    returned.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        // Wait (at most ten seconds) until the producer stops making progress.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut last = usize::MAX;
        let mut unchanged = 0;
        while unchanged < 5 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(40));
            let now = returned.load(Ordering::SeqCst);
            unchanged = if now == last { unchanged + 1 } else { 0 };
            last = now;
        }
        let held = returned.load(Ordering::SeqCst);
        let in_the_stalled_write = output.first_write_lines.lock().expect("not poisoned").unwrap_or(0);
        // The backlog happened: the caller was held with the channel full...
        assert!(held < EMITTED, "the caller was never held");
        assert!(held >= CAPACITY, "only {held} records were queued before the caller was held");
        // ...and the channel held no more than its capacity.
        assert!(
            held <= CAPACITY + in_the_stalled_write + 1,
            "{held} records were accepted with {in_the_stalled_write} in the stalled write and a channel of {CAPACITY}"
        );
        output.open();
        producer.join().expect("no panic");
        drop(logger);
        assert_eq!(guard.finish().dropped, 0);
        let text = String::from_utf8(output.bytes.lock().expect("not poisoned").clone()).expect("UTF-8");
        assert_eq!(text.lines().count(), EMITTED, "nothing lost once the output moved again");
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
        if DRAIN == logged_model::DrainKind::Line {
            // The line drain writes its backlog in batches: one of them held
            // many lines, or no backlog ever built up.
            assert!(
                largest_write > CAPACITY / 2 * longest_line.min(100),
                "the largest write, {largest_write} bytes, held no backlog"
            );
            assert!(
                largest_write <= CAPACITY * longest_line,
                "a write of {largest_write} bytes exceeds {CAPACITY} lines of at most {longest_line} bytes"
            );
        } else {
            // slog-async hands slog-json one record at a time: each write
            // holds one whole line, never more.
            assert!(
                largest_write <= longest_line,
                "a write of {largest_write} bytes holds more than one line of at most {longest_line} bytes"
            );
        }
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

    /// Each of `threads` threads logs `per_thread` ticks and one prediction
    /// per tick through a channel of `capacity`, in `overflow` mode;
    /// returns the stats and the lines, parsed.
    fn from_many_threads(
        overflow: Overflow,
        capacity: usize,
        threads: u64,
        per_thread: u64,
    ) -> (logged_model::LogStats, Vec<serde_json::Value>) {
        let (output, logger, guard, model) = credit_model(overflow, capacity);
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let (logger, model) = (logger.clone(), Arc::clone(&model));
                std::thread::spawn(move || {
                    let input = logged_model_test_support::models::Application::typical();
                    for sequence in 0..per_thread {
                        slog::info!(logger, "Tick."; "thread" => thread, "sequence" => sequence);
                        let _ = logged_model::Model::predict(&*model, &input);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("a logging thread finished");
        }
        drop((model, logger));
        let stats = guard.finish();
        (stats, parsed(&output))
    }

    /// A channel of `capacity` in `overflow` mode into a captured output,
    /// its logger and guard, and the credit model wrapped with it.
    fn credit_model(
        overflow: Overflow,
        capacity: usize,
    ) -> (
        logged_model::CapturedOutput,
        logged_model::Logger,
        logged_model::LogGuard,
        Arc<logged_model::Logged<logged_model_test_support::models::CreditModel>>,
    ) {
        let output = logged_model::CapturedOutput::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .overflow(overflow)
            .channel_size(capacity)
            .profile_interval(None)
            .build_with_writer(output.clone())
            .expect("valid configuration");
        let model = Arc::new(
            logged_model::Logged::new(logged_model_test_support::models::CreditModel, &logger)
                .expect("wraps"),
        );
        (output, logger, guard, model)
    }

    /// The lines written, parsed.
    fn parsed(output: &logged_model::CapturedOutput) -> Vec<serde_json::Value> {
        output
            .lines()
            .iter()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect()
    }

    /// Checks that each thread's ticks come in its order, and that no
    /// prediction's "requested" comes after its outcome; returns how many
    /// ticks there were and how many outcomes came without their request
    /// (dropped, in `drop` mode).
    fn each_thread_in_order(records: &[serde_json::Value], threads: u64) -> (u64, usize) {
        let mut last = vec![None; threads as usize];
        let mut ticks = 0;
        let mut requested = std::collections::HashSet::new();
        let mut without_request = std::collections::HashSet::new();
        for record in records {
            match record["message"].as_str() {
                Some("Tick.") => {
                    let thread = record["thread"].as_u64().expect("a thread") as usize;
                    let sequence = record["sequence"].as_u64().expect("a sequence");
                    assert!(
                        last[thread].is_none_or(|last| last < sequence),
                        "thread {thread}: {sequence} after {:?}",
                        last[thread]
                    );
                    last[thread] = Some(sequence);
                    ticks += 1;
                }
                Some("Prediction requested.") => {
                    let id = record["prediction_id"].clone();
                    assert!(!without_request.contains(&id), "a request after its outcome: {record}");
                    requested.insert(id);
                }
                Some("Prediction created.") => {
                    let id = record["prediction_id"].clone();
                    if !requested.contains(&id) {
                        without_request.insert(id);
                    }
                }
                _ => {}
            }
        }
        (ticks, without_request.len())
    }

    #[test]
    fn each_threads_records_are_written_in_its_order_and_none_is_lost_in_block_mode() {
        let (threads, per_thread) = (6, 1_000);
        let (stats, records) = from_many_threads(Overflow::Block, 64, threads, per_thread);
        assert_eq!(stats.dropped, 0);
        assert_eq!(records.len() as u64, threads * per_thread * 3);
        assert_eq!(each_thread_in_order(&records, threads), (threads * per_thread, 0));
    }

    #[test]
    fn in_drop_mode_each_threads_records_stay_in_order_and_the_drops_add_up() {
        let (threads, per_thread) = (6, 1_000);
        let (stats, records) = from_many_threads(Overflow::Drop, 16, threads, per_thread);
        let reported: u64 = records
            .iter()
            .filter(|record| record["message"] == DROP_REPORT)
            .map(|record| record["dropped_records"].as_u64().expect("a count"))
            .sum();
        each_thread_in_order(&records, threads);
        assert_eq!(reported, stats.dropped, "every drop is reported once");
        let written = records.len() as u64 - records.iter().filter(|r| r["message"] == DROP_REPORT).count() as u64;
        assert_eq!(written + reported, threads * per_thread * 3);
    }

    #[test]
    fn records_ordered_across_threads_are_written_in_that_order() {
        // Four threads take turns under a lock; each turn logs its number
        // and a prediction. After joining them, this thread logs the last
        // record.
        const TURNS: u64 = 2_000;
        let (output, logger, guard, model) = credit_model(Overflow::Block, 64);
        let turn = Arc::new(std::sync::Mutex::new(0u64));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (logger, model, turn) = (logger.clone(), Arc::clone(&model), Arc::clone(&turn));
                std::thread::spawn(move || {
                    let input = logged_model_test_support::models::Application::typical();
                    loop {
                        let mut turn = turn.lock().expect("not poisoned");
                        if *turn == TURNS {
                            return;
                        }
                        slog::info!(logger, "Turn."; "turn" => *turn);
                        let _ = logged_model::Model::predict(&*model, &input);
                        *turn += 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("a logging thread finished");
        }
        slog::info!(logger, "Last.");
        drop((model, logger));
        let stats = guard.finish();
        assert_eq!(stats.dropped, 0);
        let records = parsed(&output);
        let messages: Vec<&str> = records
            .iter()
            .map(|record| record["message"].as_str().expect("a message"))
            .collect();
        let expected: Vec<&str> = (0..TURNS)
            .flat_map(|_| ["Turn.", "Prediction requested.", "Prediction created."])
            .chain(["Last."])
            .collect();
        assert_eq!(messages, expected);
        let turns: Vec<u64> = records
            .iter()
            .filter_map(|record| record["turn"].as_u64())
            .collect();
        assert_eq!(turns, (0..TURNS).collect::<Vec<_>>());
    }
}

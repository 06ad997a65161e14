//! A stalled log output (a full disk, a collector that falls behind): the
//! state says so, async callers wait by awaiting while other tasks run, a
//! bounded wait drops and counts, and shutdown gives up in time.

use logged_model::{AsyncModel, Logged, LoggerBuilder, ModelSettings, OutputState, logged_model};
use logged_model_test_support::on_both_drains;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// An output that holds every write while it is closed.
#[derive(Clone, Default)]
struct Valve {
    bytes: Arc<Mutex<Vec<u8>>>,
    open: Arc<(Mutex<bool>, Condvar)>,
}

impl Valve {
    fn open(&self) {
        let (open, changed) = &*self.open;
        *open.lock().expect("not poisoned") = true;
        changed.notify_all();
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.bytes.lock().expect("not poisoned").clone())
            .expect("UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("JSON"))
            .collect()
    }
}

impl Write for Valve {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let (open, changed) = &*self.open;
        let mut is_open = open.lock().map_err(|_| io::Error::other("poisoned"))?;
        while !*is_open {
            is_open = changed
                .wait(is_open)
                .map_err(|_| io::Error::other("poisoned"))?;
        }
        self.bytes
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Input {
    amount: f64,
}

struct Echo;

#[logged_model(input_fields = [amount])]
impl AsyncModel for Echo {
    type Input = Input;
    type Output = f64;
    type Error = String;
    fn qualified_name(&self) -> &str {
        "echo"
    }
    fn version(&self) -> &str {
        "1"
    }
    async fn predict(&self, input: &Input) -> Result<f64, String> {
        Ok(input.amount)
    }
}

/// Waits until `condition` holds, failing the test after ten seconds.
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "no {what} within ten seconds");
        std::thread::sleep(Duration::from_millis(5));
    }
}

on_both_drains! {
    #[test]
    fn async_predictions_wait_by_awaiting_while_other_tasks_run() {
        let valve = Valve::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .profile_interval(None)
            .channel_size(4)
            .build_with_writer(valve.clone())
            .expect("valid");
        let output = guard.output();
        // No setting names the output: the model awaits room in its logger's.
        let model = Arc::new(Logged::with_settings(Echo, &logger, &ModelSettings::new()).expect("wraps"));
        let ticks = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        let thread = {
            let (model, ticks, done) = (Arc::clone(&model), Arc::clone(&ticks), Arc::clone(&done));
            std::thread::spawn(move || {
                runtime.block_on(async move {
                    let ticker = tokio::spawn(async move {
                        while done.load(Ordering::SeqCst) < 40 {
                            ticks.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                    });
                    let predictions: Vec<_> = (0..20)
                        .map(|index| {
                            let model = Arc::clone(&model);
                            tokio::spawn(async move {
                                model.predict(&Input { amount: f64::from(index) }).await
                            })
                        })
                        .collect();
                    for prediction in predictions {
                        prediction.await.expect("no panic").expect("predicts");
                    }
                    ticker.abort();
                })
            })
        };
        // The channel fills, the writer is stuck: the output says so...
        wait_until("stall", || matches!(output.state(), OutputState::Stalled { .. }));
        // ...and the single-threaded runtime still runs its other task.
        let before = ticks.load(Ordering::SeqCst);
        wait_until("tick while stalled", || ticks.load(Ordering::SeqCst) > before + 5);
        valve.open();
        thread.join().expect("the runtime ran to the end");
        assert_eq!(output.state(), OutputState::Taking);
        drop((model, logger));
        assert_eq!(guard.finish().dropped, 0);
        let records = valve.lines();
        assert_eq!(records.len(), 40, "both records of every prediction, none lost");
    }

    #[test]
    fn a_bounded_wait_drops_and_counts_exactly() {
        let valve = Valve::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .channel_size(4)
            .block_timeout(Duration::from_millis(50))
            .build_with_writer(valve.clone())
            .expect("valid");
        const EMITTED: usize = 30;
        // Emitted on a thread of its own, so that a wait past the bound
        // fails the test instead of hanging it.
        let (done, finished) = std::sync::mpsc::channel();
        let emitter = {
            let logger = logger.clone();
            std::thread::spawn(move || {
                for sequence in 0..EMITTED {
                    slog::info!(logger, "Tick."; "sequence" => sequence);
                }
                let _ = done.send(());
            })
        };
        let in_time = finished.recv_timeout(Duration::from_secs(5)).is_ok();
        valve.open();
        emitter.join().expect("the emitter ran");
        assert!(in_time, "each record waited at most its bound: 30 records took over 5 s");
        drop(logger);
        let stats = guard.finish();
        assert!(stats.dropped > 0, "the stalled channel overflowed");
        let records = valve.lines();
        let reported: u64 = records.iter().filter_map(|r| r["dropped_records"].as_u64()).sum();
        let ticks = records.iter().filter(|r| r["message"] == "Tick.").count();
        assert_eq!(reported, stats.dropped);
        assert_eq!(ticks as u64 + reported, EMITTED as u64, "written + reported dropped = emitted");
    }

    #[test]
    fn records_the_writer_holds_in_a_stalled_write_still_count_as_waiting_and_unwritten() {
        let valve = Valve::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .build_with_writer(valve.clone())
            .expect("valid");
        for sequence in 0..3 {
            slog::info!(logger, "Tick."; "sequence" => sequence);
        }
        // The writer takes the records within milliseconds, then waits in
        // the stalled write: they are still waiting, not gone.
        std::thread::sleep(Duration::from_millis(100));
        let waiting = guard.output().waiting();
        drop(logger);
        let stats = guard.finish_within(Duration::from_millis(100));
        valve.open(); // let the abandoned writer thread end
        assert_eq!(waiting, 3);
        assert_eq!(stats.unwritten_at_shutdown, 3, "{stats:?}");
    }

    #[test]
    fn shutdown_gives_up_on_a_stalled_output_in_time_and_counts_what_it_could_not_write() {
        let valve = Valve::default();
        let (logger, guard) = LoggerBuilder::new()
            .drain(DRAIN)
            .channel_size(8)
            .overflow(logged_model::Overflow::Drop)
            .build_with_writer(valve.clone())
            .expect("valid");
        for sequence in 0..20 {
            slog::info!(logger, "Tick."; "sequence" => sequence);
        }
        drop(logger);
        let started = Instant::now();
        let stats = guard.finish_within(Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert!(stats.unwritten_at_shutdown > 0, "{stats:?}");
        valve.open(); // let the abandoned writer thread end
    }
}

#[test]
fn an_invalid_block_timeout_names_its_variable() {
    let error = LoggerBuilder::from_env_with(|name| {
        (name == "LOG_BLOCK_TIMEOUT_MS").then(|| "soon".to_owned())
    })
    .err()
    .expect("refused");
    assert_eq!(
        error.to_string(),
        "LOG_BLOCK_TIMEOUT_MS=\"soon\" is not valid; expected a whole number of milliseconds above 0"
    );
}

#[test]
fn with_a_bounded_wait_the_state_still_says_stalled() {
    let valve = Valve::default();
    let (logger, guard) = LoggerBuilder::new()
        .channel_size(4)
        .block_timeout(Duration::from_millis(50))
        .build_with_writer(valve.clone())
        .expect("valid");
    let output = guard.output();
    for sequence in 0..10 {
        slog::info!(logger, "Tick."; "sequence" => sequence);
    }
    wait_until("stall", || {
        matches!(output.state(), OutputState::Stalled { .. })
    });
    valve.open();
    drop(logger);
    guard.finish();
}

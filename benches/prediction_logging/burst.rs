//! The burst benchmark: the caller's time per prediction, call by call, when
//! predictions come in bursts (`BURST` back to back into a file, then
//! `IDLE`), as percentiles from a latency histogram.
//!
//! Criterion reports means; a burst that outgrows a drain's channel shows in
//! the tail instead, where the caller waits for the disk. The rows are the
//! model with no logging (the machine's own tail: the first call after an
//! idle pause is slower on every row), the default configuration,
//! hand-written slog-async with a channel of 8,192 records, and synchronous
//! slog-json. Each call is timed on its own (`Instant` costs some 20 ns on
//! both sides of it, the same on every row).

use crate::{check_output, file_output, logged, peers, report_losses};
use hdrhistogram::Histogram;
use logged_model::Model;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Predictions per burst.
const BURST: usize = 1_000;
/// The pause after each burst.
pub const IDLE: Duration = Duration::from_millis(5);
/// slog-async's channel: it holds a whole burst's records.
const LARGE_CHANNEL: usize = 8_192;

/// Runs `bursts` bursts of every row and prints their percentiles.
pub fn run(bursts: usize) {
    let input = crate::workload::input();
    println!(
        "burst/file: {bursts} bursts of {BURST} predictions, {} ms idle after each; \
         caller's time per prediction",
        IDLE.as_millis()
    );
    print_header();
    let bare = crate::workload::model();
    let histogram = bursts_of(bursts, || {
        let _ = black_box(bare.predict(black_box(&input)));
    });
    print_row("bare (no logging)", &histogram);
    let name = "logged-model";
    let (model, guard) = logged(|builder| builder, file_output());
    let histogram = bursts_of(bursts, || {
        let _ = black_box(model.predict(black_box(&input)));
    });
    drop(model);
    report_losses(name, guard.finish());
    print_row(name, &histogram);
    let name = "hand-written slog-async + slog-json, channel 8192";
    let (logger, guard) = peers::slog_async_logger_with_channel(file_output(), LARGE_CHANNEL);
    let histogram = bursts_of(bursts, || {
        let _ = black_box(peers::slog_predict(&logger, &bare, black_box(&input)));
    });
    drop((logger, guard));
    check_output(name);
    print_row(name, &histogram);
    let name = crate::SLOG_SYNC;
    let logger = peers::slog_sync_logger(file_output());
    let histogram = bursts_of(bursts, || {
        let _ = black_box(peers::slog_predict(&logger, &bare, black_box(&input)));
    });
    drop(logger);
    check_output(name);
    print_row(name, &histogram);
}

/// Predictions of the paced rows: one per [`PACE`].
const PACED: usize = 3_000;
/// The pace of the paced rows.
const PACE: Duration = Duration::from_millis(1);

/// Runs the paced rows (`paced` predictions, one a millisecond) and prints
/// their percentiles: a service's steady load, where the writer is idle
/// between records.
pub fn run_paced(paced: usize) {
    let input = crate::workload::input();
    println!(
        "paced/file: {paced} predictions, one every {} ms; caller's time per prediction",
        PACE.as_millis()
    );
    print_header();
    let bare = crate::workload::model();
    let histogram = bursts_of_size(paced, 1, PACE, || {
        let _ = black_box(bare.predict(black_box(&input)));
    });
    print_row("bare (no logging)", &histogram);
    let name = "logged-model";
    let (model, guard) = logged(|builder| builder, file_output());
    let histogram = bursts_of_size(paced, 1, PACE, || {
        let _ = black_box(model.predict(black_box(&input)));
    });
    drop(model);
    report_losses(name, guard.finish());
    print_row(name, &histogram);
    let name = crate::SLOG_SYNC;
    let logger = peers::slog_sync_logger(file_output());
    let histogram = bursts_of_size(paced, 1, PACE, || {
        let _ = black_box(peers::slog_predict(&logger, &bare, black_box(&input)));
    });
    drop(logger);
    check_output(name);
    print_row(name, &histogram);
}

/// Paced predictions under `cargo bench`, a few under `cargo test`.
pub fn paced(bursts: usize) -> usize {
    (PACED * bursts / 300).max(20)
}

/// The time of each call of `predict`, in nanoseconds, over `bursts` bursts.
fn bursts_of(bursts: usize, predict: impl FnMut()) -> Histogram<u64> {
    bursts_of_size(bursts, BURST, IDLE, predict)
}

/// The time of each call of `predict`, in nanoseconds, over `bursts`
/// bursts of `size` calls, each followed by `idle`.
pub fn bursts_of_size(
    bursts: usize,
    size: usize,
    idle: Duration,
    mut predict: impl FnMut(),
) -> Histogram<u64> {
    // Three significant figures from 1 ns to 10 s.
    let mut histogram =
        Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("valid histogram bounds");
    for _ in 0..bursts {
        for _ in 0..size {
            let started = Instant::now();
            predict();
            let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            histogram.saturating_record(nanos);
        }
        std::thread::sleep(idle);
    }
    histogram
}

/// The columns of [`print_row`].
pub fn print_header() {
    println!(
        "{:<50} {:>10} {:>10} {:>10} {:>10}",
        "row", "p50", "p99", "p99.9", "max"
    );
}

/// A row's percentiles of the caller's time per call.
pub fn print_row(name: &str, histogram: &Histogram<u64>) {
    let micros = |quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1_000.0;
    println!(
        "{:<50} {:>8.2}µs {:>8.2}µs {:>8.2}µs {:>8.1}µs",
        name,
        micros(0.5),
        micros(0.99),
        micros(0.999),
        histogram.max() as f64 / 1_000.0
    );
}

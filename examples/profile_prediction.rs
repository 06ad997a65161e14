//! A fixed workload for instruction-level profiling of the decorator:
//! logged predictions of the credit-risk model into a sink (20,000, or the
//! count given after the mode).
//!
//! ```sh
//! cargo build --release --example profile_prediction
//! valgrind --tool=callgrind target/release/examples/profile_prediction line         # line drain
//! valgrind --tool=callgrind target/release/examples/profile_prediction profiled     # and the profile
//! valgrind --tool=callgrind target/release/examples/profile_prediction bare         # no logging
//! valgrind --tool=callgrind target/release/examples/profile_prediction slog-async
//! valgrind --tool=callgrind target/release/examples/profile_prediction hand-written # slog-async by hand
//! valgrind --tool=callgrind --separate-threads=yes \
//!     target/release/examples/profile_prediction line 40000                         # per thread
//! ```
//!
//! Callgrind counts instructions, which stay the same from run to run on a
//! busy machine. Two runs of a mode with different counts cancel what a run
//! costs besides its predictions (loading the model, calibrating the clock):
//! the difference divided by the difference of the counts is a prediction's
//! instructions; the same for `bare` gives the model's own, and the rest is
//! the logging's. With `--separate-threads=yes` the caller's thread and the
//! writer thread are counted apart.

use logged_model::{DrainKind, Logged, LoggerBuilder, Model};
use std::hint::black_box;

const PREDICTIONS: usize = 20_000;

/// The benchmark's workload: the same model, input and fields as its
/// default row (the bench's other rows use the rest of the module).
#[allow(dead_code)]
#[path = "../benches/prediction_logging/workload.rs"]
mod workload;

/// The bench's hand-written rows, for the `hand-written` mode.
#[allow(dead_code)]
#[path = "../benches/prediction_logging/peers.rs"]
mod peers;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = workload::model();
    let input = workload::input();
    let mode = std::env::args().nth(1).unwrap_or_default();
    let predictions = match std::env::args().nth(2) {
        Some(count) => count.parse()?,
        None => PREDICTIONS,
    };
    if mode == "hand-written" {
        let (logger, guard) = peers::slog_async_logger(std::io::sink());
        for _ in 0..predictions {
            let _ = black_box(peers::slog_predict(&logger, &model, black_box(&input)));
        }
        drop((logger, guard));
        return Ok(());
    }
    if mode == "bare" {
        for _ in 0..predictions {
            let _ = black_box(model.predict(black_box(&input)));
        }
        return Ok(());
    }
    let drain = if mode == "slog-async" {
        DrainKind::SlogAsync
    } else {
        DrainKind::Line
    };
    // As the bench's rows: the profile only where its row says so.
    let profile = (mode == "profiled").then_some(std::time::Duration::from_secs(60));
    let (logger, guard) = LoggerBuilder::new()
        .drain(drain)
        .profile_interval(profile)
        .env_vars(workload::ENV_VARS)
        .build_with_writer(std::io::sink())?;
    let model = Logged::new(workload::Workload(model), &logger)?;
    for _ in 0..predictions {
        let _ = black_box(model.predict(black_box(&input)));
    }
    drop(model);
    drop(logger);
    guard.finish();
    Ok(())
}

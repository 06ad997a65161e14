//! What the decorator costs per prediction, side by side with no logging,
//! hand-written slog and tracing, in one run: `cargo bench`.
//!
//! - `caller/sink` and `caller/file`: time on the caller's thread per
//!   prediction (two records), writing to a sink that discards bytes, then
//!   to a file.
//! - `cpu/sink`: CPU time of the whole process (caller and writer threads)
//!   per prediction, including the final flush.
//! - `volume/file`: records per second through the drain into a file, from
//!   two producer threads, including the final flush.

mod peers;
mod workload;

use cpu_time::ProcessTime;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use logged_model::{DrainKind, LogGuard, Logged, LoggerBuilder, Model, Overflow};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::{ENV_VALUES, ENV_VARS, input, model};

type LoggedModel = Logged<credit_risk_service::model::CreditRiskModel>;

/// The decorator over a logger built by `configure`, writing to `output`.
fn logged(
    configure: impl FnOnce(LoggerBuilder) -> LoggerBuilder,
    output: impl Write + Send + 'static,
) -> (LoggedModel, LogGuard) {
    let env: HashMap<&str, &str> = ENV_VARS.into_iter().zip(ENV_VALUES).collect();
    let builder = LoggerBuilder::from_env_with(move |name| env.get(name).map(|v| (*v).to_owned()))
        .expect("valid configuration")
        .capture_log_crate(false)
        .env_vars(ENV_VARS);
    let (logger, guard) = configure(builder)
        .build_with_writer(output)
        .expect("valid configuration");
    (
        Logged::new(model(), &logger).expect("no key collides"),
        guard,
    )
}

/// How a row configures the logger.
type Configure = fn(LoggerBuilder) -> LoggerBuilder;

/// The logged-model rows: name and configuration.
fn logged_rows() -> [(&'static str, Configure); 4] {
    [
        ("logged-model", |b| b),
        ("logged-model, drop mode", |b| b.overflow(Overflow::Drop)),
        ("logged-model, level filtered out", |b| {
            b.level(slog::Level::Critical)
        }),
        ("logged-model over slog-async + slog-json", |b| {
            b.drain(DrainKind::SlogAsync)
        }),
    ]
}

fn bench_file() -> PathBuf {
    let directory = std::env::temp_dir().join(format!("logged-model-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    directory.join("records.log")
}

fn file_output() -> BufWriter<std::fs::File> {
    BufWriter::new(std::fs::File::create(bench_file()).expect("a file"))
}

/// Runs every row on the caller's thread with outputs made by `output`.
fn caller_rows<W: Write + Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    output: fn() -> W,
    with_bare: bool,
) {
    let input = input();
    if with_bare {
        let bare = model();
        group.bench_function("bare", |b| {
            b.iter(|| black_box(bare.predict(black_box(&input))))
        });
    }
    for (name, configure) in logged_rows() {
        let (model, guard) = logged(configure, output());
        group.bench_function(name, |b| {
            b.iter(|| black_box(model.predict(black_box(&input))))
        });
        drop(model);
        drop(guard);
    }
    let bare = model();
    let (logger, guard) = peers::slog_async_logger(output());
    group.bench_function("hand-written slog-async + slog-json", |b| {
        b.iter(|| black_box(peers::slog_predict(&logger, &bare, black_box(&input))))
    });
    drop(logger);
    drop(guard);
    let logger = peers::slog_sync_logger(output());
    group.bench_function("hand-written synchronous slog-json", |b| {
        b.iter(|| black_box(peers::slog_predict(&logger, &bare, black_box(&input))))
    });
    drop(logger);
    let (subscriber, guard) = peers::tracing_subscriber(output());
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("tracing #[instrument] + JSON", |b| {
            b.iter(|| black_box(peers::traced_predict(&bare, black_box(&input))))
        });
    });
    drop(guard);
}

fn caller_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("caller/sink");
    caller_rows(&mut group, std::io::sink, true);
    group.finish();
    let mut group = c.benchmark_group("caller/file");
    group
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    caller_rows(&mut group, file_output, false);
    group.finish();
    let _ = std::fs::remove_file(bench_file());
}

/// CPU of every thread of the process over `iters` predictions and the flush.
fn cpu_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu/sink");
    let input = input();
    let bare = model();
    group.bench_function("bare", |b| {
        b.iter_custom(|iters| {
            let cpu = ProcessTime::now();
            for _ in 0..iters {
                let _ = black_box(bare.predict(black_box(&input)));
            }
            cpu.elapsed()
        })
    });
    for (name, configure) in logged_rows() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let (model, guard) = logged(configure, std::io::sink());
                let cpu = ProcessTime::now();
                for _ in 0..iters {
                    let _ = black_box(model.predict(black_box(&input)));
                }
                drop(model);
                drop(guard);
                cpu.elapsed()
            })
        });
    }
    group.bench_function("hand-written slog-async + slog-json", |b| {
        b.iter_custom(|iters| {
            let (logger, guard) = peers::slog_async_logger(std::io::sink());
            let cpu = ProcessTime::now();
            for _ in 0..iters {
                let _ = black_box(peers::slog_predict(&logger, &bare, black_box(&input)));
            }
            drop(logger);
            drop(guard);
            cpu.elapsed()
        })
    });
    group.bench_function("tracing #[instrument] + JSON", |b| {
        b.iter_custom(|iters| {
            let (subscriber, guard) = peers::tracing_subscriber(std::io::sink());
            let cpu = ProcessTime::now();
            tracing::subscriber::with_default(subscriber, || {
                for _ in 0..iters {
                    let _ = black_box(peers::traced_predict(&bare, black_box(&input)));
                }
            });
            drop(guard);
            cpu.elapsed()
        })
    });
    group.finish();
}

/// Predictions made by each of the producer threads in one volume run.
const PREDICTIONS_PER_PRODUCER: u64 = 50_000;
const PRODUCERS: u64 = 2;

/// Records per second into a file, two producers, final flush included.
fn volume(c: &mut Criterion) {
    let mut group = c.benchmark_group("volume/file");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(
        2 * PREDICTIONS_PER_PRODUCER * PRODUCERS,
    ));
    for (name, configure) in [logged_rows()[0], logged_rows()[3]] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (model, guard) = logged(configure, file_output());
                    let model = Arc::new(model);
                    let started = Instant::now();
                    let producers: Vec<_> = (0..PRODUCERS)
                        .map(|_| {
                            let model = Arc::clone(&model);
                            std::thread::spawn(move || {
                                let input = input();
                                for _ in 0..PREDICTIONS_PER_PRODUCER {
                                    let _ = black_box(model.predict(&input)).ok();
                                }
                            })
                        })
                        .collect();
                    for producer in producers {
                        producer.join().expect("a producer finished");
                    }
                    drop(model);
                    guard.finish();
                    total += started.elapsed();
                }
                total
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_file(bench_file());
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = caller_time, cpu_time, volume
}
criterion_main!(benches);

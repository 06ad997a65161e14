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
//! - `burst/file` and `paced/file` (printed after criterion's rows):
//!   percentiles of the caller's time per call in bursts of predictions into
//!   a file, and at one prediction a millisecond (see [`burst`]).
//! - `writer/file`: records per second of the writer thread's own CPU time,
//!   into a file (see [`writer`]).
//! - `otlp/loopback` and `otlp/throughput` (printed last): the caller's time
//!   with the OTLP output on, paced, and the writer's records per second
//!   over OTLP (see [`otlp`]).
//!
//! Every row writes through an output the optimizer cannot see through
//! ([`BlackBoxSink`], or a file), a row that loses records says so, and a row
//! whose output failed stops the run. Before any measurement, `records_check`
//! makes one prediction on every row and checks that all rows write the same
//! keys and values. Under `cargo test` (the bench target has `test = true`)
//! the check runs and every row is run once, so the benchmarks cannot rot.

mod burst;
mod otlp;
mod peers;
mod workload;
mod writer;

use cpu_time::ProcessTime;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group};
use logged_model::{
    CapturedOutput, DrainKind, LogGuard, Logged, LoggerBuilder, Model, OutcomeLogger, Overflow,
    PredictionId,
};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use workload::{
    ENV_VALUES, ENV_VARS, HashedWorkload, RedactedWorkload, Workload, input, model, settings,
};

type LoggedModel = Logged<Workload>;

/// A logger built by `configure`, writing to `output`, with the workload's
/// environment fields.
fn logger(
    configure: impl FnOnce(LoggerBuilder) -> LoggerBuilder,
    output: impl Write + Send + 'static,
) -> (logged_model::Logger, LogGuard) {
    let env: HashMap<&str, &str> = ENV_VARS.into_iter().zip(ENV_VALUES).collect();
    let builder = LoggerBuilder::from_env_with(move |name| env.get(name).map(|v| (*v).to_owned()))
        .expect("valid configuration")
        .capture_log_crate(false)
        .profile_interval(None)
        .env_vars(ENV_VARS);
    configure(builder)
        .build_with_writer(output)
        .expect("valid configuration")
}

/// The decorator over a logger built by `configure`, writing to `output`.
fn logged(
    configure: impl FnOnce(LoggerBuilder) -> LoggerBuilder,
    output: impl Write + Send + 'static,
) -> (LoggedModel, LogGuard) {
    let (logger, guard) = logger(configure, output);
    let model = Logged::with_settings(Workload(model()), &logger, &settings(None));
    (model.expect("no key collides"), guard)
}

/// The production-control rows (default configuration otherwise), on the
/// caller's thread: a hashed field, a redacted field, a prediction sampled
/// out, and predictions at a rate of 0.1.
fn control_rows<W: Write + Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    output: fn() -> W,
) {
    let input = input();
    let (logger, guard) = logger(|b| b, output());
    let hashed = Logged::with_settings(HashedWorkload(model()), &logger, &settings(None))
        .expect("no key collides");
    let name = "logged-model, a hashed field";
    group.bench_function(name, |b| {
        b.iter(|| black_box(hashed.predict(black_box(&input))))
    });
    let redacted = Logged::with_settings(RedactedWorkload(model()), &logger, &settings(None))
        .expect("no key collides");
    let name_redacted = "logged-model, a redacted field";
    group.bench_function(name_redacted, |b| {
        b.iter(|| black_box(redacted.predict(black_box(&input))))
    });
    for (row, rate) in [
        ("logged-model, sampled out", 0.0),
        ("logged-model, rate 0.1", 0.1),
    ] {
        let sampled = Logged::with_settings(Workload(model()), &logger, &settings(Some(rate)))
            .expect("no key collides");
        group.bench_function(row, |b| {
            b.iter(|| black_box(sampled.predict(black_box(&input))))
        });
    }
    // Every prediction profiled, none logged: the profile's whole cost.
    let (profiling, profiling_guard) =
        crate::logger(|b| b.profile_interval(Some(PROFILE_INTERVAL)), output());
    let profiled = Logged::with_settings(Workload(model()), &profiling, &settings(Some(0.0)))
        .expect("no key collides");
    group.bench_function("logged-model, sampled out, profiled", |b| {
        b.iter(|| black_box(profiled.predict(black_box(&input))))
    });
    drop((profiled, profiling));
    report_losses(
        "logged-model, sampled out, profiled",
        profiling_guard.finish(),
    );
    let outcomes = OutcomeLogger::<Workload>::with_settings(
        &logger,
        "credit_risk_model",
        "0.1.0",
        &settings(None),
    )
    .expect("no key collides");
    let id: PredictionId = "cc82106f-6111-4f3e-8e36-af6849d4a8e0"
        .parse()
        .expect("an id");
    let repaid = workload::Repaid { repaid: true };
    group.bench_function("logged-model, an outcome record", |b| {
        b.iter(|| outcomes.log(black_box(&id), black_box(&repaid)))
    });
    drop((hashed, redacted, outcomes, logger));
    report_losses(name, guard.finish());
}

/// The profile interval of the profiled rows: the default, so that a run
/// writes at most a window or two besides the last.
const PROFILE_INTERVAL: Duration = Duration::from_secs(60);

/// How a row configures the logger.
type Configure = fn(LoggerBuilder) -> LoggerBuilder;

/// The logged-model rows: name and configuration.
fn logged_rows() -> [(&'static str, Configure); 5] {
    [
        ("logged-model", |b| b),
        ("logged-model, profiled", |b| {
            b.profile_interval(Some(PROFILE_INTERVAL))
        }),
        ("logged-model, drop mode", |b| b.overflow(Overflow::Drop)),
        ("logged-model, level filtered out", |b| {
            b.level(slog::Level::Critical)
        }),
        ("logged-model over slog-async + slog-json", |b| {
            b.drain(DrainKind::SlogAsync)
        }),
    ]
}

/// Discards what it is given, but only after `black_box` has seen every
/// byte, so that no row's formatting can be optimized away.
#[derive(Clone, Copy, Default)]
struct BlackBoxSink;

impl Write for BlackBoxSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        black_box(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Set when any row's output failed to write.
static OUTPUT_FAILED: AtomicBool = AtomicBool::new(false);

/// A file output that notes its failures in [`OUTPUT_FAILED`].
struct CheckedFile(BufWriter<std::fs::File>);

impl Write for CheckedFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .write(bytes)
            .inspect_err(|_| OUTPUT_FAILED.store(true, Ordering::SeqCst))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .flush()
            .inspect_err(|_| OUTPUT_FAILED.store(true, Ordering::SeqCst))
    }
}

/// Stops the run if `row`'s output failed: its figure would be of work not done.
fn check_output(row: &str) {
    assert!(
        !OUTPUT_FAILED.load(Ordering::SeqCst),
        "row {row:?}: its output failed to write, so its figure is void"
    );
}

/// Says on stderr what a row lost, so that a fast lossy row is not taken for
/// a fast lossless one.
fn report_losses(row: &str, stats: logged_model::LogStats) {
    if stats.dropped > 0 || stats.failed_writes > 0 || stats.export_failed > 0 {
        eprintln!(
            "row {row:?}: {} records dropped, {} failed writes, {} failed exports",
            stats.dropped, stats.failed_writes, stats.export_failed
        );
    }
    check_output(row);
}

fn bench_file() -> PathBuf {
    let directory = std::env::temp_dir().join(format!("logged-model-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    directory.join("records.log")
}

fn file_output() -> CheckedFile {
    CheckedFile(BufWriter::new(
        std::fs::File::create(bench_file()).expect("a file"),
    ))
}

fn sink_output() -> BlackBoxSink {
    BlackBoxSink
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
        report_losses(name, guard.finish());
    }
    let bare = model();
    let (logger, guard) = peers::slog_async_logger(output());
    group.bench_function(SLOG_ASYNC, |b| {
        b.iter(|| black_box(peers::slog_predict(&logger, &bare, black_box(&input))))
    });
    drop(logger);
    drop(guard);
    check_output(SLOG_ASYNC);
    let logger = peers::slog_sync_logger(output());
    group.bench_function(SLOG_SYNC, |b| {
        b.iter(|| black_box(peers::slog_predict(&logger, &bare, black_box(&input))))
    });
    drop(logger);
    check_output(SLOG_SYNC);
    let (subscriber, guard) = peers::tracing_subscriber(output());
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function(TRACING, |b| {
            b.iter(|| black_box(peers::traced_predict(&bare, black_box(&input))))
        });
    });
    drop(guard);
    check_output(TRACING);
}

const SLOG_ASYNC: &str = "hand-written slog-async + slog-json";
const SLOG_SYNC: &str = "hand-written synchronous slog-json";
const TRACING: &str = "tracing + JSON";

fn caller_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("caller/sink");
    caller_rows(&mut group, sink_output, true);
    control_rows(&mut group, sink_output);
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
                let (model, guard) = logged(configure, BlackBoxSink);
                let cpu = ProcessTime::now();
                for _ in 0..iters {
                    let _ = black_box(model.predict(black_box(&input)));
                }
                drop(model);
                let stats = guard.finish();
                let elapsed = cpu.elapsed();
                report_losses(name, stats);
                elapsed
            })
        });
    }
    group.bench_function(SLOG_ASYNC, |b| {
        b.iter_custom(|iters| {
            let (logger, guard) = peers::slog_async_logger(BlackBoxSink);
            let cpu = ProcessTime::now();
            for _ in 0..iters {
                let _ = black_box(peers::slog_predict(&logger, &bare, black_box(&input)));
            }
            drop(logger);
            drop(guard);
            cpu.elapsed()
        })
    });
    group.bench_function(TRACING, |b| {
        b.iter_custom(|iters| {
            let (subscriber, guard) = peers::tracing_subscriber(BlackBoxSink);
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
                    let stats = guard.finish();
                    total += started.elapsed();
                    report_losses(name, stats);
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
/// One prediction on every row, into memory; the records of each row, parsed.
fn one_prediction_per_row() -> Vec<(
    &'static str,
    Vec<serde_json::Map<String, serde_json::Value>>,
)> {
    let input = input();
    let bare = model();
    let mut rows = Vec::new();
    for (name, configure) in logged_rows() {
        if name == "logged-model, level filtered out" {
            continue;
        }
        let output = CapturedOutput::default();
        let (model, guard) = logged(configure, output.clone());
        let _ = model.predict(&input);
        drop(model);
        guard.finish();
        rows.push((name, output));
    }
    let output = CapturedOutput::default();
    let (logger, guard) = peers::slog_async_logger(output.clone());
    let _ = peers::slog_predict(&logger, &bare, &input);
    drop((logger, guard));
    rows.push((SLOG_ASYNC, output));
    let output = CapturedOutput::default();
    let logger = peers::slog_sync_logger(output.clone());
    let _ = peers::slog_predict(&logger, &bare, &input);
    drop(logger);
    rows.push((SLOG_SYNC, output));
    let output = CapturedOutput::default();
    let (subscriber, guard) = peers::tracing_subscriber(output.clone());
    tracing::subscriber::with_default(subscriber, || {
        let _ = peers::traced_predict(&bare, &input);
    });
    drop(guard);
    rows.push((TRACING, output));
    rows.into_iter()
        .map(|(name, output)| {
            let records = output.records().unwrap_or_else(|error| {
                panic!("row {name:?} wrote a line that is not JSON: {error}")
            });
            // The profiled row writes a profile besides: the two records
            // compared are the prediction's.
            let records = records
                .into_iter()
                .filter(|record| record["message"] != logged_model::profile::PROFILE_MESSAGE)
                .collect();
            (name, records)
        })
        .collect()
}

/// Every row writes the same two records: the same keys, and the same
/// values but for those that differ by nature (the time, the id, the
/// duration, and the source location of the code that logs).
fn records_check() {
    const VARYING: [&str; 5] = [
        "@timestamp",
        "prediction_id",
        "event.duration",
        "log.origin.file.name",
        "log.origin.file.line",
    ];
    let rows = one_prediction_per_row();
    let (reference_name, reference) = &rows[0];
    assert_eq!(reference.len(), 2, "{reference_name:?} wrote two records");
    for (name, records) in &rows[1..] {
        assert_eq!(
            records.len(),
            2,
            "row {name:?} wrote {} records",
            records.len()
        );
        for (ours, theirs) in reference.iter().zip(records) {
            let mut our_keys: Vec<&String> = ours.keys().collect();
            let mut their_keys: Vec<&String> = theirs.keys().collect();
            our_keys.sort();
            their_keys.sort();
            assert_eq!(
                our_keys, their_keys,
                "row {name:?} writes other keys than {reference_name:?}"
            );
            for (key, value) in ours {
                if !VARYING.contains(&key.as_str()) {
                    assert_eq!(&theirs[key], value, "row {name:?}, key {key:?}");
                }
            }
        }
    }
}

/// Bursts the burst benchmark runs: many under `cargo bench`, two under
/// `cargo test` (criterion's `--bench` flag tells them apart).
fn bursts() -> usize {
    if std::env::args().any(|argument| argument == "--bench") {
        300
    } else {
        2
    }
}

fn main() {
    records_check();
    benches();
    Criterion::default().configure_from_args().final_summary();
    burst::run(bursts());
    burst::run_paced(burst::paced(bursts()));
    writer::run(if bursts() > 2 { 500_000 } else { 2_000 });
    otlp::run(bursts());
}

//! The writer benchmark: how many records the line drain's one writer
//! thread writes per second of its own CPU time (read from Linux's
//! `/proc/self/task/<id>/schedstat`, nanoseconds on the CPU), with two
//! producer threads logging into a channel that holds every record, so the
//! writer never waits for room and no record is dropped: into a sink (the
//! writer's own work) and into a file (the file system's work included,
//! which varies with the state of the page cache). Also printed: records per
//! second of wall-clock time, producers and final flush included.

use crate::{file_output, logged, report_losses};
use logged_model::Model;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The writer thread's name (as Linux keeps it: 15 bytes).
const WRITER: &str = "logged-model-wr";

/// Runs `predictions` predictions on each of two producer threads, into a
/// sink and into a file, and prints the writer's throughput.
pub fn run(predictions: usize) {
    let records = 2 * 2 * predictions;
    println!("writer/file: {records} records from two threads, one writer thread");
    measure(
        "logged-model, into a sink",
        predictions,
        crate::sink_output(),
    );
    measure("logged-model, into a file", predictions, file_output());
}

/// Runs the producers into `output` and prints the writer's figures.
fn measure(name: &str, predictions: usize, output: impl std::io::Write + Send + 'static) {
    let records = 2 * 2 * predictions;
    let (model, guard) = logged(
        // The largest channel `LOG_CHANNEL_SIZE` allows.
        |builder| builder.channel_size(records.min(1 << 20)),
        output,
    );
    // A thread names itself once it runs: look for a moment.
    let looked_since = Instant::now();
    let mut writer = newest_thread(WRITER);
    while writer.is_none() && looked_since.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(1));
        writer = newest_thread(WRITER);
    }
    let Some(writer) = writer else {
        println!("{name}: no thread named {WRITER} (not Linux?): skipped");
        return;
    };
    let model = Arc::new(model);
    let cpu_before = cpu_nanos(writer);
    let started = Instant::now();
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let model = Arc::clone(&model);
            std::thread::spawn(move || {
                let input = crate::workload::input();
                for _ in 0..predictions {
                    let _ = black_box(model.predict(&input)).ok();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().expect("a producer finished");
    }
    while guard.stats().written < records as u64 {
        std::thread::sleep(Duration::from_micros(200));
    }
    let cpu = cpu_nanos(writer)
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let wall = started.elapsed();
    drop(model);
    report_losses(name, guard.finish());
    print_row(name, records, cpu, wall);
}

fn print_row(name: &str, records: usize, cpu: Option<u64>, wall: Duration) {
    let per_cpu = match cpu {
        Some(cpu) if cpu > 0 => format!(
            "{:>6.2} M records/s of its CPU ({:.0} ns a record)",
            records as f64 / cpu as f64 * 1e3,
            cpu as f64 / records as f64
        ),
        _ => "its CPU time could not be read".to_owned(),
    };
    let per_wall = format!(
        "; {:.2} M/s of wall-clock time",
        records as f64 / wall.as_secs_f64() / 1e6
    );
    println!("{name:<40} {per_cpu}{per_wall}");
}

/// The id of the newest thread of this process named `name`.
fn newest_thread(name: &str) -> Option<u64> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|task| {
            let id = task.file_name().to_str()?.parse::<u64>().ok()?;
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            (comm.trim_end() == name).then_some(id)
        })
        .max()
}

/// Nanoseconds thread `id` of this process has been on a CPU.
fn cpu_nanos(id: u64) -> Option<u64> {
    let schedstat = std::fs::read_to_string(format!("/proc/self/task/{id}/schedstat")).ok()?;
    schedstat.split_whitespace().next()?.parse().ok()
}

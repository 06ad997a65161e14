//! The OTLP output (printed after the burst benchmark): the caller's time
//! per prediction, call by call, with the records going to a file, over
//! OTLP/HTTP to a receiver on loopback, and to both; then how many records
//! a second the writer thread sends over OTLP.
//!
//! The caller's work does not depend on the output (mapping, encoding,
//! gzip and the requests happen on the writer thread), so the comparison
//! paces the predictions the way a service sees them: bursts of
//! [`BURST`] predictions, then [`burst::IDLE`], which every output keeps up with.
//! A tight loop instead measures the writer: that is the second table.
//!
//! The receiver is this process's own thread (loopback, answers 200 to
//! every request after reading it whole), so that the figures are the
//! exporter's and not a collector's.

use crate::{bench_file, burst, file_output, logged, report_losses};
use logged_model::otlp::OtlpConfig;
use logged_model::{LogDestination, Model};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Instant;

/// Predictions per burst: 200 records, well inside the channel.
const BURST: usize = 100;
/// Records of the throughput run (a tenth under `cargo test`).
fn records(bursts: usize) -> usize {
    if bursts >= 100 { 40_000 } else { 4_000 }
}

/// A receiver on a loopback port that answers every request with 200.
fn receiver() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("a clone");
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                let mut body = Vec::new();
                loop {
                    let mut length = 0;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let header = line.trim_end().to_ascii_lowercase();
                        if header.is_empty() {
                            break;
                        }
                        if let Some(value) = header.strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    body.resize(length, 0);
                    if reader.read_exact(&mut body).is_err()
                        || writer
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                            .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}/v1/logs")
}

/// Runs `bursts` bursts of each output and prints the percentiles, then
/// the writer's throughput.
pub fn run(bursts: usize) {
    let endpoint = receiver();
    let input = crate::workload::input();
    println!(
        "otlp/loopback: {bursts} bursts of {BURST} predictions, {} ms idle after each; \
         caller's time per prediction",
        burst::IDLE.as_millis()
    );
    burst::print_header();
    let rows = [
        ("logged-model, to a file", LogDestination::Stdout),
        ("logged-model, OTLP to loopback", LogDestination::Otlp),
        ("logged-model, file and OTLP", LogDestination::Both),
    ];
    for (name, destination) in rows {
        let config = OtlpConfig::new(endpoint.clone());
        let (model, guard) = logged(
            |builder| builder.destination(destination).otlp(config),
            file_output(),
        );
        let histogram = burst::bursts_of_size(bursts, BURST, burst::IDLE, || {
            let _ = black_box(model.predict(black_box(&input)));
        });
        drop(model);
        report_losses(name, guard.finish());
        burst::print_row(name, &histogram);
    }
    let records = records(bursts);
    println!("otlp/throughput: {records} records from one thread, block mode, until all are out");
    for (name, destination) in rows {
        let config = OtlpConfig::new(endpoint.clone());
        let (model, guard) = logged(
            |builder| builder.destination(destination).otlp(config),
            file_output(),
        );
        let started = Instant::now();
        for _ in 0..records / 2 {
            let _ = black_box(model.predict(black_box(&input)));
        }
        drop(model);
        let stats = guard.finish();
        let elapsed = started.elapsed();
        report_losses(name, stats);
        println!(
            "{:<50} {:>10.0} records/s",
            name,
            records as f64 / elapsed.as_secs_f64()
        );
    }
    let _ = std::fs::remove_file(bench_file());
}

//! Building a logger leaks nothing: a program that builds loggers again and
//! again (tests, a configuration reload) stays at the same memory. Alone in
//! its test binary, so no other test's allocations blur the measurement.

use logged_model::{DrainKind, LoggerBuilder};

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux's /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    pages * 4096
}

#[test]
fn building_and_dropping_many_loggers_keeps_memory_flat() {
    // A long environment variable name: a copy of it per build would add
    // 64 KiB each time, 64 MiB over the loop.
    let name = format!("LOGGED_MODEL_{}", "X".repeat(64 << 10));
    let build = |drain| {
        let (logger, guard) = LoggerBuilder::new()
            .drain(drain)
            .env_vars([name.as_str(), "POD_NAME"])
            .build_with_writer(std::io::sink())
            .expect("valid configuration");
        slog::info!(logger, "Built.");
        drop(logger);
        guard.finish();
    };
    for drain in [DrainKind::Line, DrainKind::SlogAsync] {
        build(drain);
    }
    let before = resident_bytes();
    for round in 0..1000 {
        build(if round % 2 == 0 {
            DrainKind::Line
        } else {
            DrainKind::SlogAsync
        });
    }
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 16 << 20,
        "memory grew by {} KiB over 1000 builds",
        grown >> 10
    );
}

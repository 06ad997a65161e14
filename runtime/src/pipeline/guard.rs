//! [`LogGuard`]: keeps the writer thread alive and flushes it on the way out.

use crate::config::DrainKind;
use crate::pipeline::log_output::LogOutput;
use crate::pipeline::losses::{LogStats, LossCounters};
use std::sync::Arc;
use std::time::Duration;

/// Owns the writer thread. Dropping it writes every queued record, then
/// stops the thread. Keep it in `main` (or return it there): a guard parked
/// in a static is never dropped, and the records still queued are lost.
#[must_use = "dropping the guard at once stops the writer thread"]
pub struct LogGuard {
    drain: DrainKind,
    losses: Arc<LossCounters>,
    output: LogOutput,
    shut_down: Option<Box<dyn FnOnce() + Send>>,
}

impl LogGuard {
    /// A guard that runs `shut_down` once, when dropped or finished.
    pub(crate) fn new(
        drain: DrainKind,
        losses: Arc<LossCounters>,
        output: LogOutput,
        shut_down: impl FnOnce() + Send + 'static,
    ) -> Self {
        LogGuard {
            drain,
            losses,
            output,
            shut_down: Some(Box::new(shut_down)),
        }
    }

    /// Runs `first` before the pipeline shuts down (the profiler writes its
    /// last windows while the drain still takes records).
    pub(crate) fn before_shut_down(&mut self, first: impl FnOnce() + Send + 'static) {
        let then = self.shut_down.take();
        self.shut_down = Some(Box::new(move || {
            first();
            if let Some(then) = then {
                then();
            }
        }));
    }

    /// The drain the records go through, as configured.
    pub fn drain(&self) -> DrainKind {
        self.drain
    }

    /// A handle on the log's channel: whether the output is stalled (for a
    /// readiness probe), and room awaited by async code.
    pub fn output(&self) -> LogOutput {
        self.output.clone()
    }

    /// The losses counted so far.
    pub fn stats(&self) -> LogStats {
        LogStats::of(&self.losses)
    }
}

impl LogGuard {
    /// Writes every queued record, stops the writer thread, and returns the
    /// final losses.
    pub fn finish(mut self) -> LogStats {
        self.run_shut_down();
        self.stats()
    }

    /// Like [`finish`](Self::finish), but waits at most `timeout` for the
    /// output to take what is queued (a stalled output would hold it for
    /// ever). The records it could not write by then are counted in
    /// [`LogStats::unwritten_at_shutdown`] and reported on standard error;
    /// the writer thread is left to the process's exit.
    pub fn finish_within(mut self, timeout: Duration) -> LogStats {
        let Some(shut_down) = self.shut_down.take() else {
            return self.stats();
        };
        let (done, finished) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("logged-model-shutdown".to_owned())
            .spawn(move || {
                shut_down();
                let _ = done.send(());
            });
        let in_time = match spawned {
            Ok(_) => finished.recv_timeout(timeout).is_ok(),
            Err(_) => false,
        };
        if in_time {
            self.losses.report_remaining_on_stderr();
        } else {
            let output = &self.output;
            let unwritten = self.losses.abandon(|| output.waiting() as u64);
            eprintln!(
                "logged-model: {unwritten} log records could not be written before shutdown: \
                 the log output took none for {timeout:?}"
            );
            self.losses.report_remaining_on_stderr();
        }
        self.stats()
    }

    fn run_shut_down(&mut self) {
        if let Some(shut_down) = self.shut_down.take() {
            shut_down();
            // The writer thread has stopped: what it could not report in a
            // record goes to standard error.
            self.losses.report_remaining_on_stderr();
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.run_shut_down();
    }
}

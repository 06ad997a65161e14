//! The caller's side of the drain: level filter, time stamp, and the queue
//! to the writer thread with its overflow policy.

use super::writer::SlogJsonWriter;
use crate::config::ConfigError;
use crate::config::Overflow;
use crate::pipeline::guard::LogGuard;
use crate::pipeline::log_output::LogOutput;
use crate::pipeline::losses::LossCounters;
use crate::pipeline::parts::{DrainConfig, Pipeline, Shared};
use crate::pipeline::room::Channel;
use crate::pipeline::room::{Admission, Patience, Room};
use crate::record::head::{OwnedRecordHead, ProcessFields};
use crate::record::loss_report::LossKind;
use crate::record::unformattable;
use slog::{Drain, Level, Logger, Never, OwnedKV, OwnedKVList, Record};
use slog_async::{AsyncCore, AsyncError};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Queues records for the writer thread. Cloning shares the queue.
#[derive(Clone)]
pub(crate) struct SlogAsyncChannel {
    inner: Arc<ChannelInner>,
}

struct ChannelInner {
    core: AsyncCore,
    level: Level,
    /// Whether records can be dropped (`drop` mode, or a bounded wait), so
    /// that drop reports are due.
    may_drop: bool,
    process: Arc<ProcessFields>,
    /// The environment fields, for the drain's own reports.
    root_values: OwnedKVList,
    losses: Arc<LossCounters>,
    /// Records admitted and not yet written: the channel's capacity and
    /// overflow policy are kept here, not by slog-async.
    room: Arc<Room>,
}

impl SlogAsyncChannel {
    /// Stamps `record` and queues it. Returns whether it was queued.
    fn queue(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), AsyncError> {
        let head = OwnedRecordHead {
            time: SystemTime::now(),
            process: Arc::clone(&self.inner.process),
            logger_values: values.clone(),
        };
        let head = OwnedKVList::from(OwnedKV(head));
        // slog-async copies the record's values on this thread and panics
        // when one fails to serialize. The caller must never see that: the
        // record is replaced by one that says why it could not be logged.
        match catch_unwind(AssertUnwindSafe(|| self.inner.core.log(record, &head))) {
            Ok(queued) => queued,
            Err(panic) => {
                let reason = crate::record::unformattable::panic_message(&*panic);
                unformattable::with_replacement(record, reason, |replacement| {
                    self.inner.core.log(replacement, &head)
                })
            }
        }
    }

    /// Queues a report of the records dropped so far, if there are any and
    /// the channel has room; otherwise they stay counted for the next try.
    fn report_dropped(&self) {
        self.inner.losses.report(LossKind::Dropped, |report| {
            report.log_to(&Queue(self), &self.inner.root_values).is_ok()
        });
    }

    /// Delivers the last drop report before shutdown, waiting up to
    /// `patience` for the writer to make room.
    pub(crate) fn flush_drop_report(&self, patience: Duration) {
        let deadline = Instant::now() + patience;
        loop {
            self.report_dropped();
            let settled = self
                .inner
                .losses
                .dropped_unreported
                .load(std::sync::atomic::Ordering::Acquire)
                == 0;
            if settled || Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drain for SlogAsyncChannel {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), Never> {
        if !record.level().is_at_least(self.inner.level) {
            return Ok(());
        }
        if self.inner.may_drop {
            self.report_dropped();
        }
        let losses = &self.inner.losses;
        let (admission, _) = self.inner.room.admit(|| {}, |lost| losses.count_lost(lost));
        if admission != Admission::Admitted {
            return Ok(());
        }
        match self.queue(record, values) {
            Ok(()) => {}
            Err(AsyncError::Full) => self.inner.losses.count_dropped(),
            // The writer thread is gone: the guard was dropped.
            Err(AsyncError::Fatal(_)) => {
                self.inner.losses.count_after_shutdown();
            }
        }
        Ok(())
    }

    fn is_enabled(&self, level: Level) -> bool {
        level.is_at_least(self.inner.level)
    }
}

/// The queue without the level filter and the loss counting, so a report
/// always gets through when there is room and is never counted as a loss.
struct Queue<'a>(&'a SlogAsyncChannel);

impl Drain for Queue<'_> {
    type Ok = ();
    type Err = AsyncError;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), AsyncError> {
        if !self.0.inner.room.admit_now() {
            return Err(AsyncError::Full);
        }
        self.0.queue(record, values)
    }
}

/// How long shutdown waits for room to report the last dropped records.
const DROP_REPORT_PATIENCE: Duration = Duration::from_secs(5);

/// The root logger over slog-async and slog-json writing to `writer`, and
/// its guard.
pub(crate) fn build<W: Write + Send + 'static>(
    config: DrainConfig,
    shared: Shared,
    writer: crate::pipeline::output::Output<W>,
) -> Result<(Logger, Pipeline, LogGuard), ConfigError> {
    let patience = config.patience();
    let may_drop = patience != Patience::Unlimited;
    let room = Arc::new(Room::new(config.channel_size, patience));
    let slog_json_writer = SlogJsonWriter::new(
        writer,
        Arc::clone(&shared.losses),
        Arc::clone(&shared.process),
        shared.root_values.clone(),
        shared.caps,
        Arc::clone(&room),
    );
    let (core, async_guard) = AsyncCore::custom(slog_json_writer)
        // The room admits at most `channel_size` records (loss reports
        // included), so slog-async's own channel is never full.
        .chan_size(config.channel_size)
        .blocking(config.overflow == Overflow::Block)
        .thread_name("logged-model-writer".to_owned())
        .build_with_guard();
    let channel = SlogAsyncChannel {
        inner: Arc::new(ChannelInner {
            core,
            level: config.level,
            may_drop,
            process: shared.process,
            root_values: shared.root_values,
            losses: Arc::clone(&shared.losses),
            room: Arc::clone(&room),
        }),
    };
    let logger = Logger::root(channel.clone(), OwnedKV(config.env_fields));
    let output = LogOutput::new(
        Arc::clone(&room) as Arc<dyn Channel>,
        Arc::clone(&shared.losses),
    );
    let pipeline = Pipeline {
        link: None,
        output: output.clone(),
    };
    let guard = LogGuard::new(
        crate::config::DrainKind::SlogAsync,
        shared.losses,
        output,
        move || {
            if may_drop {
                channel.flush_drop_report(DROP_REPORT_PATIENCE);
            }
            // Sends the finish message behind every queued record and joins.
            drop(async_guard);
            room.close();
        },
    );
    Ok((logger, pipeline, guard))
}

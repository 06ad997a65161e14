//! [`LogOutput`]: a handle on the log's channel, for what a service needs
//! when the output stalls (a full disk, a log collector that falls behind):
//! a readiness probe that tells the truth, and async code that waits for
//! room by awaiting instead of blocking its executor's thread.

use crate::pipeline::losses::{LogStats, LossCounters};
use crate::pipeline::room::{Channel, OutputState, Reservation, RoomSignals, Waiter};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A handle on the log's channel, from [`LogGuard::output`](crate::LogGuard::output).
/// Cloning it is cheap.
///
/// ```
/// use logged_model::{LoggerBuilder, OutputState};
///
/// let (logger, guard) = LoggerBuilder::new().build_with_writer(std::io::sink())?;
/// let output = guard.output();
/// assert_eq!(output.state(), OutputState::Taking);
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// block_on(async {
///     // Wait (by awaiting) for room, then log into it: no thread blocks.
///     let mut room = output.room().await;
///     room.enter(|| logged_model::slog::info!(logger, "Request handled."));
/// });
/// # Ok::<(), logged_model::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct LogOutput {
    channel: Arc<dyn Channel>,
    losses: Arc<LossCounters>,
}

impl LogOutput {
    pub(crate) fn new(channel: Arc<dyn Channel>, losses: Arc<LossCounters>) -> Self {
        LogOutput { channel, losses }
    }

    /// Records written and lost so far, as [`LogGuard::stats`](crate::LogGuard::stats)
    /// says: for a metrics endpoint, which has no guard.
    pub fn stats(&self) -> LogStats {
        LogStats::of(&self.losses)
    }

    /// Whether the output takes records; `Stalled` once records have waited
    /// half a second with nothing written while callers wait for room (or
    /// the channel is full). A drained output is `Taking` however long it
    /// has been idle, and a caller that gave up or was cancelled no longer
    /// counts. Made for readiness probes: a stalled pod should get no
    /// traffic, not be restarted.
    pub fn state(&self) -> OutputState {
        self.channel.state()
    }

    /// Records logged and not yet written: in the channel, or taken by the
    /// writer thread and not yet taken by the output.
    pub fn waiting(&self) -> usize {
        self.channel.waiting()
    }

    /// Whether the output is stalled (see [`state`](Self::state)).
    pub fn is_stalled(&self) -> bool {
        matches!(self.state(), OutputState::Stalled { .. })
    }

    /// Waits, by awaiting, until the channel has room for one record, and
    /// holds it: records logged inside [`RoomPermit::enter`] take it without
    /// waiting. Dropping the permit gives back what was not used. In `drop`
    /// mode it is ready at once (and holds nothing: a full channel drops).
    pub fn room(&self) -> RoomFuture<'_> {
        self.room_for(1)
    }

    /// Runs `log` so that its records never wait for room on this thread:
    /// without room they are dropped and counted, as in `drop` mode.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn without_waiting<R>(&self, log: impl FnOnce() -> R) -> R {
        struct Entered<'a>(&'a RoomSignals);
        impl Drop for Entered<'_> {
            fn drop(&mut self) {
                self.0.set_waited_out(false);
            }
        }
        let signals = self.channel.signals();
        signals.set_waited_out(true);
        let _entered = Entered(signals);
        log()
    }

    /// Like [`room`](Self::room), for `count` records.
    pub fn room_for(&self, count: usize) -> RoomFuture<'_> {
        RoomFuture {
            output: self,
            count,
            waiter: Waiter::default(),
        }
    }
}

impl std::fmt::Debug for LogOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogOutput")
            .field("state", &self.state())
            .field("waiting", &self.waiting())
            .finish()
    }
}

/// The future of [`LogOutput::room`].
#[must_use = "futures do nothing unless awaited"]
pub struct RoomFuture<'a> {
    output: &'a LogOutput,
    count: usize,
    /// Its place among the callers waiting for room, if it waits.
    waiter: Waiter,
}

impl Drop for RoomFuture<'_> {
    /// A future dropped while it waits (a cancelled request, a timeout) is
    /// no longer counted as waiting.
    fn drop(&mut self) {
        let signals = self.output.channel.signals();
        self.waiter.leave(signals);
    }
}

impl Future for RoomFuture<'_> {
    type Output = RoomPermit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RoomPermit> {
        let this = &mut *self;
        let channel = &this.output.channel;
        match channel.try_reserve(this.count, &mut this.waiter, cx.waker()) {
            Reservation::Held => Poll::Ready(RoomPermit {
                channel: Arc::clone(channel),
                held: this.count,
                waited_out: false,
            }),
            Reservation::NotNeeded => Poll::Ready(RoomPermit {
                channel: Arc::clone(channel),
                held: 0,
                waited_out: false,
            }),
            Reservation::Expired => Poll::Ready(RoomPermit {
                channel: Arc::clone(channel),
                held: 0,
                waited_out: true,
            }),
            Reservation::Wait => Poll::Pending,
        }
    }
}

/// Room held in the log's channel: records logged inside
/// [`enter`](Self::enter) take it. It may be kept across an `.await` (it is
/// `Send`); dropping it gives back what was not used.
#[must_use = "the room is given back when the permit is dropped"]
pub struct RoomPermit {
    channel: Arc<dyn Channel>,
    /// Slots still held in the channel.
    held: usize,
    /// The bounded wait ran out: records logged inside `enter` are dropped
    /// at once (and counted) if there is no room, rather than wait again.
    waited_out: bool,
}

impl RoomPermit {
    /// Runs `log` on this thread with the held room: the records it logs
    /// take the room instead of waiting for it. What is not used stays held.
    pub fn enter<R>(&mut self, log: impl FnOnce() -> R) -> R {
        /// Takes back what `log` did not use, also when it panics.
        struct Entered<'a>(&'a mut RoomPermit);
        impl Drop for Entered<'_> {
            fn drop(&mut self) {
                let signals = self.0.channel.signals();
                self.0.held = signals.drop_reservations(self.0.held);
                if self.0.waited_out {
                    signals.set_waited_out(false);
                }
            }
        }
        self.channel.signals().hold_reservations(self.held);
        if self.waited_out {
            self.channel.signals().set_waited_out(true);
        }
        let _entered = Entered(self);
        log()
    }

    /// Slots still held.
    pub fn held(&self) -> usize {
        self.held
    }
}

impl Drop for RoomPermit {
    fn drop(&mut self) {
        if self.held > 0 {
            self.channel.unreserve(self.held);
        }
    }
}

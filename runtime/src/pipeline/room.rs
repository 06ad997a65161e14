//! Room in a drain's channel: who may add a record, who waits, and whether
//! the output is stalled. Both drains keep an [`Occupancy`] under their own
//! lock and share the logic here: admission (a record enters while the
//! channel has room, or with a reservation its thread holds), reservations
//! made by [`LogOutput::room`](crate::LogOutput::room) for async callers, the
//! wakers of those callers (each counted while it waits, and no longer once
//! it has room, gave up or was dropped), and since when records have waited
//! with no progress, which makes the output's [`OutputState`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// Whether the output takes records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputState {
    /// Records are being written (or there are none to write).
    Taking,
    /// Records wait, callers wait for room (or the channel is full), and the
    /// writer has taken nothing for a while.
    Stalled {
        /// Records waiting in the channel.
        waiting: usize,
        /// How long records have waited with no progress.
        since: Duration,
    },
}

/// What `Channel::try_reserve` did.
pub(crate) enum Reservation {
    /// The slots are held for the caller's thread.
    Held,
    /// The caller goes on without a reservation (drop mode, or closed).
    NotNeeded,
    /// No room: the waker was registered.
    Wait,
    /// No room, and the bounded wait (`LOG_BLOCK_TIMEOUT_MS`) is over: the
    /// caller goes on, and its records are dropped and counted if there is
    /// still no room.
    Expired,
}

/// The channel as [`LogOutput`](crate::LogOutput) sees it; implemented by both drains.
pub(crate) trait Channel: Send + Sync {
    /// The output's state now.
    fn state(&self) -> OutputState;
    /// Reserves `count` slots, or registers `waiter` (with `waker`, to be
    /// woken when room is made, under the drain's lock so no wake-up is
    /// missed). A waiter stays counted until a call that does not answer
    /// [`Reservation::Wait`], or until it [leaves](Waiter::leave).
    fn try_reserve(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation;
    /// Gives back slots reserved and not used.
    fn unreserve(&self, count: usize);
    /// Records logged and not yet written: in the channel, or taken by the
    /// writer thread and not yet taken by the output.
    fn waiting(&self) -> usize;
    /// The signals shared with the writer.
    fn signals(&self) -> &RoomSignals;
}

/// After records have waited this long with no progress, while callers wait
/// for room or the channel is full, the output counts as stalled.
pub(crate) const STALL_AFTER: Duration = Duration::from_millis(500);

/// How full a drain's channel is; kept under the drain's own lock.
#[derive(Default)]
pub(crate) struct Occupancy {
    /// Records in the channel.
    pub(crate) records: usize,
    /// Slots held for callers that awaited room.
    reserved: usize,
    /// Callers blocked waiting for room.
    pub(crate) blocked_callers: usize,
}

impl Occupancy {
    /// Lets one record in if the channel has room for it, counting it; a
    /// thread holding a reservation of `signals`' drain uses it.
    #[inline]
    pub(crate) fn admit(&mut self, capacity: usize, signals: &RoomSignals) -> bool {
        if self.reserved > 0 && signals.take_reservation() {
            self.reserved -= 1;
            self.records += 1;
            return true;
        }
        if self.records + self.reserved < capacity {
            self.records += 1;
            true
        } else {
            false
        }
    }

    /// Holds `count` slots, if there is room for them.
    pub(crate) fn reserve(&mut self, count: usize, capacity: usize) -> bool {
        if self.records + self.reserved + count <= capacity.max(count) {
            self.reserved += count;
            true
        } else {
            false
        }
    }

    /// Gives back `count` slots reserved and not used.
    pub(crate) fn unreserve(&mut self, count: usize) {
        self.reserved = self.reserved.saturating_sub(count);
    }

    /// Whether a record without a reservation would have to wait.
    pub(crate) fn is_full(&self, capacity: usize) -> bool {
        self.records + self.reserved >= capacity
    }
}

thread_local! {
    /// Reservations this thread holds: (channel's id, count).
    static RESERVATIONS: RefCell<Vec<(u64, usize)>> = const { RefCell::new(Vec::new()) };
    /// Drains whose bounded wait this thread has used up (an async caller
    /// that awaited room in vain): its records there are dropped at once.
    static WAITED_OUT: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// What a drain's callers and writer share outside its lock.
pub(crate) struct RoomSignals {
    /// Names this channel among a thread's reservations: one number per
    /// channel made in the process, never reused.
    id: u64,
    /// The wakers of async callers waiting for room, each under the ticket
    /// of its future, so that a future dropped while waiting takes its own
    /// away.
    wakers: Mutex<Vec<(u64, Waker)>>,
    next_ticket: AtomicU64,
    /// Async callers waiting for room: futures that found none and have
    /// neither got it, nor given up, nor been dropped.
    async_waiters: AtomicUsize,
    /// Wakes async callers whose bounded wait is over (a thread started on
    /// first use).
    timer: Mutex<Option<std::sync::mpsc::Sender<(Instant, Waker)>>>,
    epoch: Instant,
    /// One more than the nanoseconds after `epoch` when records were first
    /// seen waiting with no progress since; 0 while none are.
    pressure_since: AtomicU64,
}

impl Default for RoomSignals {
    fn default() -> Self {
        static CHANNELS: AtomicU64 = AtomicU64::new(0);
        RoomSignals {
            id: CHANNELS.fetch_add(1, Ordering::Relaxed),
            wakers: Mutex::new(Vec::new()),
            next_ticket: AtomicU64::new(0),
            async_waiters: AtomicUsize::new(0),
            timer: Mutex::new(None),
            epoch: Instant::now(),
            pressure_since: AtomicU64::new(0),
        }
    }
}

impl RoomSignals {
    /// This channel's id in the thread's reservations.
    fn id(&self) -> u64 {
        self.id
    }

    /// Uses one of this thread's reservations of this drain, if it has one.
    fn take_reservation(&self) -> bool {
        let id = self.id();
        RESERVATIONS.with(|held| {
            let mut held = held.borrow_mut();
            match held.iter_mut().position(|(drain, _)| *drain == id) {
                Some(index) => {
                    held[index].1 -= 1;
                    if held[index].1 == 0 {
                        held.swap_remove(index);
                    }
                    true
                }
                None => false,
            }
        })
    }

    /// Records that this thread holds `count` more reservations.
    pub(crate) fn hold_reservations(&self, count: usize) {
        let id = self.id();
        RESERVATIONS.with(|held| {
            let mut held = held.borrow_mut();
            match held.iter_mut().find(|(drain, _)| *drain == id) {
                Some(entry) => entry.1 += count,
                None => held.push((id, count)),
            }
        });
    }

    /// Takes back up to `count` of this thread's unused reservations and
    /// says how many there were.
    pub(crate) fn drop_reservations(&self, count: usize) -> usize {
        let id = self.id();
        RESERVATIONS.with(|held| {
            let mut held = held.borrow_mut();
            match held.iter().position(|(drain, _)| *drain == id) {
                Some(index) => {
                    let dropped = held[index].1.min(count);
                    held[index].1 -= dropped;
                    if held[index].1 == 0 {
                        held.swap_remove(index);
                    }
                    dropped
                }
                None => 0,
            }
        })
    }

    /// Registers an async caller to wake when room is made; the first time,
    /// gives it a ticket and counts it as waiting. Called under the drain's
    /// lock, so the writer's next progress finds the waker.
    pub(crate) fn wait_for_room(&self, ticket: &mut Option<u64>, waker: &Waker) {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        let id = match *ticket {
            Some(id) => id,
            None => {
                let id = self.next_ticket.fetch_add(1, Ordering::Relaxed);
                *ticket = Some(id);
                self.async_waiters.fetch_add(1, Ordering::AcqRel);
                id
            }
        };
        match wakers.iter_mut().find(|(known, _)| *known == id) {
            Some((_, known)) => known.clone_from(waker),
            None => wakers.push((id, waker.clone())),
        }
    }

    /// An async caller stops waiting: it got room, gave up, or was dropped.
    /// Its waker goes, and it is no longer counted.
    pub(crate) fn stop_waiting(&self, ticket: &mut Option<u64>) {
        if let Some(id) = ticket.take() {
            let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
            wakers.retain(|(known, _)| *known != id);
            self.async_waiters.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Wakes `waker` at `deadline`, the end of a bounded wait.
    pub(crate) fn wake_at(&self, deadline: Instant, waker: &Waker) {
        let mut timer = self.timer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut entry = (deadline, waker.clone());
        if let Some(sender) = timer.as_ref() {
            match sender.send(entry) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(unsent)) => entry = unsent,
            }
        }
        let (sender, receiver) = std::sync::mpsc::channel::<(Instant, Waker)>();
        let started = std::thread::Builder::new()
            .name("logged-model-room-timer".to_owned())
            .spawn(move || wake_when_due(&receiver));
        match started {
            Ok(_) => {
                let _ = sender.send(entry);
                *timer = Some(sender);
            }
            // No thread: the caller is woken now, and finds its wait over
            // at its next poll or the one after.
            Err(_) => entry.1.wake(),
        }
    }

    /// Marks (or unmarks) this thread as having waited out its bounded wait
    /// on this drain.
    pub(crate) fn set_waited_out(&self, waited_out: bool) {
        let id = self.id();
        WAITED_OUT.with(|drains| {
            let mut drains = drains.borrow_mut();
            if waited_out {
                drains.push(id);
            } else if let Some(index) = drains.iter().position(|drain| *drain == id) {
                drains.swap_remove(index);
            }
        });
    }

    fn waited_out(&self) -> bool {
        let id = self.id();
        WAITED_OUT.with(|drains| drains.borrow().contains(&id))
    }

    /// How many async callers wait for room.
    pub(crate) fn async_waiters(&self) -> usize {
        self.async_waiters.load(Ordering::Acquire)
    }

    /// Records are waiting and cannot move on: notes when that began, if
    /// it is not noted yet, and says how long ago it was.
    fn under_pressure(&self) -> Duration {
        let now = self.epoch.elapsed();
        let stamp = u64::try_from(now.as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1);
        let began = match self.pressure_since.compare_exchange(
            0,
            stamp,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => stamp,
            Err(earlier) => earlier,
        };
        now.saturating_sub(Duration::from_nanos(began - 1))
    }

    /// The writer made room: whatever waited has moved. Called under the
    /// drain's lock, so that a caller that finds the channel full again
    /// notes its pressure after this.
    pub(crate) fn relieved(&self) {
        self.pressure_since.store(0, Ordering::Release);
    }

    /// Wakes the async callers waiting for room (after [`relieved`](Self::relieved),
    /// outside the drain's lock).
    pub(crate) fn wake_waiters(&self) {
        if self.async_waiters() == 0 {
            return;
        }
        let wakers =
            std::mem::take(&mut *self.wakers.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, waker) in wakers {
            waker.wake();
        }
    }
}

/// The timer thread: wakes each waker when its deadline comes; ends when
/// its drain is gone.
fn wake_when_due(receiver: &std::sync::mpsc::Receiver<(Instant, Waker)>) {
    let mut due: Vec<(Instant, Waker)> = Vec::new();
    loop {
        let now = Instant::now();
        due.retain(|(deadline, waker)| {
            if *deadline <= now {
                waker.wake_by_ref();
                false
            } else {
                true
            }
        });
        let next = due.iter().map(|(deadline, _)| *deadline).min();
        let received = match next {
            Some(next) => receiver.recv_timeout(next.saturating_duration_since(now)),
            None => receiver
                .recv()
                .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(entry) => due.push(entry),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_lets_its_thread_in_and_holds_the_slot_from_others() {
        let signals = std::sync::Arc::new(RoomSignals::default());
        let occupancy = std::sync::Arc::new(Mutex::new(Occupancy::default()));
        let lock = |o: &Mutex<Occupancy>| o.lock().unwrap_or_else(PoisonError::into_inner).records;
        assert!(lock_reserve(&occupancy, 1, 2));
        signals.hold_reservations(1);
        let other = {
            let (signals, occupancy) = (
                std::sync::Arc::clone(&signals),
                std::sync::Arc::clone(&occupancy),
            );
            std::thread::spawn(move || {
                let mut occupancy = occupancy.lock().unwrap_or_else(PoisonError::into_inner);
                let first = occupancy.admit(2, &signals);
                let second = occupancy.admit(2, &signals);
                (first, second)
            })
        };
        let (first, second) = other.join().unwrap_or((false, true));
        assert!(first, "another thread gets the free slot");
        assert!(!second, "but not the reserved one");
        let mut guard = occupancy.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(guard.admit(2, &signals), "the reserving thread gets it");
        drop(guard);
        assert_eq!(lock(&occupancy), 2);
    }

    fn lock_reserve(occupancy: &Mutex<Occupancy>, count: usize, capacity: usize) -> bool {
        occupancy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reserve(count, capacity)
    }

    use crate::pipeline::log_output::{LogOutput, RoomFuture};
    use crate::pipeline::losses::LossCounters;
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    /// A little longer than a stall takes to show.
    const PAST_STALL: Duration = Duration::from_millis(STALL_AFTER.as_millis() as u64 + 100);

    fn counted(capacity: usize, patience: Patience) -> (Arc<CountedRoom>, LogOutput) {
        let room = Arc::new(CountedRoom::new(capacity, patience));
        let output = LogOutput::new(
            Arc::clone(&room) as Arc<dyn Channel>,
            Arc::new(LossCounters::default()),
        );
        (room, output)
    }

    fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        std::pin::Pin::new(future).poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn records_waiting_behind_an_async_caller_with_no_progress_are_a_stall() {
        let (room, output) = counted(2, Patience::Unlimited);
        assert_eq!(room.admit(), Admission::Admitted);
        assert_eq!(room.admit(), Admission::Admitted);
        let mut waiting = output.room();
        assert!(poll_once(&mut waiting).is_pending());
        assert_eq!(
            output.state(),
            OutputState::Taking,
            "not yet: it just began"
        );
        std::thread::sleep(PAST_STALL);
        match output.state() {
            OutputState::Stalled { waiting, since } => {
                assert_eq!(waiting, 2);
                assert!(since >= STALL_AFTER, "{since:?}");
            }
            OutputState::Taking => panic!("two records and a caller waited with no progress"),
        }
    }

    /// A full channel of two, an async caller waiting for two slots, and
    /// no progress for the stall interval; then the writer drains it, and
    /// `after_the_drain` goes on.
    fn stalled_then_drained(
        after_the_drain: impl FnOnce(&CountedRoom, &LogOutput, RoomFuture<'_>),
    ) {
        let (room, output) = counted(2, Patience::Unlimited);
        assert_eq!(room.admit(), Admission::Admitted);
        assert_eq!(room.admit(), Admission::Admitted);
        let mut waiting = output.room_for(2);
        assert!(poll_once(&mut waiting).is_pending());
        std::thread::sleep(PAST_STALL);
        assert!(output.is_stalled());
        room.written(2);
        assert_eq!(output.state(), OutputState::Taking, "drained");
        after_the_drain(&room, &output, waiting);
    }

    #[test]
    fn a_drained_idle_channel_is_taking_after_a_stall_with_an_async_waiter() {
        stalled_then_drained(|room, output, mut waiting| {
            let Poll::Ready(permit) = poll_once(&mut waiting) else {
                panic!("the waiter gets its room once the channel drained");
            };
            drop(permit);
            drop(waiting);
            std::thread::sleep(PAST_STALL);
            assert_eq!(output.state(), OutputState::Taking, "idle, long after");
            assert_eq!(room.room.signals.async_waiters(), 0);
        });
    }

    #[test]
    fn a_drained_idle_channel_is_taking_while_a_waiter_is_still_pending() {
        stalled_then_drained(|_, output, waiting| {
            std::thread::sleep(PAST_STALL);
            assert_eq!(output.state(), OutputState::Taking, "no record waits");
            drop(waiting);
        });
    }

    #[test]
    fn a_cancelled_waiter_is_no_longer_counted() {
        // Room for four; three records wait; a caller needs two slots.
        let (room, output) = counted(4, Patience::Unlimited);
        for _ in 0..3 {
            assert_eq!(room.admit(), Admission::Admitted);
        }
        let mut waiting = output.room_for(2);
        assert!(poll_once(&mut waiting).is_pending());
        assert_eq!(room.room.signals.async_waiters(), 1);
        std::thread::sleep(PAST_STALL);
        assert!(
            output.is_stalled(),
            "a caller waits behind records that do not move"
        );
        drop(waiting);
        assert_eq!(room.room.signals.async_waiters(), 0);
        assert!(
            room.room
                .signals
                .wakers
                .lock()
                .map(|w| w.is_empty())
                .unwrap_or(false)
        );
        assert_eq!(
            output.state(),
            OutputState::Taking,
            "no one waits and the channel is not full"
        );
    }

    #[test]
    fn an_async_caller_whose_bounded_wait_ran_out_is_no_longer_counted() {
        let (room, output) = counted(1, Patience::Limited(Duration::from_millis(50)));
        assert_eq!(room.admit(), Admission::Admitted);
        let mut waiting = output.room();
        assert!(poll_once(&mut waiting).is_pending());
        std::thread::sleep(Duration::from_millis(60));
        let Poll::Ready(permit) = poll_once(&mut waiting) else {
            panic!("the bounded wait is over");
        };
        assert_eq!(permit.held(), 0);
        assert_eq!(room.room.signals.async_waiters(), 0);
        room.written(1);
        std::thread::sleep(PAST_STALL);
        assert_eq!(output.state(), OutputState::Taking);
        drop(waiting);
    }

    #[test]
    fn a_thread_that_gave_up_waiting_is_no_longer_counted() {
        let (room, output) = counted(1, Patience::Limited(Duration::from_millis(50)));
        assert_eq!(room.admit(), Admission::Admitted);
        let other = {
            let room = Arc::clone(&room);
            std::thread::spawn(move || room.admit())
        };
        assert_eq!(other.join().ok(), Some(Admission::Dropped));
        assert_eq!(room.lock().occupancy.blocked_callers, 0);
        room.written(1);
        std::thread::sleep(PAST_STALL);
        assert_eq!(output.state(), OutputState::Taking);
    }

    #[test]
    fn a_full_channel_is_stalled_only_while_nothing_is_taken() {
        let (room, output) = counted(1, Patience::Unlimited);
        assert_eq!(room.admit(), Admission::Admitted);
        assert_eq!(output.state(), OutputState::Taking, "first seen full now");
        std::thread::sleep(PAST_STALL);
        assert!(output.is_stalled(), "full, and nothing taken since");
        room.written(1);
        assert_eq!(room.admit(), Admission::Admitted);
        assert_eq!(
            output.state(),
            OutputState::Taking,
            "full again, but the writer took a record just now"
        );
    }

    #[test]
    fn an_unused_reservation_is_given_back() {
        let signals = RoomSignals::default();
        let mut occupancy = Occupancy::default();
        assert!(occupancy.reserve(2, 2));
        signals.hold_reservations(2);
        assert_eq!(signals.drop_reservations(2), 2);
        occupancy.unreserve(2);
        assert!(!occupancy.is_full(2));
    }
}

/// How long a caller may wait for room: never (`drop`), without limit
/// (`block`), or up to a limit (`block` with `LOG_BLOCK_TIMEOUT_MS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Patience {
    None,
    Unlimited,
    Limited(Duration),
}

/// Whether a record got into the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Admitted,
    /// No room in time: the record is dropped, and counted by the caller.
    Dropped,
    /// The drain is shut down.
    Closed,
}

/// An async caller awaiting room: when it began to wait, and its ticket
/// among the waiters while it is counted as one.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    since: Option<Instant>,
    ticket: Option<u64>,
}

impl Waiter {
    /// It goes away (its future is dropped): no longer counted as waiting.
    pub(crate) fn leave(&mut self, signals: &RoomSignals) {
        signals.stop_waiting(&mut self.ticket);
    }
}

/// A drain's lock, as the admission logic needs it.
pub(crate) trait RoomLock {
    fn occupancy(&mut self) -> &mut Occupancy;
    fn is_closed(&self) -> bool;
}

/// A channel's room: its capacity, how long callers wait, and the signals
/// its callers and writer share. Each drain holds one, and its occupancy
/// under its own lock.
pub(crate) struct Room {
    pub(crate) capacity: usize,
    pub(crate) patience: Patience,
    pub(crate) signals: RoomSignals,
}

impl Room {
    pub(crate) fn new(capacity: usize, patience: Patience) -> Self {
        Room {
            capacity,
            patience,
            signals: RoomSignals::default(),
        }
    }

    /// Lets one record in, waiting on `not_full` as the patience allows;
    /// `wake_writer` is called before each wait.
    pub(crate) fn admit<'a, T: RoomLock>(
        &self,
        mut guard: MutexGuard<'a, T>,
        not_full: &Condvar,
        wake_writer: impl Fn(&T),
    ) -> (MutexGuard<'a, T>, Admission) {
        let mut deadline = None;
        loop {
            if guard.is_closed() {
                return (guard, Admission::Closed);
            }
            if guard.occupancy().admit(self.capacity, &self.signals) {
                return (guard, Admission::Admitted);
            }
            if guard.occupancy().records > 0 {
                self.signals.under_pressure();
            }
            // A caller that already waited out its bounded wait (awaiting
            // room), or that must not wait (a `tracing` event while stalled),
            // does not wait on this thread.
            let patience = if self.signals.waited_out() {
                Patience::None
            } else {
                self.patience
            };
            let limit = match patience {
                Patience::None => return (guard, Admission::Dropped),
                Patience::Unlimited => None,
                Patience::Limited(timeout) => {
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return (guard, Admission::Dropped);
                    }
                    Some(left)
                }
            };
            wake_writer(&guard);
            guard.occupancy().blocked_callers += 1;
            guard = match limit {
                Some(left) => {
                    not_full
                        .wait_timeout(guard, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => not_full.wait(guard).unwrap_or_else(PoisonError::into_inner),
            };
            guard.occupancy().blocked_callers -= 1;
        }
    }

    /// The output's state, from the drain's lock: stalled when records are
    /// in the channel, callers wait for room (or the channel is full), and
    /// the writer has taken nothing for [`STALL_AFTER`]. A drained channel
    /// is taking records however long it has been idle, and a caller that
    /// gave up or went away no longer counts as waiting.
    pub(crate) fn state<T: RoomLock>(&self, guard: &mut T) -> OutputState {
        if guard.is_closed() {
            return OutputState::Taking;
        }
        let occupancy = guard.occupancy();
        let waiting = occupancy.blocked_callers > 0 || self.signals.async_waiters() > 0;
        if occupancy.records == 0 || !(waiting || occupancy.is_full(self.capacity)) {
            return OutputState::Taking;
        }
        let since = self.signals.under_pressure();
        if since >= STALL_AFTER {
            OutputState::Stalled {
                waiting: occupancy.records,
                since,
            }
        } else {
            OutputState::Taking
        }
    }

    /// Reserves `count` slots for an async caller, or registers its waker
    /// (under the drain's lock, so the writer's next progress wakes it).
    pub(crate) fn reserve<T: RoomLock>(
        &self,
        guard: &mut T,
        count: usize,
        waiter: &mut Waiter,
        waker: &Waker,
    ) -> Reservation {
        let reservation = self.try_reserve(guard, count, waiter, waker);
        if !matches!(reservation, Reservation::Wait) {
            self.signals.stop_waiting(&mut waiter.ticket);
        }
        reservation
    }

    fn try_reserve<T: RoomLock>(
        &self,
        guard: &mut T,
        count: usize,
        waiter: &mut Waiter,
        waker: &Waker,
    ) -> Reservation {
        if self.patience == Patience::None || guard.is_closed() {
            return Reservation::NotNeeded;
        }
        if guard.occupancy().reserve(count, self.capacity) {
            return Reservation::Held;
        }
        let waiting_since = *waiter.since.get_or_insert_with(Instant::now);
        if let Patience::Limited(timeout) = self.patience {
            let deadline = waiting_since + timeout;
            if Instant::now() >= deadline {
                // The bounded wait is over: the caller goes on, and its
                // records are dropped (and counted) if there is still no room.
                return Reservation::Expired;
            }
            self.signals.wake_at(deadline, waker);
        }
        if guard.occupancy().records > 0 {
            self.signals.under_pressure();
        }
        self.signals.wait_for_room(&mut waiter.ticket, waker);
        Reservation::Wait
    }
}

/// Room for a drain whose channel keeps no count of its own (slog-async's):
/// records admitted and not yet written, under a lock of its own.
pub(crate) struct CountedRoom {
    state: Mutex<CountedState>,
    not_full: Condvar,
    room: Room,
}

struct CountedState {
    occupancy: Occupancy,
    closed: bool,
}

impl RoomLock for CountedState {
    fn occupancy(&mut self) -> &mut Occupancy {
        &mut self.occupancy
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

impl CountedRoom {
    pub(crate) fn new(capacity: usize, patience: Patience) -> Self {
        CountedRoom {
            state: Mutex::new(CountedState {
                occupancy: Occupancy::default(),
                closed: false,
            }),
            not_full: Condvar::new(),
            room: Room::new(capacity, patience),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CountedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets one record in, as the patience allows.
    pub(crate) fn admit(&self) -> Admission {
        self.room.admit(self.lock(), &self.not_full, |_| {}).1
    }

    /// Lets one record in only if there is room now (a loss report, which
    /// waits for no one: without room it stays counted for the next try).
    pub(crate) fn admit_now(&self) -> bool {
        let mut state = self.lock();
        !state.closed
            && state
                .occupancy
                .admit(self.room.capacity, &self.room.signals)
    }

    /// The writer handled `count` records: there is room again.
    pub(crate) fn written(&self, count: usize) {
        let mut state = self.lock();
        state.occupancy.records = state.occupancy.records.saturating_sub(count);
        self.room.signals.relieved();
        let blocked = state.occupancy.blocked_callers > 0;
        drop(state);
        if blocked {
            self.not_full.notify_all();
        }
        self.room.signals.wake_waiters();
    }

    /// No more records: waiters go on, and are counted as late.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.not_full.notify_all();
        self.room.signals.wake_waiters();
    }
}

impl Channel for CountedRoom {
    fn state(&self) -> OutputState {
        self.room.state(&mut *self.lock())
    }

    fn try_reserve(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation {
        self.room.reserve(&mut *self.lock(), count, waiter, waker)
    }

    fn unreserve(&self, count: usize) {
        self.lock().occupancy.unreserve(count);
        self.not_full.notify_all();
    }

    fn waiting(&self) -> usize {
        self.lock().occupancy.records
    }

    fn signals(&self) -> &RoomSignals {
        &self.room.signals
    }
}

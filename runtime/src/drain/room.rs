//! Room in a drain's channel: who may add a record, who waits, and whether
//! the output is stalled. Both drains keep an [`Occupancy`] under their own
//! lock and share the logic here: admission (a record enters while the
//! channel has room, or with a reservation its thread holds), reservations
//! made by [`LogOutput::room`](crate::LogOutput::room) for async callers, the
//! wakers of those callers, and the time of the writer's last progress.

use crate::log_output::{OutputState, Reservation};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// After this long without progress while the channel is full, the output
/// counts as stalled.
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
    /// Reservations this thread holds: (drain's id, count).
    static RESERVATIONS: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
    /// Drains whose bounded wait this thread has used up (an async caller
    /// that awaited room in vain): its records there are dropped at once.
    static WAITED_OUT: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// What a drain's callers and writer share outside its lock.
pub(crate) struct RoomSignals {
    /// Async callers waiting for room.
    wakers: Mutex<Vec<Waker>>,
    /// Whether `wakers` may hold any: the writer looks at it without the lock.
    has_wakers: std::sync::atomic::AtomicBool,
    /// Wakes async callers whose bounded wait is over (a thread started on
    /// first use).
    timer: Mutex<Option<std::sync::mpsc::Sender<(Instant, Waker)>>>,
    epoch: Instant,
    /// Nanoseconds after `epoch` of the writer's last progress.
    last_progress: AtomicU64,
}

impl Default for RoomSignals {
    fn default() -> Self {
        RoomSignals {
            wakers: Mutex::new(Vec::new()),
            has_wakers: std::sync::atomic::AtomicBool::new(false),
            timer: Mutex::new(None),
            epoch: Instant::now(),
            last_progress: AtomicU64::new(0),
        }
    }
}

impl RoomSignals {
    /// This drain's id in the thread's reservations: its address.
    fn id(&self) -> usize {
        self as *const Self as usize
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

    /// Registers an async caller to wake when room is made.
    pub(crate) fn wait_for_room(&self, waker: &Waker) {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
        self.has_wakers.store(true, Ordering::Release);
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

    /// Whether an async caller waits for room.
    pub(crate) fn has_async_waiters(&self) -> bool {
        self.has_wakers.load(Ordering::Acquire)
    }

    /// The writer made room: notes the time and wakes the async callers.
    pub(crate) fn progressed(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_progress.store(now, Ordering::Release);
        let wakers =
            std::mem::take(&mut *self.wakers.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in wakers {
            waker.wake();
        }
    }

    /// How long since the writer last made progress.
    pub(crate) fn since_progress(&self) -> Duration {
        let last = Duration::from_nanos(self.last_progress.load(Ordering::Acquire));
        self.epoch.elapsed().saturating_sub(last)
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

    /// The output's state, from the drain's lock.
    pub(crate) fn state<T: RoomLock>(&self, guard: &mut T) -> OutputState {
        let since = self.signals.since_progress();
        let closed = guard.is_closed();
        // Records cannot get in: the channel is full, or a caller waits for
        // room (one that needs several slots may wait before it is full).
        let occupancy = guard.occupancy();
        let waiting = occupancy.blocked_callers > 0 || self.signals.has_async_waiters();
        if (occupancy.is_full(self.capacity) || waiting) && since >= STALL_AFTER && !closed {
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
        waiting_since: Instant,
        waker: &Waker,
    ) -> Reservation {
        if self.patience == Patience::None || guard.is_closed() {
            return Reservation::NotNeeded;
        }
        if guard.occupancy().reserve(count, self.capacity) {
            return Reservation::Held;
        }
        if let Patience::Limited(timeout) = self.patience {
            let deadline = waiting_since + timeout;
            if Instant::now() >= deadline {
                // The bounded wait is over: the caller goes on, and its
                // records are dropped (and counted) if there is still no room.
                return Reservation::Expired;
            }
            self.signals.wake_at(deadline, waker);
        }
        self.signals.wait_for_room(waker);
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
        let blocked = state.occupancy.blocked_callers > 0;
        drop(state);
        if blocked {
            self.not_full.notify_all();
        }
        self.room.signals.progressed();
    }

    /// No more records: waiters go on, and are counted as late.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.not_full.notify_all();
        self.room.signals.progressed();
    }
}

impl crate::log_output::Channel for CountedRoom {
    fn state(&self) -> OutputState {
        self.room.state(&mut *self.lock())
    }

    fn try_reserve(&self, count: usize, waiting_since: Instant, waker: &Waker) -> Reservation {
        self.room
            .reserve(&mut *self.lock(), count, waiting_since, waker)
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

//! Room in a drain's channel: who may add a record, who waits, and whether
//! the output is stalled. Both drains hold a [`Room`]: an [`Occupancy`] (one
//! atomic word, so a record that finds room enters without a lock), and the
//! logic of everything else: admission (a record enters while the
//! channel has room, or with a reservation its thread holds), reservations
//! made by [`LogOutput::room`](crate::LogOutput::room) for async callers, the
//! wakers of those callers (each counted while it waits, and no longer once
//! it has room, gave up or was dropped), and since when records have waited
//! with no progress, which makes the output's [`OutputState`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
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

/// The most slots one reservation holds; a caller awaiting room for more
/// records holds this many, and the rest are admitted one by one.
pub(crate) const MAX_RESERVATION: usize = 1 << 28;

/// The records admitted into a channel, counted round at 2^32 (the low 32
/// bits of [`Occupancy`]'s word): less those taken out, the records in the
/// channel; the count an admission leaves numbers the admitted record.
const ADMITTED: u64 = (1 << 32) - 1;
/// One reserved slot (the reserved count is in bits 32 to 60).
const ONE_RESERVED: u64 = 1 << 32;
/// The writer waits with a timeout (bit 61).
const WRITER_POLLING: u64 = 1 << 61;
/// The writer sleeps until woken (bit 62).
const WRITER_PARKED: u64 = 1 << 62;
/// The channel is closed (bit 63).
const CLOSED: u64 = 1 << 63;
const RESERVED: u64 = !(ADMITTED | WRITER_POLLING | WRITER_PARKED | CLOSED);

/// How full a drain's channel is: the records admitted into it, the slots
/// reserved by async callers, whether it is closed and whether its writer
/// waits, in one atomic word, so that a record is admitted with one
/// compare-and-swap and no lock, and admission, reservation, closing and
/// the writer's sleep never disagree; and, beside it, the records the writer
/// took out. The drain's lock is taken only to wait for room.
///
/// Admissions are counted rather than the records in the channel so that
/// the compare-and-swap that admits a record also numbers it: every
/// admission changes the one word, in a single order that agrees with
/// happens-before, so a record logged after another (on any thread that
/// synchronized with the other's) gets a higher number. The line drain's
/// writer writes the records in that order (see `producers.rs`). Taking
/// records out does not touch the word, which callers then share with no
/// one but each other.
#[derive(Default)]
pub(crate) struct Occupancy {
    counts: AtomicU64,
    taken: Taken,
}

/// The records taken out of a channel, counted round at 2^32 like the
/// admissions; written by the drain's writer only, in a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Taken(AtomicU32);

/// The word as an admission left it, and the records taken out as the
/// admission saw them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    word: u64,
    taken: u32,
}

impl Counts {
    /// Records in the channel (at most: the writer may have taken more
    /// since).
    pub(crate) fn records(self) -> usize {
        records_of(self.word, self.taken)
    }

    /// The admitted record's number, counted round at 2^32: one more than
    /// the record admitted before it in the channel.
    pub(crate) fn number(self) -> u32 {
        (self.word as u32).wrapping_sub(1)
    }

    /// Whether the writer sleeps until woken.
    pub(crate) fn writer_parked(self) -> bool {
        self.word & WRITER_PARKED != 0
    }

    /// Whether the writer waits with a timeout.
    pub(crate) fn writer_polling(self) -> bool {
        self.word & WRITER_POLLING != 0
    }
}

/// The records in the channel: admitted less taken, both counted round
/// (the channel never holds 2^31 records: see [`MAX_RESERVATION`]).
fn records_of(counts: u64, taken: u32) -> usize {
    (counts as u32).wrapping_sub(taken) as usize
}

/// `counts` with one more admission (counted round, never carrying into
/// the reserved slots).
fn one_more_admitted(counts: u64) -> u64 {
    (counts & !ADMITTED) | u64::from((counts as u32).wrapping_add(1))
}

fn reserved_of(counts: u64) -> usize {
    ((counts & RESERVED) >> 32) as usize
}

impl Occupancy {
    /// Lets one record in if the channel is open and has room for it,
    /// counting it, and says what the word then holds; a thread holding a
    /// reservation of `signals`' drain uses it.
    #[inline]
    pub(crate) fn admit(&self, capacity: usize, signals: &RoomSignals) -> Option<Counts> {
        // Read first: the admissions read after it are at least as many.
        let taken = self.taken();
        let mut counts = self.counts.load(Ordering::Acquire);
        let reserving =
            reserved_of(counts) > 0 && counts & CLOSED == 0 && signals.take_reservation();
        loop {
            if counts & CLOSED != 0 {
                return None;
            }
            let next = if reserving {
                one_more_admitted(counts - ONE_RESERVED)
            } else if records_of(counts, taken) + reserved_of(counts) < capacity {
                one_more_admitted(counts)
            } else {
                return None;
            };
            match self.counts.compare_exchange_weak(
                counts,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Counts { word: next, taken }),
                Err(now) => counts = now,
            }
        }
    }

    /// The writer is about to wait, `parked` (until woken) or polling; says
    /// how many records the channel holds now. A caller whose admission
    /// sees the writer waiting wakes it ([`Self::wake_writer`]).
    pub(crate) fn writer_waits(&self, parked: bool) -> usize {
        let bit = if parked {
            WRITER_PARKED
        } else {
            WRITER_POLLING
        };
        let taken = self.taken();
        records_of(self.counts.fetch_or(bit, Ordering::AcqRel), taken)
    }

    /// Marks the writer running; says whether it was waiting (and so
    /// whether this caller is the one to wake it).
    pub(crate) fn wake_writer(&self) -> bool {
        let before = self
            .counts
            .fetch_and(!(WRITER_PARKED | WRITER_POLLING), Ordering::AcqRel);
        before & (WRITER_PARKED | WRITER_POLLING) != 0
    }

    /// Holds `count` slots (at most [`MAX_RESERVATION`]), if the channel is
    /// open and has room for them.
    pub(crate) fn reserve(&self, count: usize, capacity: usize) -> bool {
        let count = count.min(MAX_RESERVATION);
        let taken = self.taken();
        self.update(|counts| {
            let fits =
                records_of(counts, taken) + reserved_of(counts) + count <= capacity.max(count);
            (counts & CLOSED == 0 && fits).then(|| counts + ONE_RESERVED * count as u64)
        })
    }

    /// Gives back `count` slots reserved and not used.
    pub(crate) fn unreserve(&self, count: usize) {
        self.update(|counts| {
            let given = count.min(reserved_of(counts)) as u64;
            Some(counts - ONE_RESERVED * given)
        });
    }

    /// `count` records left the channel (called by the drain's writer).
    pub(crate) fn remove(&self, count: usize) {
        let counts = self.counts.load(Ordering::Acquire);
        let _ = self
            .taken
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                let count = count.min(records_of(counts, taken));
                Some(taken.wrapping_add(count as u32))
            });
    }

    /// The records taken out so far, counted round.
    fn taken(&self) -> u32 {
        self.taken.0.load(Ordering::Acquire)
    }

    /// Closes the channel: no record enters any more.
    pub(crate) fn close(&self) {
        self.counts.fetch_or(CLOSED, Ordering::AcqRel);
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.counts.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Records in the channel.
    pub(crate) fn records(&self) -> usize {
        let taken = self.taken();
        records_of(self.counts.load(Ordering::Acquire), taken)
    }

    /// Whether a record without a reservation would have to wait.
    pub(crate) fn is_full(&self, capacity: usize) -> bool {
        let taken = self.taken();
        let counts = self.counts.load(Ordering::Acquire);
        records_of(counts, taken) + reserved_of(counts) >= capacity
    }

    /// Applies `change` to the counts, unless it answers `None`.
    fn update(&self, change: impl Fn(u64) -> Option<u64>) -> bool {
        self.counts
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, change)
            .is_ok()
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
    /// This channel's id, among the channels of the process (in a thread's
    /// reservations, and its buffers).
    pub(crate) fn id(&self) -> u64 {
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
    use std::sync::Arc;

    #[test]
    fn a_reservation_lets_its_thread_in_and_holds_the_slot_from_others() {
        let signals = Arc::new(RoomSignals::default());
        let occupancy = Arc::new(Occupancy::default());
        assert!(occupancy.reserve(1, 2));
        signals.hold_reservations(1);
        let other = {
            let (signals, occupancy) = (Arc::clone(&signals), Arc::clone(&occupancy));
            std::thread::spawn(move || {
                let first = occupancy.admit(2, &signals).map(Counts::records);
                let second = occupancy.admit(2, &signals).map(Counts::records);
                (first, second)
            })
        };
        let (first, second) = other.join().unwrap_or((None, Some(0)));
        assert_eq!(first, Some(1), "another thread gets the free slot");
        assert_eq!(second, None, "but not the reserved one");
        assert_eq!(
            occupancy.admit(2, &signals).map(Counts::records),
            Some(2),
            "the reserving thread gets it"
        );
        assert_eq!(occupancy.records(), 2);
        assert!(occupancy.is_full(2));
    }

    #[test]
    fn reservations_are_used_once_each_and_only_by_the_thread_that_holds_them() {
        let (signals, occupancy) = (RoomSignals::default(), Occupancy::default());
        // Room for four: this thread holds two slots, someone else two.
        assert!(occupancy.reserve(2, 4));
        signals.hold_reservations(2);
        assert!(occupancy.reserve(2, 4));
        assert!(!occupancy.reserve(1, 4), "full of reservations");
        assert!(occupancy.is_full(4));
        let admit = || occupancy.admit(4, &signals).map(Counts::records);
        assert_eq!(admit(), Some(1), "the first reservation");
        assert_eq!(admit(), Some(2), "the second");
        assert_eq!(admit(), None, "the other two are someone else's");
        occupancy.unreserve(2);
        assert_eq!(occupancy.records(), 2);
        assert!(!occupancy.is_full(4), "two records, nothing reserved");
        assert!(!occupancy.is_full(3));
        assert!(occupancy.is_full(2));
    }

    #[test]
    fn a_closed_channel_admits_nothing_and_reserves_nothing() {
        let (signals, occupancy) = (RoomSignals::default(), Occupancy::default());
        assert_eq!(occupancy.admit(4, &signals).map(Counts::records), Some(1));
        occupancy.close();
        assert!(occupancy.is_closed());
        assert_eq!(occupancy.admit(4, &signals), None);
        assert!(!occupancy.reserve(1, 4));
        assert_eq!(occupancy.records(), 1, "what was admitted stays counted");
        occupancy.remove(1);
        assert_eq!(occupancy.records(), 0);
    }

    #[test]
    fn the_first_admission_after_the_writer_waits_is_told_to_wake_it_and_only_it() {
        let room = Room::new(4, Patience::Unlimited);
        let (_, counts) = room.admit(|| {}, |_| {});
        assert!(!room.must_wake_writer(counts), "the writer runs");
        assert_eq!(room.writer_waits(true), 1, "one record waits already");
        let (_, counts) = room.admit(|| {}, |_| {});
        assert!(counts.writer_parked() && counts.records() == 2);
        assert!(room.must_wake_writer(counts), "a parked writer is woken");
        assert!(
            !room.must_wake_writer(counts),
            "by one caller: another that saw it parked does not wake it again"
        );
        let (_, counts) = room.admit(|| {}, |_| {});
        assert!(
            !counts.writer_parked() && !room.must_wake_writer(counts),
            "once"
        );
        // A polling writer is woken only when the channel is half full.
        room.taken(3);
        assert_eq!(room.writer_waits(false), 0);
        let (_, counts) = room.admit(|| {}, |_| {});
        assert!(counts.writer_polling() && !room.must_wake_writer(counts));
        let (_, counts) = room.admit(|| {}, |_| {});
        assert!(room.must_wake_writer(counts), "two of four");
        assert_eq!(room.records(), 2, "the writer's bits are not records");
        assert!(!room.occupancy.is_full(4) && room.occupancy.reserve(2, 4));
        assert!(room.occupancy.is_full(4), "nor reservations");
    }

    #[test]
    fn counts_never_go_below_zero_and_reservations_are_bounded() {
        let occupancy = Occupancy::default();
        occupancy.remove(3);
        occupancy.unreserve(3);
        assert_eq!(occupancy.records(), 0);
        assert!(!occupancy.is_full(1));
        assert!(
            occupancy.reserve(usize::MAX, 4),
            "an empty channel holds any reservation"
        );
        assert!(occupancy.is_full(4));
        occupancy.unreserve(usize::MAX);
        assert!(
            !occupancy.is_full(1),
            "all given back, no borrow into the record count"
        );
        assert_eq!(occupancy.records(), 0);
    }

    #[test]
    fn each_admission_numbers_its_record_one_past_the_one_before() {
        let (signals, occupancy) = (RoomSignals::default(), Occupancy::default());
        let number = || occupancy.admit(3, &signals).map(Counts::number);
        assert_eq!((number(), number()), (Some(0), Some(1)));
        occupancy.remove(2);
        assert_eq!(number(), Some(2), "taking records out numbers nothing");
        assert!(occupancy.reserve(1, 3));
        signals.hold_reservations(1);
        assert_eq!(number(), Some(3), "nor does a reservation: its use does");
        assert_eq!(occupancy.records(), 2);
        assert_eq!(number(), Some(4));
        assert_eq!(number(), None, "full: no number");
        assert_eq!(occupancy.records(), 3);
    }

    #[test]
    fn admissions_counted_round_past_2_to_the_32_never_touch_the_reservations() {
        let (signals, occupancy) = (RoomSignals::default(), Occupancy::default());
        let start = u32::MAX - 1;
        occupancy.counts.store(u64::from(start), Ordering::Relaxed);
        occupancy.taken.0.store(start, Ordering::Relaxed);
        assert_eq!(occupancy.records(), 0);
        let number = || occupancy.admit(4, &signals).map(Counts::number);
        assert_eq!(
            (number(), number(), number()),
            (Some(u32::MAX - 1), Some(u32::MAX), Some(0))
        );
        assert_eq!(occupancy.records(), 3);
        assert_eq!(reserved_of(occupancy.counts.load(Ordering::Relaxed)), 0);
        assert!(!occupancy.is_full(4));
        assert_eq!(number(), Some(1));
        assert!(occupancy.is_full(4));
        occupancy.remove(4);
        assert_eq!(occupancy.records(), 0);
        occupancy.remove(1);
        assert_eq!(occupancy.records(), 0, "never below zero across the wrap");
    }

    #[test]
    fn admissions_from_many_threads_never_exceed_the_capacity() {
        let (signals, occupancy) = (
            Arc::new(RoomSignals::default()),
            Arc::new(Occupancy::default()),
        );
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (signals, occupancy) = (Arc::clone(&signals), Arc::clone(&occupancy));
                std::thread::spawn(move || {
                    (0..1000)
                        .filter(|_| occupancy.admit(1500, &signals).is_some())
                        .count()
                })
            })
            .collect();
        let admitted: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
        assert_eq!(admitted, 1500);
        assert_eq!(occupancy.records(), 1500);
    }

    use crate::pipeline::log_output::{LogOutput, RoomFuture};
    use crate::pipeline::losses::LossCounters;
    use std::future::Future;
    use std::task::{Context, Poll};

    /// A little longer than a stall takes to show.
    const PAST_STALL: Duration = Duration::from_millis(STALL_AFTER.as_millis() as u64 + 100);

    fn admit(room: &Room) -> Admission {
        room.admit(|| {}, |_| {}).0
    }

    fn counted(capacity: usize, patience: Patience) -> (Arc<Room>, LogOutput) {
        let room = Arc::new(Room::new(capacity, patience));
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
        assert_eq!(admit(&room), Admission::Admitted);
        assert_eq!(admit(&room), Admission::Admitted);
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
    fn stalled_then_drained(after_the_drain: impl FnOnce(&Room, &LogOutput, RoomFuture<'_>)) {
        let (room, output) = counted(2, Patience::Unlimited);
        assert_eq!(admit(&room), Admission::Admitted);
        assert_eq!(admit(&room), Admission::Admitted);
        let mut waiting = output.room_for(2);
        assert!(poll_once(&mut waiting).is_pending());
        std::thread::sleep(PAST_STALL);
        assert!(output.is_stalled());
        room.taken(2);
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
            assert_eq!(room.signals.async_waiters(), 0);
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
            assert_eq!(admit(&room), Admission::Admitted);
        }
        let mut waiting = output.room_for(2);
        assert!(poll_once(&mut waiting).is_pending());
        assert_eq!(room.signals.async_waiters(), 1);
        std::thread::sleep(PAST_STALL);
        assert!(
            output.is_stalled(),
            "a caller waits behind records that do not move"
        );
        drop(waiting);
        assert_eq!(room.signals.async_waiters(), 0);
        assert!(
            room.signals
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
        assert_eq!(admit(&room), Admission::Admitted);
        let mut waiting = output.room();
        assert!(poll_once(&mut waiting).is_pending());
        std::thread::sleep(Duration::from_millis(60));
        let Poll::Ready(permit) = poll_once(&mut waiting) else {
            panic!("the bounded wait is over");
        };
        assert_eq!(permit.held(), 0);
        assert_eq!(room.signals.async_waiters(), 0);
        room.taken(1);
        std::thread::sleep(PAST_STALL);
        assert_eq!(output.state(), OutputState::Taking);
        drop(waiting);
    }

    #[test]
    fn a_thread_that_gave_up_waiting_is_no_longer_counted() {
        let (room, output) = counted(1, Patience::Limited(Duration::from_millis(50)));
        assert_eq!(admit(&room), Admission::Admitted);
        let other = {
            let room = Arc::clone(&room);
            std::thread::spawn(move || admit(&room))
        };
        assert_eq!(other.join().ok(), Some(Admission::Dropped));
        assert_eq!(*room.lock(), 0);
        room.taken(1);
        std::thread::sleep(PAST_STALL);
        assert_eq!(output.state(), OutputState::Taking);
    }

    #[test]
    fn a_full_channel_is_stalled_only_while_nothing_is_taken() {
        let (room, output) = counted(1, Patience::Unlimited);
        assert_eq!(admit(&room), Admission::Admitted);
        assert_eq!(output.state(), OutputState::Taking, "first seen full now");
        std::thread::sleep(PAST_STALL);
        assert!(output.is_stalled(), "full, and nothing taken since");
        room.taken(1);
        assert_eq!(admit(&room), Admission::Admitted);
        assert_eq!(
            output.state(),
            OutputState::Taking,
            "full again, but the writer took a record just now"
        );
    }

    #[test]
    fn an_unused_reservation_is_given_back() {
        let signals = RoomSignals::default();
        let occupancy = Occupancy::default();
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

/// A channel's room, shared by both drains: its capacity, how long callers
/// wait, its [`Occupancy`], and the signals its callers and writer share.
/// A record that finds room enters without a lock; the lock (and its
/// condition variable) is for callers that wait for room, and for the
/// writer making room while they do.
pub(crate) struct Room {
    pub(crate) capacity: usize,
    patience: Patience,
    pub(crate) signals: RoomSignals,
    occupancy: Occupancy,
    /// Callers blocked waiting for room.
    blocked: Mutex<usize>,
    not_full: Condvar,
}

impl Room {
    pub(crate) fn new(capacity: usize, patience: Patience) -> Self {
        Room {
            capacity,
            patience,
            signals: RoomSignals::default(),
            occupancy: Occupancy::default(),
            blocked: Mutex::new(0),
            not_full: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        self.blocked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets one record in, waiting for room as the patience allows, and
    /// says what the channel's word then holds (its records, whether the
    /// writer waits). `wake_writer` is called
    /// before each wait; `on_loss` is called with [`Admission::Dropped`] or
    /// [`Admission::Closed`] under the lock the channel is closed under, so
    /// that a drop is counted before the writer can see the channel closed.
    #[inline]
    pub(crate) fn admit(
        &self,
        wake_writer: impl Fn(),
        on_loss: impl FnOnce(Admission),
    ) -> (Admission, Counts) {
        match self.occupancy.admit(self.capacity, &self.signals) {
            Some(counts) => (Admission::Admitted, counts),
            None => self.admit_waiting(&wake_writer, on_loss),
        }
    }

    #[cold]
    fn admit_waiting(
        &self,
        wake_writer: &dyn Fn(),
        on_loss: impl FnOnce(Admission),
    ) -> (Admission, Counts) {
        let mut blocked = self.lock();
        let mut deadline = None;
        let lost = loop {
            if let Some(counts) = self.occupancy.admit(self.capacity, &self.signals) {
                return (Admission::Admitted, counts);
            }
            if self.occupancy.is_closed() {
                break Admission::Closed;
            }
            if self.occupancy.records() > 0 {
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
                Patience::None => break Admission::Dropped,
                Patience::Unlimited => None,
                Patience::Limited(timeout) => {
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break Admission::Dropped;
                    }
                    Some(left)
                }
            };
            wake_writer();
            *blocked += 1;
            blocked = match limit {
                Some(left) => {
                    self.not_full
                        .wait_timeout(blocked, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .not_full
                    .wait(blocked)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            *blocked -= 1;
        };
        on_loss(lost);
        (lost, Counts::default())
    }

    /// Lets one record in only if there is room now (a loss report, which
    /// waits for no one: without room it stays counted for the next try).
    pub(crate) fn admit_now(&self) -> bool {
        self.occupancy.admit(self.capacity, &self.signals).is_some()
    }

    /// The writer took `count` records: there is room again.
    pub(crate) fn taken(&self, count: usize) {
        self.occupancy.remove(count);
        let blocked = {
            let blocked = self.lock();
            self.signals.relieved();
            *blocked > 0
        };
        if blocked {
            self.not_full.notify_all();
        }
        self.signals.wake_waiters();
    }

    /// No more records: waiters go on, and are counted as late.
    pub(crate) fn close(&self) {
        let blocked = self.lock();
        self.occupancy.close();
        drop(blocked);
        self.not_full.notify_all();
        self.signals.wake_waiters();
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.occupancy.is_closed()
    }

    /// Whether a caller that was just admitted with `counts` must wake the
    /// writer: it sleeps, or it polls and the channel is half full. Only
    /// one caller is told to.
    #[inline]
    pub(crate) fn must_wake_writer(&self, counts: Counts) -> bool {
        let urgent = counts.writer_parked()
            || (counts.writer_polling() && counts.records() >= self.capacity.div_ceil(2));
        urgent && self.occupancy.wake_writer()
    }

    /// See [`Occupancy::writer_waits`].
    pub(crate) fn writer_waits(&self, parked: bool) -> usize {
        self.occupancy.writer_waits(parked)
    }

    /// The writer runs again.
    pub(crate) fn writer_runs(&self) {
        self.occupancy.wake_writer();
    }

    /// Records in the channel.
    pub(crate) fn records(&self) -> usize {
        self.occupancy.records()
    }

    /// Reserves `count` slots for an async caller, or registers its waker
    /// (under the lock, so the writer's next progress wakes it).
    fn reserve(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation {
        let reservation = self.try_reserve_or_wait(count, waiter, waker);
        if !matches!(reservation, Reservation::Wait) {
            self.signals.stop_waiting(&mut waiter.ticket);
        }
        reservation
    }

    fn try_reserve_or_wait(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation {
        if self.patience == Patience::None || self.occupancy.is_closed() {
            return Reservation::NotNeeded;
        }
        if self.occupancy.reserve(count, self.capacity) {
            return Reservation::Held;
        }
        let _blocked = self.lock();
        if self.occupancy.reserve(count, self.capacity) {
            return Reservation::Held;
        }
        if self.occupancy.is_closed() {
            return Reservation::NotNeeded;
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
        if self.occupancy.records() > 0 {
            self.signals.under_pressure();
        }
        self.signals.wait_for_room(&mut waiter.ticket, waker);
        Reservation::Wait
    }
}

impl Channel for Room {
    /// Stalled when records are in the channel, callers wait for room (or
    /// the channel is full), and the writer has taken nothing for
    /// [`STALL_AFTER`]. A drained channel is taking records however long it
    /// has been idle, and a caller that gave up or went away no longer
    /// counts as waiting.
    fn state(&self) -> OutputState {
        let blocked = self.lock();
        if self.occupancy.is_closed() {
            return OutputState::Taking;
        }
        let records = self.occupancy.records();
        let waiting = *blocked > 0 || self.signals.async_waiters() > 0;
        if records == 0 || !(waiting || self.occupancy.is_full(self.capacity)) {
            return OutputState::Taking;
        }
        let since = self.signals.under_pressure();
        if since >= STALL_AFTER {
            OutputState::Stalled {
                waiting: records,
                since,
            }
        } else {
            OutputState::Taking
        }
    }

    fn try_reserve(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation {
        self.reserve(count, waiter, waker)
    }

    fn unreserve(&self, count: usize) {
        self.occupancy.unreserve(count);
        drop(self.lock());
        self.not_full.notify_all();
    }

    fn waiting(&self) -> usize {
        self.occupancy.records()
    }

    fn signals(&self) -> &RoomSignals {
        &self.signals
    }
}

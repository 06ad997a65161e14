//! When a record happened: the caller reads a monotonic clock once per
//! record ([`EventTime`]), the same reading that times the prediction, and
//! the line drain's writer thread turns it into wall-clock time for
//! `@timestamp` ([`WallClock`]), against a pair of readings of both clocks it
//! takes for each batch, with integer arithmetic (nanoseconds since the
//! epoch). A change of the system clock shows in the records of the next
//! batch.
//!
//! The monotonic clock is quanta's: the CPU's time-stamp counter where it
//! is invariant, calibrated against the operating system's monotonic clock
//! (which quanta falls back to elsewhere). It reads in a third of the time
//! of `std::time::Instant::now()` on the machine the README's figures come
//! from.

use crate::record::timestamp::{TimestampFormatter, TimestampText, unix_nanos};
use quanta::Instant;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The instant every [`EventTime`] counts from: the first one asked for.
/// The first reading calibrates the clock (under a millisecond): the line
/// drain asks for it when it is built ([`EventTime::start_clock`]).
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// A reading of the monotonic clock, as nanoseconds since the process's
/// first one: small enough to capture, and the same across threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EventTime(u64);

impl EventTime {
    /// Calibrates the clock now, so that no record pays for it.
    pub(crate) fn start_clock() {
        base();
    }

    /// The time of `instant`.
    fn of(instant: Instant) -> Self {
        let since = instant.saturating_duration_since(base());
        EventTime(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Now.
    #[inline]
    pub(crate) fn now() -> Self {
        Self::of(Instant::now())
    }

    /// Nanoseconds from `earlier` to this time (0 if it is later).
    pub(crate) fn since(self, earlier: EventTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// As captured.
    pub(crate) fn to_nanos(self) -> u64 {
        self.0
    }

    /// Read back from a capture.
    pub(crate) fn from_nanos(nanos: u64) -> Self {
        EventTime(nanos)
    }
}

/// Wall-clock time for event times: the system clock and the monotonic
/// clock read together.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallClock {
    wall: SystemTime,
    /// `wall` in nanoseconds since the epoch.
    wall_nanos: u64,
    monotonic: EventTime,
    formatter: TimestampFormatter,
}

impl WallClock {
    /// Both clocks now. The monotonic reading is the middle of two taken
    /// around the system clock's, so the pair is off by half the time
    /// between them: of the few pairs taken, the tightest is kept, so that
    /// a thread preempted between two readings does not shift every
    /// timestamp of the batch by the time it was away.
    pub(crate) fn now() -> Self {
        let read = || {
            let before = EventTime::now();
            let wall = SystemTime::now();
            let after = EventTime::now();
            let width = after.since(before);
            let pair = WallClock {
                wall,
                wall_nanos: unix_nanos(wall),
                monotonic: EventTime(before.0 + width / 2),
                formatter: TimestampFormatter::default(),
            };
            (width, pair)
        };
        let mut best = read();
        // Under a microsecond is two reads of each clock: as tight as it gets.
        for _ in 0..3 {
            if best.0 < 1_000 {
                break;
            }
            let next = read();
            if next.0 < best.0 {
                best = next;
            }
        }
        best.1
    }

    /// The wall-clock time of `event`, in nanoseconds since the epoch.
    pub(crate) fn unix_nanos(&self, event: EventTime) -> u64 {
        if event >= self.monotonic {
            self.wall_nanos.saturating_add(event.0 - self.monotonic.0)
        } else {
            self.wall_nanos.saturating_sub(self.monotonic.0 - event.0)
        }
    }

    /// The `@timestamp` text of `event`.
    #[inline]
    pub(crate) fn timestamp(&mut self, event: EventTime) -> TimestampText {
        let nanos = self.unix_nanos(event);
        self.formatter.format(nanos)
    }

    /// The wall-clock time of `event`.
    pub(crate) fn wall_time(&self, event: EventTime) -> SystemTime {
        let result = if event >= self.monotonic {
            self.wall
                .checked_add(Duration::from_nanos(event.0 - self.monotonic.0))
        } else {
            self.wall
                .checked_sub(Duration::from_nanos(self.monotonic.0 - event.0))
        };
        result.unwrap_or(self.wall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_placed_between_the_wall_clock_readings_around_it() {
        let before = SystemTime::now();
        let event = EventTime::now();
        let after = SystemTime::now();
        std::thread::sleep(Duration::from_millis(5));
        let wall = WallClock::now().wall_time(event);
        // Within a microsecond: the pair's own error is half a clock read.
        let slack = Duration::from_micros(1);
        assert!(wall + slack >= before, "{wall:?} before {before:?}");
        assert!(wall <= after + slack, "{wall:?} after {after:?}");
    }

    #[test]
    fn later_events_are_later_by_the_monotonic_difference() {
        let clock = WallClock::now();
        let early = EventTime::from_nanos(clock.monotonic.to_nanos() + 1_000);
        let late = EventTime::from_nanos(clock.monotonic.to_nanos() + 13_000);
        let gap = clock.wall_time(late).duration_since(clock.wall_time(early));
        assert_eq!(gap.ok(), Some(Duration::from_nanos(12_000)));
        assert_eq!(
            clock.unix_nanos(late) - clock.unix_nanos(early),
            12_000,
            "the same in integers"
        );
        assert_eq!(
            unix_nanos(clock.wall_time(late)),
            clock.unix_nanos(late),
            "and the same time"
        );
        let past = clock.wall_time(EventTime::from_nanos(0));
        assert!(
            past <= clock.wall,
            "an event before the pair is placed before it"
        );
    }
}

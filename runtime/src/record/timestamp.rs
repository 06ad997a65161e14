//! `@timestamp` as RFC 3339 in UTC with microseconds, formatted on the
//! stack from nanoseconds since the epoch with integer arithmetic only:
//! `2026-11-28T16:22:43.261113Z`.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// The text of `@timestamp`.
pub(crate) type TimestampText = [u8; 27];

/// Formats times, remembering the last second it formatted: consecutive
/// records mostly share it, and then only the microseconds are written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimestampFormatter {
    second: u64,
    date_and_time: [u8; 19],
}

impl Default for TimestampFormatter {
    fn default() -> Self {
        TimestampFormatter {
            second: u64::MAX,
            date_and_time: [0; 19],
        }
    }
}

impl TimestampFormatter {
    /// The text of the time `unix_nanos` nanoseconds after the epoch.
    #[inline]
    pub(crate) fn format(&mut self, unix_nanos: u64) -> TimestampText {
        let seconds = unix_nanos / 1_000_000_000;
        if seconds != self.second {
            self.date_and_time = format_second(seconds);
            self.second = seconds;
        }
        let mut text = [0; 27];
        text[..19].copy_from_slice(&self.date_and_time);
        text[19..].copy_from_slice(b".000000Z");
        put_digits(&mut text[20..26], unix_nanos % 1_000_000_000 / 1_000);
        text
    }
}

thread_local! {
    /// The formatter of records formatted on their caller's thread.
    static FORMATTER: Cell<TimestampFormatter> = Cell::new(TimestampFormatter::default());
}

/// Nanoseconds since the epoch of `time` (0 before 1970, the most a `u64`
/// holds after 2554).
pub(crate) fn unix_nanos(time: SystemTime) -> u64 {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

/// The text of `time`. A time before 1970 is written as the epoch.
pub(crate) fn format_rfc3339_micros(time: SystemTime) -> TimestampText {
    FORMATTER.with(|cell| {
        let mut formatter = cell.get();
        let text = formatter.format(unix_nanos(time));
        cell.set(formatter);
        text
    })
}

/// `YYYY-MM-DDTHH:MM:SS` of a second since the epoch.
fn format_second(seconds: u64) -> [u8; 19] {
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let second_of_day = seconds % 86_400;
    let mut text = *b"0000-00-00T00:00:00";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], second_of_day / 3600);
    put_digits(&mut text[14..16], second_of_day / 60 % 60);
    put_digits(&mut text[17..19], second_of_day % 60);
    text
}

/// Writes `value` right-aligned into `slot`, zero-padded.
fn put_digits(slot: &mut [u8], mut value: u64) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Year, month and day of a day count since 1970-01-01, by Howard Hinnant's
/// `civil_from_days` (public domain, <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn format(time: SystemTime) -> String {
        String::from_utf8(format_rfc3339_micros(time).to_vec()).unwrap_or_default()
    }

    #[test]
    fn agrees_with_humantime_across_four_centuries() {
        // Steps of a prime number of seconds reach every month, leap days included.
        let mut seconds = 0u64;
        while seconds < 13_000_000_000 {
            let time = UNIX_EPOCH + Duration::new(seconds, 123_456_789);
            assert_eq!(
                format(time),
                humantime::format_rfc3339_micros(time).to_string()
            );
            seconds += 1_234_567;
        }
    }

    #[test]
    fn the_formatter_agrees_with_itself_across_second_boundaries() {
        let mut formatter = TimestampFormatter::default();
        let mut nanos = 1_764_000_000_999_999_000u64;
        for _ in 0..5_000 {
            let time = UNIX_EPOCH + Duration::from_nanos(nanos);
            assert_eq!(
                std::str::from_utf8(&formatter.format(nanos)).ok(),
                Some(humantime::format_rfc3339_micros(time).to_string().as_str())
            );
            nanos += 333_333_333;
        }
    }

    #[test]
    fn leap_days_and_year_ends_are_right() {
        let at = |s| format(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00.000000Z");
        assert_eq!(at(1_735_689_599), "2024-12-31T23:59:59.000000Z");
        assert_eq!(at(0), "1970-01-01T00:00:00.000000Z");
    }
}

//! Sampling: whether a prediction is logged, decided once, at its start.
//!
//! With a correlation id in scope the decision is a fixed function of the id
//! (a 64-bit FNV-1a hash, mixed): every model called for one request keeps or
//! drops it alike, and a request kept at one rate is kept at every higher
//! rate. Without one, it is a draw from a per-thread generator.

use crate::correlation::CorrelationId;
use std::cell::Cell;

/// A sampling rate: the share of predictions logged, from 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SampleRate {
    rate: f64,
    /// A prediction is kept when its draw is below this.
    threshold: u64,
}

impl SampleRate {
    /// `None` unless `rate` is a number from 0 to 1.
    pub(crate) fn new(rate: f64) -> Option<Self> {
        if !(0.0..=1.0).contains(&rate) {
            return None;
        }
        // 2^64 × rate, saturating at the top: 1.0 keeps every draw.
        let threshold = if rate >= 1.0 {
            u64::MAX
        } else {
            (rate * 18_446_744_073_709_551_616.0) as u64
        };
        Some(SampleRate { rate, threshold })
    }

    /// The rate, to be written on records when below 1.
    pub(crate) fn below_one(self) -> Option<f64> {
        (self.rate < 1.0).then_some(self.rate)
    }

    /// Whether to log the prediction made under `correlation`.
    #[inline]
    pub(crate) fn keeps(self, correlation: Option<&CorrelationId>) -> bool {
        if self.threshold == u64::MAX {
            return true;
        }
        let draw = match correlation {
            Some(id) => draw_of(id.as_str()),
            None => next_random(),
        };
        draw < self.threshold
    }
}

/// A uniform 64-bit value fixed by `id`.
fn draw_of(id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    mix(hash)
}

/// SplitMix64's finalizer: spreads every input bit over the output.
fn mix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

/// The next value of this thread's SplitMix64 sequence.
fn next_random() -> u64 {
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(next);
        mix(next)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published values: FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the FNV
    /// reference's test suite), and SplitMix64's first output from a state
    /// of 0 is 0xe220a8397b1dcdaf (Vigna's reference implementation).
    #[test]
    fn the_hash_and_the_mixer_are_fnv_1a_and_splitmix64() {
        assert_eq!(mix(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
        assert_eq!(draw_of("a"), mix(0xaf63_dc4c_8601_ec8c));
    }

    #[test]
    fn each_thread_draws_from_a_seed_of_its_own() {
        let first_draw = || std::thread::spawn(next_random).join().unwrap_or(0);
        // Two threads seeded alike would draw the same sequence (and keep or
        // drop their predictions in lockstep).
        assert_ne!(first_draw(), first_draw());
        assert_ne!(seed(), seed());
    }

    #[test]
    fn a_draw_equal_to_the_threshold_is_not_kept() {
        let id = CorrelationId::from("req-1");
        let at_the_draw = SampleRate {
            rate: 0.5,
            threshold: draw_of(id.as_str()),
        };
        assert!(!at_the_draw.keeps(Some(&id)));
        let just_above = SampleRate {
            rate: 0.5,
            threshold: draw_of(id.as_str()) + 1,
        };
        assert!(just_above.keeps(Some(&id)));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        assert!(SampleRate::new(-0.1).is_none());
        assert!(SampleRate::new(1.5).is_none());
        assert!(SampleRate::new(f64::NAN).is_none());
        assert!(SampleRate::new(0.0).is_some());
    }

    #[test]
    fn zero_keeps_nothing_and_one_keeps_everything() {
        let none = SampleRate::new(0.0).expect("a rate");
        let all = SampleRate::new(1.0).expect("a rate");
        for _ in 0..10_000 {
            assert!(!none.keeps(None));
            assert!(all.keeps(None));
        }
    }

    #[test]
    fn one_correlation_id_gives_one_decision_and_higher_rates_keep_more() {
        let low = SampleRate::new(0.1).expect("a rate");
        let high = SampleRate::new(0.5).expect("a rate");
        let mut kept = 0;
        for request in 0..10_000 {
            let id = CorrelationId::from(format!("req-{request}"));
            let first = low.keeps(Some(&id));
            assert_eq!(first, low.keeps(Some(&id)));
            if first {
                kept += 1;
                assert!(high.keeps(Some(&id)), "kept at 0.1, so at 0.5");
            }
        }
        // 10,000 draws at 0.1: 1,000 expected, σ = 30.
        assert!((850..=1150).contains(&kept), "{kept}");
    }
}

//! Size caps on a finished line, the same for both drains: a string value
//! longer than the field cap is cut, and a record longer than the record cap
//! has its largest values cut until it fits. Container runtimes split lines
//! longer than 16 KiB, and an unbounded value can blow up an index.
//!
//! A line under both caps (nearly every line) is left as it is after one
//! comparison. A longer one is parsed into its top-level pairs, with each
//! value kept as its raw JSON text; only the values that are cut are
//! rewritten, by serde_json, so the rest keep their bytes, and the line
//! stays valid JSON whatever it holds (multi-byte characters at the cut,
//! escapes that grow a string six-fold). Each cut value ends in
//! [`TRUNCATION_MARKER`], and the record lists the keys that were cut under
//! `truncated_fields`.

use crate::keys;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// What a cut value ends with.
pub const TRUNCATION_MARKER: &str = "…[truncated]";

/// The caps, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SizeCaps {
    /// The longest string value written whole (its text, before escaping).
    pub(crate) field_max: usize,
    /// The longest line, its newline included.
    pub(crate) record_max: usize,
}

impl SizeCaps {
    /// 4 KiB for a string; 16,000 bytes for a line, under containerd's
    /// 16 KiB split with room to spare.
    pub(crate) const DEFAULT: SizeCaps = SizeCaps {
        field_max: 4096,
        record_max: 16_000,
    };

    /// The smallest field cap accepted.
    pub(crate) const MIN_FIELD: usize = 64;
    /// The smallest record cap accepted.
    pub(crate) const MIN_RECORD: usize = 1024;

    /// Applies the caps to the line that starts at `start` in `out` and ends
    /// with `\n`.
    #[inline]
    pub(crate) fn apply(&self, out: &mut Vec<u8>, start: usize) {
        let length = out.len() - start;
        // A string's text is never longer than its escaped form in the line.
        if length <= self.field_max && length <= self.record_max {
            return;
        }
        if let Some(capped) = self.capped(&out[start..]) {
            out.truncate(start);
            out.extend_from_slice(capped.as_bytes());
        }
    }

    /// The capped line, or `None` when nothing needed cutting.
    fn capped(&self, line: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(line).ok()?.strip_suffix('\n')?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let pairs = deserializer.deserialize_map(PairsVisitor).ok()?;
        let mut pairs: Vec<Pair<'_>> = pairs
            .into_iter()
            .map(|(key, raw)| Pair {
                key,
                value: Cow::Borrowed(raw.get()),
                cut: false,
            })
            .collect();
        for pair in &mut pairs {
            if let Some(text) = pair.string() {
                if text.len() > self.field_max {
                    pair.set(cut_to(&text, self.field_max));
                }
            }
        }
        // A value cut to nothing but the marker cannot shrink further.
        let smallest_cut = TRUNCATION_MARKER.len() + 2;
        while line_length(&pairs) > self.record_max {
            let excess = line_length(&pairs) - self.record_max;
            let Some(largest) = pairs
                .iter_mut()
                .filter(|pair| may_be_cut(&pair.key) && pair.value.len() > smallest_cut)
                .max_by_key(|pair| pair.value.len())
            else {
                break;
            };
            // A value that is not a string is cut as its JSON text.
            let text = largest
                .string()
                .unwrap_or_else(|| largest.value.to_string());
            let keep = text.len().saturating_sub(excess + TRUNCATION_MARKER.len());
            largest.set(cut_to(&text, keep));
        }
        if !pairs.iter().any(|pair| pair.cut) {
            return None;
        }
        let cut_keys: Vec<&str> = pairs
            .iter()
            .filter(|pair| pair.cut)
            .map(|pair| pair.key.as_ref())
            .collect();
        let mut line = String::with_capacity(self.record_max);
        line.push('{');
        for (index, pair) in pairs.iter().enumerate() {
            if index > 0 {
                line.push(',');
            }
            line.push_str(&serde_json::to_string(pair.key.as_ref()).ok()?);
            line.push(':');
            line.push_str(&pair.value);
        }
        line.push(',');
        line.push_str(&serde_json::to_string(keys::TRUNCATED_FIELDS).ok()?);
        line.push(':');
        line.push_str(&serde_json::to_string(&cut_keys).ok()?);
        line.push_str("}\n");
        Some(line)
    }
}

/// One top-level pair of the line.
struct Pair<'a> {
    key: Cow<'a, str>,
    /// The value's JSON text.
    value: Cow<'a, str>,
    cut: bool,
}

impl Pair<'_> {
    /// The value, if it is a string.
    fn string(&self) -> Option<String> {
        if self.value.starts_with('"') {
            serde_json::from_str(&self.value).ok()
        } else {
            None
        }
    }

    fn set(&mut self, text: String) {
        if let Ok(json) = serde_json::to_string(&text) {
            self.value = Cow::Owned(json);
            self.cut = true;
        }
    }
}

/// The keys the runtime writes to say what a record is; cutting them would
/// make the record unsearchable. Messages and errors may be cut.
fn may_be_cut(key: &str) -> bool {
    !keys::RESERVED.contains(&key)
        || [
            keys::MESSAGE,
            keys::ERROR_INFO,
            keys::FIELD_ERRORS,
            keys::ORIGINAL_MESSAGE,
        ]
        .contains(&key)
}

/// The first `max` bytes of `text`, cut back to a character boundary, and
/// the marker.
fn cut_to(text: &str, max: usize) -> String {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = String::with_capacity(end + TRUNCATION_MARKER.len());
    cut.push_str(&text[..end]);
    cut.push_str(TRUNCATION_MARKER);
    cut
}

/// The length of the line the pairs make, with the list of cut keys and the
/// newline; escaping of keys is counted as serde_json writes it.
fn line_length(pairs: &[Pair<'_>]) -> usize {
    let pairs_length: usize = pairs
        .iter()
        .map(|pair| {
            serde_json::to_string(pair.key.as_ref()).map_or(0, |key| key.len())
                + 2
                + pair.value.len()
        })
        .sum();
    let cut: Vec<&str> = pairs
        .iter()
        .filter(|pair| pair.cut)
        .map(|pair| pair.key.as_ref())
        .collect();
    // `{`, the pairs, `,"truncated_fields":[...]` (counted even before any
    // cut, for the one about to be made), `}` and the newline.
    let list = serde_json::to_string(&cut).map_or(0, |list| list.len()) + 48;
    2 + pairs_length + keys::TRUNCATED_FIELDS.len() + 4 + list + 2
}

/// Reads an object into its pairs, in order, each value as raw JSON.
struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some((key, value)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
            pairs.push((key, value));
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(caps: SizeCaps, line: &str) -> String {
        let mut out = line.as_bytes().to_vec();
        caps.apply(&mut out, 0);
        String::from_utf8(out).unwrap_or_default()
    }

    const SMALL: SizeCaps = SizeCaps {
        field_max: 64,
        record_max: 1024,
    };

    #[test]
    fn a_line_under_the_caps_is_untouched() {
        let line = "{\"message\":\"Hi.\",\"note\":\"short\"}\n";
        assert_eq!(capped(SMALL, line), line);
    }

    #[test]
    fn a_long_string_is_cut_at_a_character_boundary_and_listed() {
        let note = "é".repeat(100);
        let line = format!(
            "{{\"message\":\"Hi.\",\"note\":{},\"n\":1.5}}\n",
            serde_json::to_string(&note).unwrap_or_default()
        );
        let out = capped(SMALL, &line);
        let record: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let cut = record["note"].as_str().unwrap_or_default();
        assert!(cut.ends_with(TRUNCATION_MARKER));
        assert_eq!(cut.trim_end_matches(TRUNCATION_MARKER), "é".repeat(32));
        assert_eq!(record["truncated_fields"], serde_json::json!(["note"]));
        assert!(
            out.contains(",\"n\":1.5,"),
            "other values keep their bytes: {out}"
        );
    }

    #[test]
    fn a_string_of_exactly_the_field_cap_stays_whole() {
        let note = "n".repeat(SMALL.field_max);
        let line = format!("{{\"message\":\"Hi.\",\"note\":\"{note}\"}}\n");
        assert_eq!(capped(SMALL, &line), line);
        let longer = format!("{{\"message\":\"Hi.\",\"note\":\"{note}n\"}}\n");
        assert_ne!(capped(SMALL, &longer), longer);
    }

    #[test]
    fn a_record_over_its_cap_is_cut_just_enough_with_one_marker() {
        let caps = SizeCaps {
            field_max: 4096,
            record_max: 1024,
        };
        let line = format!(
            "{{\"message\":\"Hi.\",\"prediction_id\":\"{}\",\"note\":\"{}\"}}\n",
            "p".repeat(36),
            "x".repeat(3000)
        );
        let out = capped(caps, &line);
        assert!(out.len() <= caps.record_max, "{} bytes", out.len());
        // Room is kept for the list of cut keys (`line_length`'s margin):
        // the line ends within that of the cap, not far below it.
        assert!(
            out.len() + 64 >= caps.record_max,
            "cut more than needed: {} bytes",
            out.len()
        );
        let record: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let note = record["note"].as_str().unwrap_or_default();
        assert_eq!(note.matches(TRUNCATION_MARKER).count(), 1, "{note}");
        assert_eq!(
            record["prediction_id"],
            "p".repeat(36),
            "an id is never cut"
        );
    }

    /// A record whose 2,000-byte id (never cut) alone is over a 1,024-byte
    /// cap, with a note of `note` bytes, as the caps write it.
    fn over_the_cap_by_its_id(note: usize) -> serde_json::Value {
        let line = format!(
            "{{\"message\":\"Hi.\",\"prediction_id\":\"{}\",\"note\":\"{}\"}}\n",
            "p".repeat(2000),
            "n".repeat(note)
        );
        let caps = SizeCaps {
            field_max: 4096,
            record_max: 1024,
        };
        serde_json::from_str(&capped(caps, &line)).unwrap_or_default()
    }

    #[test]
    fn a_record_that_cannot_get_under_its_cap_keeps_what_may_not_be_cut() {
        // An id is never cut: cutting everything else is all that can be
        // done, and the line is written so, over its cap, not cut forever.
        let record = over_the_cap_by_its_id(100);
        assert_eq!(record["prediction_id"], "p".repeat(2000));
        assert_eq!(record["note"], TRUNCATION_MARKER, "cut to the marker alone");
        assert_eq!(record["message"], "Hi.", "too short to be worth cutting");
        assert_eq!(record["truncated_fields"], serde_json::json!(["note"]));
    }

    #[test]
    fn a_short_value_is_cut_to_the_marker_when_that_is_all_that_can_shrink() {
        assert_eq!(over_the_cap_by_its_id(20)["note"], TRUNCATION_MARKER);
    }

    #[test]
    fn the_length_estimate_is_the_lines_with_a_fixed_reserve_for_the_list() {
        let line = "{\"message\":\"Hi.\",\"k\\u0001y\":\"v\",\"note\":\"cut me\",\"n\":1.5}\n";
        let text = line.trim_end();
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let parsed = deserializer
            .deserialize_map(PairsVisitor)
            .unwrap_or_default();
        let pairs: Vec<Pair<'_>> = parsed
            .into_iter()
            .map(|(key, raw)| Pair {
                cut: key == "note",
                key,
                value: Cow::Borrowed(raw.get()),
            })
            .collect();
        // The line these pairs make, with the list of cut keys.
        let written = format!(
            "{},\"truncated_fields\":[\"note\"]}}\n",
            text.trim_end_matches('}')
        );
        // `line_length` is the written line's length plus a fixed reserve
        // of 50 bytes, room for the next key to join the list.
        assert_eq!(line_length(&pairs), written.len() + 50, "{written}");
    }

    #[test]
    fn a_record_over_its_cap_loses_its_largest_values_first_and_stays_json() {
        // Control characters grow six-fold when escaped.
        let escapes = "\u{1}".repeat(60);
        let big = serde_json::json!({"message": "Hi.", "prediction_id": "id",
            "small": "x".repeat(50), "escapes": escapes,
            "nested": {"list": vec!["y".repeat(60); 20]}});
        let line = format!("{big}\n");
        let out = capped(SMALL, &line);
        assert!(out.len() <= SMALL.record_max, "{} bytes", out.len());
        let record: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(record["prediction_id"], "id");
        assert_eq!(record["small"], "x".repeat(50));
        assert!(
            record["nested"]
                .as_str()
                .is_some_and(|text| text.ends_with(TRUNCATION_MARKER))
        );
    }
}

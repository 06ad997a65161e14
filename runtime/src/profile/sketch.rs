//! The sketches of one field over a window, in Apache DataSketches' own
//! binary formats (the `datasketches` crate): a KLL quantile sketch of its
//! numbers as 32-bit floats (with their sum, for the mean), and the frequent items and a
//! HyperLogLog distinct count of its texts. Written into a profile record
//! as base64 of each sketch's compact image, which DataSketches' Java, C++
//! and Python libraries read; read back and merged across windows and pods.

use super::value::ProfileValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use datasketches::common::SearchCriteria;
use datasketches::frequencies::{ErrorType, FrequentItemsSketch};
use datasketches::hll::{HllSketch, HllType, HllUnion};
use datasketches::kll::{KllFloat, KllSketch};
use serde_json::{Map, Value, json};

/// The KLL sketch's `k`: a normalized rank error of about 1 % (at 99 %
/// confidence, DataSketches' tables), exact up to 256 values; about 4 KB of
/// base64 per numeric field in a record.
pub(crate) const KLL_K: u16 = 256;

/// The `k` of a merged profile's quantile sketches: merged profiles are
/// read, not written to a line, and a large `k` keeps merging from adding
/// error.
pub const MERGE_K: u16 = 4096;

/// The frequent-items sketch's map size: up to 48 distinct items kept
/// exactly (three quarters of it), more with a bounded error.
const ITEMS_MAP_SIZE: usize = 64;

/// The HyperLogLog sketch's `lg_k`: 2^10 buckets, about 3 % relative error.
const HLL_LG_K: u8 = 10;

/// Why a profile's field could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct SketchError {
    /// The field's key.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// A number as the quantile sketch keeps it: 32 bits, half the bytes of a
/// 64-bit float for twice the items in a record of the same size (seven
/// significant digits; the mean is summed in 64 bits).
#[allow(clippy::cast_possible_truncation)]
fn narrow(number: f64) -> f32 {
    number as f32
}

/// The numbers of a field: their distribution and their sum.
#[derive(Clone, Debug)]
pub struct NumberSketch {
    kll: KllSketch<KllFloat<f32>>,
    sum: f64,
}

/// The texts of a field: the most frequent, and how many distinct.
#[derive(Clone, Debug)]
pub struct TextSketch {
    items: FrequentItemsSketch<String>,
    hll: HllUnion,
}

/// One field of a profile: how often it was there, null, and what values
/// it took.
#[derive(Clone, Debug, Default)]
pub struct FieldSketch {
    count: u64,
    nulls: u64,
    numbers: Option<NumberSketch>,
    texts: Option<TextSketch>,
    /// The quantile sketch's `k` when it is not [`KLL_K`].
    k: Option<u16>,
}

fn error(field: &str, reason: impl ToString) -> SketchError {
    SketchError {
        field: field.to_owned(),
        reason: reason.to_string(),
    }
}

impl NumberSketch {
    fn with_k(k: u16) -> Self {
        NumberSketch {
            kll: KllSketch::new(k).unwrap_or_default(),
            sum: 0.0,
        }
    }

    /// How many numbers.
    pub fn count(&self) -> u64 {
        self.kll.n()
    }

    /// The smallest number.
    pub fn min(&self) -> Option<f64> {
        self.kll.min_item().map(|item| f64::from(**item))
    }

    /// The largest number.
    pub fn max(&self) -> Option<f64> {
        self.kll.max_item().map(|item| f64::from(**item))
    }

    /// Their mean.
    pub fn mean(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.count() > 0).then(|| self.sum / self.kll.n() as f64)
    }

    /// The number at normalized rank `rank` (0 to 1).
    pub fn quantile(&self, rank: f64) -> Option<f64> {
        self.kll
            .quantile(rank.clamp(0.0, 1.0), SearchCriteria::Inclusive)
            .ok()
            .flatten()
            .map(|item| f64::from(*item))
    }

    /// The share of numbers at or below each of `points` (which must be
    /// increasing; others give `None`).
    pub fn cdf(&self, points: &[f64]) -> Option<Vec<f64>> {
        let points: Vec<KllFloat<f32>> = points
            .iter()
            .map(|point| KllFloat::<f32>::new(narrow(*point)).ok())
            .collect::<Option<_>>()?;
        self.kll
            .cdf(&points, SearchCriteria::Inclusive)
            .ok()
            .flatten()
    }

    /// The KLL sketch itself.
    pub fn kll(&self) -> &KllSketch<KllFloat<f32>> {
        &self.kll
    }
}

impl TextSketch {
    fn new() -> Self {
        TextSketch {
            // Both sizes are within the sketches' ranges.
            items: FrequentItemsSketch::new(ITEMS_MAP_SIZE)
                .unwrap_or_else(|_| unreachable_sketch()),
            hll: HllUnion::new(HLL_LG_K).unwrap_or_else(|_| unreachable_sketch()),
        }
    }

    /// How many texts.
    pub fn count(&self) -> u64 {
        self.items.total_weight()
    }

    /// The estimated number of distinct texts.
    pub fn distinct(&self) -> f64 {
        self.hll.estimate()
    }

    /// Each text seen, with its estimated count, most frequent first. Exact
    /// when [`max_error`](Self::max_error) is 0.
    pub fn items(&self) -> Vec<(String, u64)> {
        self.items
            .frequent_items(ErrorType::NoFalseNegatives)
            .into_iter()
            .map(|row| (row.item().clone(), row.estimate()))
            .collect()
    }

    /// The largest error of any item's count (0: every count is exact).
    pub fn max_error(&self) -> u64 {
        self.items.maximum_error()
    }
}

/// The sizes above are constants within every sketch's range; this is
/// never reached, and stands where an `unwrap` would.
fn unreachable_sketch<T>() -> T {
    unreachable!("a sketch size constant is out of its range")
}

impl FieldSketch {
    /// Adds one value.
    pub(crate) fn update(&mut self, value: &ProfileValue<'_>) {
        self.count += 1;
        match value {
            ProfileValue::Null => self.nulls += 1,
            ProfileValue::Number(number) => {
                if let Ok(item) = KllFloat::<f32>::new(narrow(*number)) {
                    let k = self.k.unwrap_or(KLL_K);
                    let numbers = self.numbers.get_or_insert_with(|| NumberSketch::with_k(k));
                    numbers.kll.update(item);
                    numbers.sum += number;
                }
            }
            ProfileValue::Text(text) => {
                let texts = self.texts.get_or_insert_with(TextSketch::new);
                texts.items.update_ref(*text);
                texts.hll.update_value(text.as_bytes());
            }
            ProfileValue::Present => {}
        }
    }

    /// An empty field whose quantile sketch will have `k` (8 to 65535; the
    /// records' is 256): a reference such as a training set's, kept where
    /// size does not matter, can be nearly exact.
    pub fn with_quantile_k(k: u16) -> Self {
        FieldSketch {
            k: Some(k),
            ..FieldSketch::default()
        }
    }

    /// Adds a number (a float that is not finite is counted, not sketched).
    pub fn add_number(&mut self, number: f64) {
        if number.is_finite() {
            self.update(&ProfileValue::Number(number));
        } else {
            self.update(&ProfileValue::Present);
        }
    }

    /// Adds a text.
    pub fn add_text(&mut self, text: &str) {
        self.update(&ProfileValue::Text(text));
    }

    /// Adds a null.
    pub fn add_null(&mut self) {
        self.update(&ProfileValue::Null);
    }

    /// The same field with its numbers' sketch remade at `k` (8 to
    /// 65535): smaller, fewer bytes and a larger rank error, as a record
    /// that must fit a line needs; larger, for a reference kept elsewhere
    /// (a model artifact), which then adds no error of its own beyond the
    /// values it already summarized. A `k` out of range leaves it as it is.
    pub fn with_kll_k(&self, k: u16) -> FieldSketch {
        let mut smaller = self.clone();
        if let Some(numbers) = &mut smaller.numbers {
            if let Ok(mut kll) = KllSketch::new(k) {
                if kll.merge(&numbers.kll).is_ok() {
                    numbers.kll = kll;
                }
            }
        }
        smaller
    }

    /// The field as a profile record holds it, under `model_profile.fields`:
    /// `role` is `"input"` or `"output"`.
    pub fn to_json(&self, role: &str) -> Value {
        self.json(role)
    }

    /// How many values (nulls included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many were null.
    pub fn nulls(&self) -> u64 {
        self.nulls
    }

    /// The numbers' sketch, if any value was a number.
    pub fn numbers(&self) -> Option<&NumberSketch> {
        self.numbers.as_ref()
    }

    /// The texts' sketch, if any value was a text.
    pub fn texts(&self) -> Option<&TextSketch> {
        self.texts.as_ref()
    }

    /// Adds `other`'s values to these (another window, another pod). The
    /// merged quantile sketch has a `k` of at least [`MERGE_K`]: it adds
    /// next to no error of its own, so the windows' independent errors
    /// average out as more are merged.
    pub fn merge(&mut self, other: &FieldSketch) -> Result<(), String> {
        self.count += other.count;
        self.nulls += other.nulls;
        if let Some(theirs) = &other.numbers {
            let ours = self
                .numbers
                .get_or_insert_with(|| NumberSketch::with_k(MERGE_K));
            if ours.kll.k() < MERGE_K {
                let mut larger = KllSketch::new(MERGE_K).map_err(|e| e.to_string())?;
                larger.merge(&ours.kll).map_err(|e| e.to_string())?;
                ours.kll = larger;
            }
            ours.kll.merge(&theirs.kll).map_err(|e| e.to_string())?;
            ours.sum += theirs.sum;
        }
        if let Some(theirs) = &other.texts {
            let ours = self.texts.get_or_insert_with(TextSketch::new);
            ours.items.merge(&theirs.items);
            ours.hll.update(&theirs.hll.to_sketch(HllType::Hll8));
        }
        Ok(())
    }

    /// The field's role and counts, without its sketches.
    pub(crate) fn counts_json(&self, role: &str) -> Map<String, Value> {
        let mut field = Map::new();
        field.insert("role".to_owned(), json!(role));
        field.insert("count".to_owned(), json!(self.count));
        field.insert("nulls".to_owned(), json!(self.nulls));
        field
    }

    fn json(&self, role: &str) -> Value {
        let mut field = self.counts_json(role);
        if let Some(numbers) = &self.numbers {
            field.insert(
                "numbers".to_owned(),
                json!({
                    "count": numbers.count(),
                    "min": numbers.min(),
                    "max": numbers.max(),
                    "mean": numbers.mean(),
                    "sum": numbers.sum,
                    "kll": BASE64.encode(numbers.kll.serialize()),
                }),
            );
        }
        if let Some(texts) = &self.texts {
            field.insert(
                "texts".to_owned(),
                json!({
                    "count": texts.count(),
                    "distinct": texts.distinct().round(),
                    "items": BASE64.encode(texts.items.serialize()),
                    "hll": BASE64.encode(texts.hll.to_sketch(HllType::Hll8).serialize()),
                }),
            );
        }
        Value::Object(field)
    }

    /// Reads a field of a profile record back.
    pub fn from_json(key: &str, value: &Value) -> Result<Self, SketchError> {
        let number = |name: &str| {
            value[name]
                .as_u64()
                .ok_or_else(|| error(key, format!("`{name}` is not a count")))
        };
        let bytes = |part: &Value, name: &str| {
            let text = part[name]
                .as_str()
                .ok_or_else(|| error(key, format!("`{name}` is not a base64 text")))?;
            BASE64
                .decode(text)
                .map_err(|e| error(key, format!("`{name}`: {e}")))
        };
        let mut field = FieldSketch {
            count: number("count")?,
            nulls: number("nulls")?,
            numbers: None,
            texts: None,
            k: None,
        };
        let numbers = &value["numbers"];
        if !numbers.is_null() {
            let kll = KllSketch::deserialize(&bytes(numbers, "kll")?)
                .map_err(|e| error(key, format!("`kll`: {e}")))?;
            let sum = numbers["sum"]
                .as_f64()
                .ok_or_else(|| error(key, "`sum` is not a number"))?;
            field.numbers = Some(NumberSketch { kll, sum });
        }
        let texts = &value["texts"];
        if !texts.is_null() {
            let items = FrequentItemsSketch::deserialize(&bytes(texts, "items")?)
                .map_err(|e| error(key, format!("`items`: {e}")))?;
            let sketch = HllSketch::deserialize(&bytes(texts, "hll")?)
                .map_err(|e| error(key, format!("`hll`: {e}")))?;
            let mut hll = HllUnion::new(HLL_LG_K).map_err(|e| error(key, e))?;
            hll.update(&sketch);
            field.texts = Some(TextSketch { items, hll });
        }
        Ok(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_counts_its_values_and_reads_back_as_it_was_written() {
        let mut field = FieldSketch::default();
        for value in 1..=1000 {
            field.update(&ProfileValue::Number(f64::from(value)));
        }
        field.update(&ProfileValue::Null);
        for text in ["a", "b", "a"] {
            field.update(&ProfileValue::Text(text));
        }
        field.update(&ProfileValue::Present);
        assert_eq!(field.count(), 1005);
        assert_eq!(field.nulls(), 1);
        let back = FieldSketch::from_json("f", &field.to_json("input")).expect("reads back");
        assert_eq!(back.count(), 1005);
        let numbers = back.numbers().expect("numbers");
        assert_eq!(numbers.count(), 1000);
        assert_eq!(numbers.min(), Some(1.0));
        assert_eq!(numbers.max(), Some(1000.0));
        assert_eq!(numbers.mean(), Some(500.5));
        let median = numbers.quantile(0.5).expect("a median");
        assert!((median - 500.0).abs() <= 20.0, "{median}");
        let texts = back.texts().expect("texts");
        assert_eq!(texts.items()[0], ("a".to_owned(), 2));
        assert_eq!(texts.distinct().round(), 2.0);
        assert_eq!(texts.max_error(), 0);
    }

    #[test]
    fn merged_fields_are_the_field_of_all_their_values() {
        let mut left = FieldSketch::default();
        let mut right = FieldSketch::default();
        let mut whole = FieldSketch::default();
        for value in 0..5000 {
            let value = ProfileValue::Number(f64::from(value % 977));
            whole.update(&value);
            if value_index_is_even(&value) {
                left.update(&value);
            } else {
                right.update(&value);
            }
        }
        left.merge(&right).expect("merges");
        let (merged, all) = (left.numbers().expect("n"), whole.numbers().expect("n"));
        assert_eq!(merged.count(), all.count());
        assert_eq!(merged.min(), all.min());
        assert_eq!(merged.max(), all.max());
        assert!((merged.mean().unwrap_or(0.0) - all.mean().unwrap_or(1.0)).abs() < 1e-9);
        for rank in [0.1, 0.5, 0.9] {
            let (a, b) = (
                merged.quantile(rank).unwrap_or(0.0),
                all.quantile(rank).unwrap_or(0.0),
            );
            assert!(
                (a - b).abs() <= 977.0 * 0.03,
                "rank {rank}: {a} against {b}"
            );
        }
    }

    fn value_index_is_even(value: &ProfileValue<'_>) -> bool {
        matches!(value, ProfileValue::Number(n) if (*n as u64).is_multiple_of(2))
    }

    #[test]
    fn a_damaged_field_is_an_error_that_names_it() {
        let error = FieldSketch::from_json(
            "amount",
            &json!({"count": 1, "nulls": 0, "numbers": {"kll": "!!", "sum": 1.0}}),
        )
        .expect_err("refused");
        assert!(
            error.to_string().starts_with("field `amount`: `kll`"),
            "{error}"
        );
        let error = FieldSketch::from_json("amount", &json!({"count": "1"})).expect_err("refused");
        assert!(error.to_string().contains("`count`"), "{error}");
    }
}

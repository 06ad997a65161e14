//! The two drains write the same bytes, and every logged field is exactly
//! what `serde_json::to_string` writes for its value. Thousands of seeded
//! random values go through both drains: strings over the whole of Unicode,
//! floats of every class, 128-bit extremes, nested enums of every serde shape,
//! maps, options and chars. Only `@timestamp` and `prediction_id` may differ.

use logged_model::{DrainKind, Logged, LoggerBuilder, Model, logged_model};
use logged_model_test_support::Captured;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Change it to explore; a failure names the seed it happened with.
const SEED: u64 = 0x5eed_1092;
const PREDICTIONS: usize = 3000;

#[derive(Clone, Debug, Serialize)]
enum Shape {
    Unit,
    Newtype(f32),
    Tuple(i64, String),
    Struct {
        inner: Box<Option<Shape>>,
        flag: bool,
    },
}

#[derive(Clone, Debug, Serialize)]
struct Values {
    text: String,
    single: f32,
    double: f64,
    signed: i128,
    unsigned: u128,
    shape: Shape,
    map: BTreeMap<String, Shape>,
    maybe: Option<f64>,
    letter: char,
    tiny: i8,
}

struct Echo;

#[logged_model(
    input_fields = [text, single, double, signed, unsigned, shape, map, maybe, letter, tiny],
    output_fields = [text, single, shape]
)]
impl Model for Echo {
    type Input = Values;
    type Output = Values;
    type Error = String;
    fn qualified_name(&self) -> &str {
        "echo"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, input: &Values) -> Result<Values, String> {
        Ok(input.clone())
    }
}

fn random_char(rng: &mut StdRng) -> char {
    const SPECIAL: [char; 10] = [
        '"', '\\', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}', '\u{2028}', '\u{2029}',
    ];
    match rng.random_range(0..4) {
        0 => SPECIAL[rng.random_range(0..SPECIAL.len())],
        1 => char::from(rng.random_range(0u8..0x80)),
        2 => char::from_u32(rng.random_range(0x1_0000..0x11_0000)).unwrap_or('\u{1f600}'),
        _ => char::from_u32(rng.random_range(0..0x11_0000)).unwrap_or('\u{fffd}'),
    }
}

fn random_text(rng: &mut StdRng) -> String {
    let length = rng.random_range(0..24);
    (0..length).map(|_| random_char(rng)).collect()
}

fn random_f32(rng: &mut StdRng) -> f32 {
    const EDGES: [f32; 8] = [
        0.0,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        f32::MAX,
        1e-45,
    ];
    match rng.random_range(0..4) {
        0 => EDGES[rng.random_range(0..EDGES.len())],
        1 => rng.random_range(-1000.0..1000.0),
        // Any bit pattern: subnormals, NaNs with payloads, every exponent.
        _ => f32::from_bits(rng.random()),
    }
}

fn random_f64(rng: &mut StdRng) -> f64 {
    match rng.random_range(0..3) {
        0 => [0.0, -0.0, f64::NAN, f64::INFINITY, 5e-324, f64::MAX][rng.random_range(0..6)],
        1 => rng.random_range(-1e6..1e6),
        _ => f64::from_bits(rng.random()),
    }
}

fn random_shape(rng: &mut StdRng, depth: u32) -> Shape {
    match rng.random_range(0..if depth == 0 { 3 } else { 4 }) {
        0 => Shape::Unit,
        1 => Shape::Newtype(random_f32(rng)),
        2 => Shape::Tuple(rng.random(), random_text(rng)),
        _ => Shape::Struct {
            inner: Box::new(rng.random_bool(0.7).then(|| random_shape(rng, depth - 1))),
            flag: rng.random(),
        },
    }
}

fn random_values(rng: &mut StdRng) -> Values {
    Values {
        text: random_text(rng),
        single: random_f32(rng),
        double: random_f64(rng),
        signed: [i128::MIN, i128::MAX, 0, rng.random()][rng.random_range(0..4)],
        unsigned: [u128::MAX, u128::from(u64::MAX) + 1, 0, rng.random()][rng.random_range(0..4)],
        shape: random_shape(rng, 3),
        map: (0..rng.random_range(0..4))
            .map(|_| (random_text(rng), random_shape(rng, 2)))
            .collect(),
        maybe: rng.random_bool(0.5).then(|| random_f64(rng)),
        letter: random_char(rng),
        tiny: rng.random(),
    }
}

fn inputs() -> Vec<Values> {
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..PREDICTIONS).map(|_| random_values(&mut rng)).collect()
}

/// Every line the drain wrote for `inputs`, and a few records of other kinds.
fn lines_on(drain: DrainKind, inputs: &[Values]) -> Vec<String> {
    let captured = Captured::with(
        LoggerBuilder::new()
            .drain(drain)
            .profile_interval(None)
            .level(slog::Level::Trace)
            .env_vars(["LOGGED_MODEL_UNSET"]),
    );
    let logger = captured
        .logger
        .new(slog::o!("component" => "equivalence", "ratio" => 2.5e-7, "ratio32" => 48.633446f32));
    slog::info!(logger, "Plain message.");
    slog::warn!(logger, "Formatted {} and {:?}.", "text\nwith newline", 'q';
        "u" => 7u8, "i" => -12i64, "f" => 0.1f64, "big" => u64::MAX, "nan" => f64::NAN,
        "b" => true, "c" => 'é', "s" => "tab\tand \u{1} control", "unit" => (), "none" => Option::<u8>::None,
        "u128" => u128::MAX, "i128" => i128::MIN, "f32" => 0.1f32);
    let model = Logged::new(Echo, &logger).expect("no key collision");
    for input in inputs {
        model.predict(input).expect("echo never fails");
    }
    slog::crit!(logger, "Critical.");
    let output = captured.output.clone();
    drop((logger, model));
    captured.finish();
    output.lines()
}

/// The line with what differs from run to run masked: `@timestamp`,
/// `prediction_id`, and `event.duration` (the time the model took).
fn masked(line: &str) -> String {
    serde_json::from_str::<serde_json::Value>(line)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
    let mut masked = line.to_owned();
    for key in ["@timestamp", "prediction_id"] {
        if let Some(start) = masked.find(&format!("\"{key}\":\"")) {
            let value_start = start + key.len() + 4;
            let value_end = masked[value_start..]
                .find('"')
                .map_or(masked.len(), |end| value_start + end);
            masked.replace_range(value_start..value_end, "masked");
        }
    }
    let duration = "\"event.duration\":";
    if let Some(start) = masked.find(duration) {
        let value_start = start + duration.len();
        let value_end = masked[value_start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(masked.len(), |end| value_start + end);
        masked.replace_range(value_start..value_end, "0");
    }
    masked
}

#[test]
fn both_drains_write_the_same_bytes_but_for_the_time_and_the_id() {
    let inputs = inputs();
    let line = lines_on(DrainKind::Line, &inputs);
    let slog_async = lines_on(DrainKind::SlogAsync, &inputs);
    // Two records per prediction, and the three other records.
    assert_eq!(
        line.len(),
        2 * PREDICTIONS + 3,
        "line drain (seed {SEED:#x})"
    );
    assert_eq!(
        slog_async.len(),
        line.len(),
        "slog-async drain (seed {SEED:#x})"
    );
    for (index, (ours, theirs)) in line.iter().zip(&slog_async).enumerate() {
        assert_eq!(
            masked(ours),
            masked(theirs),
            "line {index} (seed {SEED:#x})"
        );
    }
}

#[test]
fn every_field_is_what_serde_json_writes_for_its_value() {
    let inputs = inputs();
    for drain in [DrainKind::Line, DrainKind::SlogAsync] {
        let lines = lines_on(drain, &inputs);
        let predictions = &lines[2..lines.len() - 1];
        for (index, input) in inputs.iter().enumerate() {
            let requested: BTreeMap<String, &RawValue> =
                serde_json::from_str(&predictions[2 * index]).expect("a JSON object");
            let created: BTreeMap<String, &RawValue> =
                serde_json::from_str(&predictions[2 * index + 1]).expect("a JSON object");
            let expect = |record: &BTreeMap<String, &RawValue>, key: &str, value: String| {
                assert_eq!(
                    record.get(key).map(|raw| raw.get()),
                    Some(value.as_str()),
                    "{drain:?}, prediction {index}, `{key}` of {input:?} (seed {SEED:#x})"
                );
            };
            let json = |value: &dyn erased::Json| value.json();
            expect(&requested, "text", json(&input.text));
            expect(&requested, "single", json(&input.single));
            expect(&requested, "double", json(&input.double));
            expect(&requested, "signed", json(&input.signed));
            expect(&requested, "unsigned", json(&input.unsigned));
            expect(&requested, "shape", json(&input.shape));
            expect(&requested, "map", json(&input.map));
            expect(&requested, "maybe", json(&input.maybe));
            expect(&requested, "letter", json(&input.letter));
            expect(&requested, "tiny", json(&input.tiny));
            expect(&created, "text", json(&input.text));
            expect(&created, "single", json(&input.single));
            expect(&created, "shape", json(&input.shape));
        }
    }
}

/// `serde_json::to_string` of any value, behind one object-safe call.
mod erased {
    pub trait Json: std::fmt::Debug {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize + std::fmt::Debug> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|error| panic!("{error}: {self:?}"))
        }
    }
}

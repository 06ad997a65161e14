// A user who renamed the dependency (`renamed_runtime = { package =
// "logged-model", ... }` in Cargo.toml; `extern crate ... as` here, which has
// the same effect) points the attribute at it with `crate = ...`.
extern crate logged_model as renamed_runtime;

use renamed_runtime::{logged_model, CapturedOutput, Logged, LoggerBuilder, Model};

pub struct Input {
    pub amount: f64,
}

pub struct Scorer;

#[logged_model(crate = renamed_runtime, input_fields = [amount])]
impl Model for Scorer {
    type Input = Input;
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str { "scorer" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &Input) -> Result<(), String> { Ok(()) }
}

fn main() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid configuration");
    let model = Logged::new(Scorer, &logger).expect("no key collision");
    model.predict(&Input { amount: 2.5 }).expect("the model succeeds");
    drop(guard);
    let records = output.records().expect("JSON lines");
    assert_eq!(records[0]["amount"], 2.5);
}

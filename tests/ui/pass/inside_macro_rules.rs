// The attribute inside a `macro_rules!` expansion, as a crate that defines
// several models alike would write it.
use logged_model::{logged_model, CapturedOutput, Logged, LoggerBuilder, Model};

pub struct Input {
    pub amount: f64,
}

macro_rules! model {
    ($(#[$attribute:meta])* $name:ident) => {
        pub struct $name;

        $(#[$attribute])*
        impl Model for $name {
            type Input = Input;
            type Output = (bool,);
            type Error = String;
            fn qualified_name(&self) -> &str { stringify!($name) }
            fn version(&self) -> &str { "1" }
            fn predict(&self, input: &Input) -> Result<(bool,), String> { Ok((input.amount > 1.0,)) }
        }
    };
}

model! {
    #[logged_model(input_fields = [amount], output_fields = [0])]
    Threshold
}

fn main() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone()).expect("valid");
    let model = Logged::new(Threshold, &logger).expect("no key collision");
    model.predict(&Input { amount: 2.0 }).expect("predicts");
    drop(guard);
    let records = output.records().expect("JSON lines");
    assert_eq!(records[0]["amount"], 2.0);
    assert_eq!(records[1]["0"], true);
}

use logged_model::{logged_model, Model};
use serde::Serialize;

#[derive(Serialize)]
pub struct Income {
    pub monthly: f64,
}

pub struct Applicant {
    pub age: u32,
    pub income: Income,
}

pub struct Input {
    pub duration_in_month: u32,
    pub credit_amount: f64,
    pub r#type: String,
    pub applicant: Applicant,
    pub pair: (u8, (u8, u16)),
}

pub struct Output {
    pub credit_risk: &'static str,
    pub r#match: bool,
}

pub struct M;

#[logged_model(
    input_fields = [
        duration_in_month,
        "credit_amount",
        r#type,
        applicant.age,
        "applicant.income.monthly",
        applicant.income,
        pair.1.0,
        "pair.0",
    ],
    output_fields = [credit_risk, "match"],
)]
impl Model for M {
    type Input = Input;
    type Output = Output;
    type Error = String;
    fn qualified_name(&self) -> &str { "m" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &Input) -> Result<Output, String> {
        Ok(Output { credit_risk: "safe", r#match: true })
    }
}

fn main() {
    let output = logged_model::CapturedOutput::default();
    let (logger, guard) = logged_model::LoggerBuilder::new()
        .build_with_writer(output.clone())
        .expect("valid configuration");
    let model = logged_model::Logged::new(M, &logger).expect("no key collision");
    let input = Input {
        duration_in_month: 12,
        credit_amount: 2500.5,
        r#type: "personal".to_owned(),
        applicant: Applicant { age: 35, income: Income { monthly: 3100.25 } },
        pair: (7, (8, 9000)),
    };
    model.predict(&input).expect("predicts");
    drop(guard);
    let records = output.records().expect("JSON lines");
    let requested = &records[0];
    // Each path is logged under its dotted key, with the value it reaches.
    let expected = serde_json::json!({
        "duration_in_month": 12,
        "credit_amount": 2500.5,
        "type": "personal",
        "applicant.age": 35,
        "applicant.income.monthly": 3100.25,
        "applicant.income": { "monthly": 3100.25 },
        "pair.1.0": 8,
        "pair.0": 7,
    });
    for (key, value) in expected.as_object().expect("an object") {
        assert_eq!(&requested[key.as_str()], value, "{key}");
    }
    assert_eq!(records[1]["credit_risk"], "safe");
    assert_eq!(records[1]["match"], true);
    let spec = <M as logged_model::LoggedModel>::log_spec();
    assert_eq!(spec.output_keys, ["credit_risk", "match"]);
}

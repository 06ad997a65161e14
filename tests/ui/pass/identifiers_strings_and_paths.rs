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
    let spec = <M as logged_model::LoggedModel>::log_spec();
    assert_eq!(
        spec.input_keys,
        [
            "duration_in_month",
            "credit_amount",
            "type",
            "applicant.age",
            "applicant.income.monthly",
            "applicant.income",
            "pair.1.0",
            "pair.0",
        ]
    );
    assert_eq!(spec.output_keys, ["credit_risk", "match"]);
}

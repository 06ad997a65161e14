include!("../credit_model.rs");

// A string is not a path; `crate` given twice is reported at the second.

#[logged_model(crate = "logged_model", crate = logged_model, crate = logged_model)]
impl Model for CreditRiskModel {
    type Input = Input;
    type Output = Output;
    type Error = String;
    fn qualified_name(&self) -> &str { "credit_risk_model" }
    fn version(&self) -> &str { "0.1.0" }
    fn predict(&self, _input: &Input) -> Result<Output, String> {
        Ok(Output { credit_risk: "safe".to_owned() })
    }
}

fn main() {}

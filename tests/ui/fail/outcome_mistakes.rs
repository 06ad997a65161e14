include!("../credit_model.rs");

pub struct Outcome {
    pub repaid: bool,
}

// Outcome fields are checked like the others: an unknown one is rustc's
// error at its name, and one listed twice or reserved is reported too.
#[logged_model(outcome = Outcome, outcome_fields = [repayed, repaid, repaid, status])]
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

pub struct Second;

// Outcome fields need the outcome's type.
#[logged_model(outcome_fields = [repaid])]
impl Model for Second {
    type Input = Input;
    type Output = Output;
    type Error = String;
    fn qualified_name(&self) -> &str { "second" }
    fn version(&self) -> &str { "0.1.0" }
    fn predict(&self, _input: &Input) -> Result<Output, String> {
        Ok(Output { credit_risk: "safe".to_owned() })
    }
}

fn main() {}

include!("../credit_model.rs");

// A mode on a field that does not exist: rustc's own error, at the name.
#[logged_model(input_fields = [credit_amout(hash), "applicant.agee"(redact)])]
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

include!("../credit_model.rs");

// An Elasticsearch type this crate does not map lists the ones it does; a
// type that is not a string, and `type` without a value, are syntax errors.
#[logged_model(input_fields = [credit_amount(type = "number"), duration_in_month(type = long), "applicant.age"(type)])]
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

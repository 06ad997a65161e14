include!("../credit_model.rs");

// A path that names nothing is reported at the path: the generated code
// goes through it.
#[logged_model(crate = no_such_crate, input_fields = [credit_amount])]
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

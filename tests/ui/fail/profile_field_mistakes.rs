include!("../credit_model.rs");

// A field logged already, listed again to be profiled; and one that does
// not exist.
#[logged_model(
    input_fields = [duration_in_month],
    output_fields = [credit_risk],
    profile_fields = [credit_amount, duration_in_month, age]
)]
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

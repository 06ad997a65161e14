include!("../credit_model.rs");

#[logged_model(input_fields = [credit_amount], output_fields = [credit_risk], input_fields = [duration_in_month])]
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

include!("../credit_model.rs");

// An unknown mode lists the valid ones; a mode on a field that does not
// exist is still reported at the field; two modes are one too many.
#[logged_model(input_fields = [credit_amount(encrypt), credit_amout(hash), duration_in_month(redact, hash)])]
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

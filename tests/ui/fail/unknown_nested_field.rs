use logged_model::{logged_model, Model};

pub struct Applicant {
    pub age: u32,
}

pub struct Input {
    pub duration_in_month: u32,
    pub credit_amount: f64,
    pub applicant: Applicant,
}

pub struct Output {
    pub credit_risk: String,
}

pub struct CreditRiskModel;

#[logged_model(input_fields = [applicant.agee, "applicant.age.years"])]
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

use logged_model::{logged_model, Model, Sensitive};

pub struct Applicant {
    pub ssn: Sensitive<String>,
}

pub struct Input {
    pub applicant_id: Sensitive<String>,
    pub phone: Option<Sensitive<String>>,
    pub applicant: Applicant,
    pub amount: f64,
}

pub struct Scoring;

// Each sensitive field listed without a mode is an error at its name: the
// wrapper itself, an `Option` of it, and a path that ends in one.
#[logged_model(input_fields = [applicant_id, phone, applicant.ssn, amount])]
impl Model for Scoring {
    type Input = Input;
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str { "scoring" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &Input) -> Result<(), String> { Ok(()) }
}

fn main() {}

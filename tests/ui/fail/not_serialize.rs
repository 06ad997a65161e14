use logged_model::{logged_model, Model};

pub struct Secret(pub String);

pub struct Input {
    pub token: Secret,
}

pub struct Scoring;

#[logged_model(input_fields = [token])]
impl Model for Scoring {
    type Input = Input;
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str { "scoring" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &Input) -> Result<(), String> { Ok(()) }
}

fn main() {}

// Redacted and hashed fields, a sensitive value inside a field logged whole,
// and a sampling rate.
use logged_model::{logged_model, CapturedOutput, HashKey, Logged, LoggerBuilder, Model, ModelSettings, Sensitive};
use serde::Serialize;

#[derive(Serialize)]
pub struct Contact {
    pub city: String,
    pub phone: Sensitive<String>,
}

pub struct Input {
    pub applicant_id: Sensitive<String>,
    pub phone: Option<Sensitive<String>>,
    pub marital_status: String,
    pub contact: Contact,
    pub amount: f64,
}

pub struct Scoring;

#[logged_model(
    input_fields = [applicant_id(hash), phone(redact), "marital_status"(redact), contact, amount],
    output_fields = [0(hash)],
    sample_rate = 1,
)]
impl Model for Scoring {
    type Input = Input;
    type Output = (u32,);
    type Error = String;
    fn qualified_name(&self) -> &str { "scoring" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &Input) -> Result<(u32,), String> { Ok((7,)) }
}

fn main() {
    let output = CapturedOutput::default();
    let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone()).expect("valid");
    let settings = ModelSettings::new().hash_key(HashKey::new("a key of sixteen bytes").expect("long enough"));
    let model = Logged::with_settings(Scoring, &logger, &settings).expect("a key is set");
    let input = Input {
        applicant_id: Sensitive::new("A-1".to_owned()),
        phone: Some(Sensitive::new("tel-555-private".to_owned())),
        marital_status: "single".to_owned(),
        contact: Contact { city: "Bonn".to_owned(), phone: Sensitive::new("tel-555-private".to_owned()) },
        amount: 10.0,
    };
    model.predict(&input).expect("predicts");
    drop(guard);
    let records = output.records().expect("JSON lines");
    assert_eq!(records[0]["applicant_id"].as_str().map(str::len), Some(64));
    assert_eq!(records[0]["phone"], "[REDACTED]");
    assert_eq!(records[0]["marital_status"], "[REDACTED]");
    assert_eq!(records[0]["contact"]["city"], "Bonn");
    assert_eq!(records[0]["contact"]["phone"], "[REDACTED]");
    assert_eq!(records[1]["0"].as_str().map(str::len), Some(64));
    assert!(!output.text().contains("A-1") && !output.text().contains("555-private"));
}

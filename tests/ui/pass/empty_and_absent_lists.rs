use logged_model::{logged_model, Model};

pub struct Empty;

#[logged_model(input_fields = [], output_fields = [])]
impl Model for Empty {
    type Input = ();
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str { "empty" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &()) -> Result<(), String> { Ok(()) }
}

pub struct NoArguments;

#[logged_model]
impl Model for NoArguments {
    type Input = ();
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str { "no_arguments" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &()) -> Result<(), String> { Ok(()) }
}

pub struct OnlyName;

#[logged_model(name = "custom_logger")]
impl logged_model::Model for OnlyName {
    type Input = ();
    type Output = ();
    type Error = String;
    fn qualified_name(&self) -> &str { "only_name" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, _input: &()) -> Result<(), String> { Ok(()) }
}

fn main() {
    use logged_model::LoggedModel;
    assert!(Empty::log_spec().input_keys.is_empty());
    assert!(NoArguments::log_spec().output_keys.is_empty());
    assert_eq!(OnlyName::log_spec().logger_name, Some("custom_logger"));
}

use logged_model::logged_model;
use std::fmt;

pub struct CreditRiskModel;

#[logged_model(input_fields = [a])]
fn predict() {}

#[logged_model(input_fields = [a])]
pub struct Input {
    pub a: u32,
}

#[logged_model(input_fields = [a])]
impl CreditRiskModel {
    pub fn new() -> Self { CreditRiskModel }
}

#[logged_model(input_fields = [a])]
impl fmt::Display for CreditRiskModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("model") }
}

fn main() {}

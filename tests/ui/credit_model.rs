// The types of a credit-risk model, shared by the compile-fail cases
// through `include!`: each case adds only the annotated impl under test.

#[allow(unused_imports)]
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

//! The workload every row runs: the credit-risk model on a typical
//! application, with two logged input fields, one logged output field and
//! three environment fields.

use credit_risk_service::application::CreditApplication;
use credit_risk_service::artifact::ModelArtifact;
use credit_risk_service::model::{CreditRisk, CreditRiskModel};

/// The environment fields every row logs.
pub const ENV_VARS: [&str; 3] = ["POD_NAME", "NODE_NAME", "APP_NAME"];

/// Their values, for the rows that do not read the environment.
pub const ENV_VALUES: [&str; 3] = [
    "credit-risk-service-7d4b9-x2x7q",
    "node-1",
    "credit-risk-service",
];

/// The committed model.
pub fn model() -> CreditRiskModel {
    let artifact = ModelArtifact::load(credit_risk_service::DEFAULT_ARTIFACT.as_ref())
        .expect("the committed artifact loads");
    CreditRiskModel::new(artifact)
}

/// A typical application.
pub fn input() -> CreditApplication {
    credit_risk_service::examples::good_applicant()
}

/// The risk as the records write it.
pub fn risk_name(risk: CreditRisk) -> &'static str {
    match risk {
        CreditRisk::Safe => "safe",
        CreditRisk::Risky => "risky",
    }
}

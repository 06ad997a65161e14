//! The workload every row runs: the credit-risk model on a typical
//! application, with two logged input fields, one logged output field and
//! three environment fields; and the variants of the production-control
//! rows (a hashed field, a redacted field, a sampling rate).

use credit_risk_service::application::CreditApplication;
use credit_risk_service::artifact::ModelArtifact;
use credit_risk_service::model::{
    CreditRisk, CreditRiskModel, CreditRiskPrediction, PredictionError,
};
use logged_model::{HashKey, Model, ModelSettings, Sensitive, logged_model};

/// The environment fields every row logs.
pub const ENV_VARS: [&str; 3] = ["POD_NAME", "NODE_NAME", "APP_NAME"];

/// Their values, for the rows that do not read the environment.
pub const ENV_VALUES: [&str; 3] = [
    "credit-risk-service-7d4b9-x2x7q",
    "node-1",
    "credit-risk-service",
];

/// Defines a model that delegates to the credit-risk model, with its own
/// `#[logged_model]` attribute.
macro_rules! workload {
    ($(#[$attribute:meta])* $name:ident) => {
        /// The credit-risk model under this row's attribute.
        pub struct $name(pub CreditRiskModel);

        $(#[$attribute])*
        impl Model for $name {
            type Input = CreditApplication;
            type Output = CreditRiskPrediction;
            type Error = PredictionError;

            fn qualified_name(&self) -> &str {
                self.0.qualified_name()
            }

            fn version(&self) -> &str {
                self.0.version()
            }

            fn predict(&self, input: &CreditApplication) -> Result<CreditRiskPrediction, PredictionError> {
                self.0.predict(input)
            }
        }
    };
}

/// What became of a credit, for the outcome row.
pub struct Repaid {
    /// Whether the credit was repaid.
    pub repaid: bool,
}

workload! {
    #[logged_model(
        input_fields = [duration_in_month, credit_amount],
        output_fields = [credit_risk],
        outcome = Repaid,
        outcome_fields = [repaid]
    )]
    Workload
}

workload! {
    #[logged_model(input_fields = [duration_in_month, credit_amount, applicant_id(hash)], output_fields = [credit_risk])]
    HashedWorkload
}

workload! {
    #[logged_model(input_fields = [duration_in_month, credit_amount, personal_status_and_sex(redact)], output_fields = [credit_risk])]
    RedactedWorkload
}

/// Settings with a hash key, and `rate` if given.
pub fn settings(rate: Option<f64>) -> ModelSettings {
    let key = HashKey::new("the benchmark's hash key").expect("long enough");
    let settings = ModelSettings::new().hash_key(key);
    match rate {
        Some(rate) => settings.sample_rate(rate).expect("a rate"),
        None => settings,
    }
}

/// The committed model.
pub fn model() -> CreditRiskModel {
    let artifact = ModelArtifact::load(credit_risk_service::DEFAULT_ARTIFACT.as_ref())
        .expect("the committed artifact loads");
    CreditRiskModel::new(artifact)
}

/// A typical application, with an applicant id.
pub fn input() -> CreditApplication {
    CreditApplication {
        applicant_id: Some(Sensitive::new("applicant-0042".to_owned())),
        ..credit_risk_service::examples::good_applicant()
    }
}

/// The risk as the records write it.
pub fn risk_name(risk: CreditRisk) -> &'static str {
    match risk {
        CreditRisk::Safe => "safe",
        CreditRisk::Risky => "risky",
    }
}

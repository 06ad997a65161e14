//! The credit-risk model, with its predictions logged by `#[logged_model]`.

use crate::application::{CreditApplication, InvalidField};
use crate::artifact::ModelArtifact;
use crate::dataset::Creditability;
use crate::scoring::probability_of_bad;
use logged_model::{Model, logged_model};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The name clients use in the API's paths.
pub const QUALIFIED_NAME: &str = "credit_risk_model";

/// The model's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CreditRisk {
    /// Lending is expected to cost less than refusing.
    Safe,
    /// Refusing is expected to cost less than lending.
    Risky,
}

impl CreditRisk {
    /// The verdict as it is logged: `"safe"` or `"risky"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditRisk::Safe => "safe",
            CreditRisk::Risky => "risky",
        }
    }
}

/// Indexed as a keyword: the framework cannot tell a unit enum (a string in
/// the record) from a struct (an object) by its type alone.
impl logged_model::mapping::EsType for CreditRisk {
    const ES_TYPE: &'static str = "keyword";
}

/// What became of a credit: the truth a prediction is judged by, reported
/// later (`POST /api/models/credit_risk_model/outcome`) and logged as
/// "Prediction outcome." under the prediction's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreditOutcome {
    /// `good` (repaid as agreed) or `bad` (defaulted).
    #[schema(inline)]
    pub creditability: Creditability,
}

/// What the model predicts for an application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreditRiskPrediction {
    /// `risky` when the probability of bad credit reaches the model's threshold.
    #[schema(inline)]
    pub credit_risk: CreditRisk,
    /// The probability that the credit goes bad, from 0 to 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub probability_of_risky: f64,
}

/// Why the model gave no prediction.
#[derive(Debug, thiserror::Error)]
pub enum PredictionError {
    /// A value is outside the range the model was trained on.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidField),
    /// The features could not be arranged for the classifier.
    #[error("the features do not fit the classifier: {0}")]
    Features(#[from] ndarray::ShapeError),
}

/// The trained logistic regression behind the service.
pub struct CreditRiskModel {
    artifact: ModelArtifact,
}

impl CreditRiskModel {
    /// The model of a loaded artifact.
    pub fn new(artifact: ModelArtifact) -> Self {
        CreditRiskModel { artifact }
    }

    /// The artifact it predicts with.
    pub fn artifact(&self) -> &ModelArtifact {
        &self.artifact
    }
}

// `personal_status_and_sex` is a protected attribute: the records say it was
// there, never what it was. `applicant_id` is `Sensitive`: logged as a keyed
// hash, so one applicant's records can be grouped, and the compiler refuses
// to log it in the clear. The other attributes are profiled, not logged:
// every prediction's values reach the model's profile records (drift of all
// 20 inputs at any sampling rate) without growing the prediction records.
#[logged_model(
    input_fields = [
        duration_in_month,
        credit_amount,
        personal_status_and_sex(redact),
        applicant_id(hash),
    ],
    output_fields = [credit_risk, probability_of_risky],
    profile_fields = [
        status_of_existing_checking_account,
        credit_history,
        purpose,
        savings_account_and_bonds,
        present_employment_since,
        installment_rate_in_percentage_of_disposable_income,
        other_debtors_or_guarantors,
        present_residence_since,
        property,
        age_in_years,
        other_installment_plans,
        housing,
        number_of_existing_credits_at_this_bank,
        job,
        number_of_people_being_liable_to_provide_maintenance_for,
        telephone,
        foreign_worker,
    ],
    outcome = CreditOutcome,
    outcome_fields = [creditability]
)]
impl Model for CreditRiskModel {
    type Input = CreditApplication;
    type Output = CreditRiskPrediction;
    type Error = PredictionError;

    fn qualified_name(&self) -> &str {
        QUALIFIED_NAME
    }

    fn version(&self) -> &str {
        &self.artifact.model_version
    }

    fn predict(&self, input: &CreditApplication) -> Result<CreditRiskPrediction, PredictionError> {
        input.validate()?;
        let features = self.artifact.encoder.encode(input);
        let features = Array2::from_shape_vec((1, features.len()), features)?;
        let probability = probability_of_bad(&self.artifact.classifier, &features)
            .first()
            .copied()
            .ok_or(ndarray::ShapeError::from_kind(
                ndarray::ErrorKind::OutOfBounds,
            ))?;
        let credit_risk = if probability >= self.artifact.settings.threshold {
            CreditRisk::Risky
        } else {
            CreditRisk::Safe
        };
        Ok(CreditRiskPrediction {
            credit_risk,
            probability_of_risky: probability,
        })
    }
}

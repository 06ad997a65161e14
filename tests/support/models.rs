//! Models for tests: one of the shape of the credit-risk model, and small
//! ones that fail, panic or await.

use logged_model::{AsyncModel, Model, logged_model};
use serde::Serialize;
use std::fmt;

/// What the applicant asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A new car.
    CarNew,
    /// Education.
    Education,
}

/// Details of the person applying.
#[derive(Clone, Debug, Serialize)]
pub struct Applicant {
    /// Age in years.
    pub age: u32,
    /// Monthly income, when known.
    pub income: Option<f64>,
}

/// A credit application.
#[derive(Clone, Debug)]
pub struct Application {
    /// Months the credit runs.
    pub duration_in_month: u32,
    /// Amount asked for.
    pub credit_amount: f64,
    /// What it is for.
    pub purpose: Purpose,
    /// Who asks.
    pub applicant: Applicant,
    /// A free-text note, logged to test escaping.
    pub note: String,
}

impl Application {
    /// A typical application.
    pub fn typical() -> Self {
        Application {
            duration_in_month: 12,
            credit_amount: 2500.5,
            purpose: Purpose::CarNew,
            applicant: Applicant {
                age: 35,
                income: None,
            },
            note: "line one\nline \"two\"\u{1}".to_owned(),
        }
    }
}

/// The model's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    /// `"safe"` or `"risky"`.
    pub credit_risk: String,
    /// Probability of `"risky"`.
    pub probability: f64,
}

/// Why the model refused to predict.
#[derive(Debug, PartialEq, Eq)]
pub struct AmountTooLarge;

impl fmt::Display for AmountTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("credit amount above the model's range")
    }
}

/// A synchronous model: risky above 10,000, an error above 1,000,000 and a
/// panic for a negative amount.
pub struct CreditModel;

#[logged_model(
    input_fields = [duration_in_month, credit_amount, purpose, applicant.income, "applicant.age", note],
    output_fields = [credit_risk, probability]
)]
impl Model for CreditModel {
    type Input = Application;
    type Output = Assessment;
    type Error = AmountTooLarge;

    fn qualified_name(&self) -> &str {
        "credit_risk_model"
    }

    fn version(&self) -> &str {
        "0.1.0"
    }

    fn predict(&self, input: &Application) -> Result<Assessment, AmountTooLarge> {
        assess(input)
    }
}

fn assess(input: &Application) -> Result<Assessment, AmountTooLarge> {
    if input.credit_amount < 0.0 {
        panic!("negative credit amount: {}", input.credit_amount);
    }
    if input.credit_amount > 1_000_000.0 {
        return Err(AmountTooLarge);
    }
    let risky = input.credit_amount > 10_000.0;
    Ok(Assessment {
        credit_risk: if risky { "risky" } else { "safe" }.to_owned(),
        probability: if risky { 0.8 } else { 0.2 },
    })
}

/// The same model, predicting asynchronously after a yield.
pub struct AsyncCreditModel;

#[logged_model(input_fields = [credit_amount], output_fields = [credit_risk], name = "async_credit_logger")]
impl AsyncModel for AsyncCreditModel {
    type Input = Application;
    type Output = Assessment;
    type Error = AmountTooLarge;

    fn qualified_name(&self) -> &str {
        "async_credit_risk_model"
    }

    fn version(&self) -> &str {
        "0.2.0"
    }

    async fn predict(&self, input: &Application) -> Result<Assessment, AmountTooLarge> {
        yield_once().await;
        assess(input)
    }
}

/// Yields once to the executor, so the prediction really awaits.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// A model with a field named like an environment variable, to test
/// collisions: it logs `pod_name`.
pub struct PodAwareModel;

/// Input of [`PodAwareModel`].
pub struct PodInput {
    /// Collides with the `POD_NAME` environment field.
    pub pod_name: String,
}

#[logged_model(input_fields = [pod_name])]
impl Model for PodAwareModel {
    type Input = PodInput;
    type Output = ();
    type Error = std::convert::Infallible;

    fn qualified_name(&self) -> &str {
        "pod_aware_model"
    }

    fn version(&self) -> &str {
        "1"
    }

    fn predict(&self, _input: &PodInput) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Input of [`UnserializableFieldModel`].
pub struct GridInput {
    /// A map with tuple keys, which JSON cannot represent.
    pub cells: std::collections::BTreeMap<(u8, u8), u8>,
    /// A plain field after it.
    pub size: u8,
}

/// A model with a field serde cannot turn into JSON.
pub struct UnserializableFieldModel;

#[logged_model(input_fields = [cells, size])]
impl Model for UnserializableFieldModel {
    type Input = GridInput;
    type Output = ();
    type Error = std::convert::Infallible;

    fn qualified_name(&self) -> &str {
        "grid_model"
    }

    fn version(&self) -> &str {
        "1"
    }

    fn predict(&self, _input: &GridInput) -> Result<(), Self::Error> {
        Ok(())
    }
}

//! The quickstart: a model annotated once, its predictions logged as JSON
//! lines on standard output.
//!
//! Run with `cargo run --example quickstart`; set `LOG_ENV_VARS=USER,HOSTNAME`
//! (or any variable names) to see environment fields on every record.

use logged_model::correlation;
use logged_model::{Logged, Model, logged_model};
use serde::Serialize;

/// What the model reads.
pub struct Applicant {
    /// Months the credit runs.
    pub duration_in_month: u32,
    /// The amount asked for.
    pub credit_amount: f64,
}

/// The model's verdict, written as `"safe"` or `"risky"`.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditRisk {
    /// Likely to be repaid.
    Safe,
    /// Likely to default.
    Risky,
}

/// What the model predicts.
pub struct Assessment {
    /// The verdict.
    pub credit_risk: CreditRisk,
}

/// A rule standing in for a trained model.
pub struct CreditRiskModel;

#[logged_model(input_fields = [duration_in_month, credit_amount], output_fields = [credit_risk])]
impl Model for CreditRiskModel {
    type Input = Applicant;
    type Output = Assessment;
    type Error = String;

    fn qualified_name(&self) -> &str {
        "credit_risk_model"
    }

    fn version(&self) -> &str {
        "0.1.0"
    }

    fn predict(&self, input: &Applicant) -> Result<Assessment, String> {
        if input.duration_in_month == 0 {
            return Err("duration_in_month must be at least 1".to_owned());
        }
        let monthly = input.credit_amount / f64::from(input.duration_in_month);
        let credit_risk = if monthly > 500.0 {
            CreditRisk::Risky
        } else {
            CreditRisk::Safe
        };
        Ok(Assessment { credit_risk })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The guard lives until the end of `main`: dropping it writes every record.
    let (logger, _guard) = logged_model::init_from_env()?;
    let model = Logged::new(CreditRiskModel, &logger)?;

    correlation::scope("quickstart-request-1", || {
        let _ = model.predict(&Applicant {
            duration_in_month: 24,
            credit_amount: 4000.0,
        });
    });
    let _ = model.predict(&Applicant {
        duration_in_month: 6,
        credit_amount: 9000.0,
    });
    let _ = model.predict(&Applicant {
        duration_in_month: 0,
        credit_amount: 1000.0,
    });
    log::info!("Records from the log crate are JSON lines too.");
    Ok(())
}

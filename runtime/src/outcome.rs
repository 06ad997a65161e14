//! [`OutcomeLogger`]: writes "Prediction outcome." records, which join a
//! prediction to what became of it (did the applicant repay?) by its
//! `prediction_id`, so that the model's quality can be recomputed from the
//! logs alone. The outcome may arrive in another process, days later: an
//! outcome logger needs the model's type (for its outcome fields), name and
//! version, and the id; not the model, nor the original call.

use crate::correlation;
use crate::fields::FieldRecorder;
use crate::generated::LoggedModel;
use crate::hashing::HashKey;
use crate::model_logger::{WrapError, model_logger};
use crate::model_settings::ModelSettings;
use crate::prediction_id::PredictionId;
use crate::record::prediction_record::{PredictionPairs, with_outcome_record};
use slog::Logger;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes the outcomes of model `M`'s predictions.
///
/// ```
/// use logged_model::{logged_model, CapturedOutput, Logged, LoggerBuilder, Model, OutcomeLogger};
///
/// pub struct Applicant { pub amount: f64 }
/// pub struct Repaid { pub repaid: bool }
/// pub struct Scorer;
///
/// #[logged_model(input_fields = [amount], outcome = Repaid, outcome_fields = [repaid])]
/// impl Model for Scorer {
///     type Input = Applicant;
///     type Output = f64;
///     type Error = String;
///     fn qualified_name(&self) -> &str { "scorer" }
///     fn version(&self) -> &str { "1" }
///     fn predict(&self, input: &Applicant) -> Result<f64, String> { Ok(input.amount / 1e4) }
/// }
///
/// let output = CapturedOutput::default();
/// let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone())?;
/// let model = Logged::new(Scorer, &logger)?;
/// let (id, _score) = model.predict_with_id(&Applicant { amount: 2500.0 });
/// let id = id.expect("logged at the default rate");
///
/// // Days later, in another process that knows the model's name and version:
/// let outcomes = OutcomeLogger::<Scorer>::new(&logger, "scorer", "1")?;
/// outcomes.log(&id, &Repaid { repaid: true });
/// drop(guard);
///
/// let records = output.records()?;
/// assert_eq!(records[2]["message"], "Prediction outcome.");
/// assert_eq!(records[2]["prediction_id"], id.as_str());
/// assert_eq!(records[2]["repaid"], true);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OutcomeLogger<M: LoggedModel> {
    logger: Logger,
    hash_key: Option<HashKey>,
    /// The model's count of outcomes, written into its profile records.
    counted: Option<Arc<AtomicU64>>,
    model: PhantomData<fn() -> M>,
}

impl<M: LoggedModel> OutcomeLogger<M> {
    /// An outcome logger for the model named `qualified_name` at `version`,
    /// with the models' settings `logger` was built with (its hash key, for
    /// outcome fields listed as `(hash)`).
    pub fn new(
        logger: &crate::Logger,
        qualified_name: &str,
        version: &str,
    ) -> Result<Self, WrapError> {
        match logger.settings() {
            Ok(settings) => Self::with_settings(logger, qualified_name, version, settings),
            Err(error) => Err(WrapError::Settings {
                model: qualified_name.to_owned(),
                error: error.clone(),
            }),
        }
    }

    /// Like [`new`](Self::new), with settings given in code.
    pub fn with_settings(
        logger: &crate::Logger,
        qualified_name: &str,
        version: &str,
        settings: &ModelSettings,
    ) -> Result<Self, WrapError> {
        let counted = logger
            .profiles()
            .map(|profiles| profiles.outcome_counter(qualified_name));
        let logger = model_logger::<M>(logger, qualified_name, version, "outcome", settings)?;
        Ok(OutcomeLogger {
            logger,
            hash_key: settings.key().cloned(),
            counted,
            model: PhantomData,
        })
    }

    /// Writes "Prediction outcome." for the prediction `prediction_id`, with
    /// the outcome fields and the correlation id in scope, if any.
    pub fn log(&self, prediction_id: &PredictionId, outcome: &M::Outcome) {
        let mut fields = FieldRecorder::new(self.hash_key.as_ref(), None);
        M::record_outcome(outcome, &mut fields);
        let correlation_id = correlation::current();
        let pairs = PredictionPairs {
            prediction_id: prediction_id.text_bytes(),
            correlation_id: correlation_id
                .as_ref()
                .map(correlation::CorrelationId::as_str),
            trace: correlation::current_trace(),
            sample_rate: None,
            status: None,
            fields: &fields,
            duration_ns: None,
            error_info: None,
        };
        with_outcome_record(&M::log_spec().location, &pairs, |record| {
            self.logger.log(record);
        });
        if let Some(counted) = &self.counted {
            counted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

//! What every handler shares: the model (its predictions logged or not), the
//! logger, and whether the service is ready for traffic.

use super::prometheus::Metrics;
use crate::application::CreditApplication;
use crate::model::CreditRiskModel;
use crate::model::{CreditRiskPrediction, PredictionError};
use logged_model::{LogOutput, Logged, Model, OutcomeLogger, PredictionId, RoomPermit};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Any model of the service's types, unlogged.
pub type BareModel = dyn Model<Input = CreditApplication, Output = CreditRiskPrediction, Error = PredictionError>
    + Send
    + Sync;

/// The model as the handlers use it: the logged decorator in production, or
/// a bare model (prediction logging switched off, to measure its cost).
pub enum ServedModel {
    /// Every prediction logged, its id returned.
    Logged(Arc<Logged<CreditRiskModel>>),
    /// No prediction logged.
    Bare(Box<BareModel>),
}

impl ServedModel {
    /// A prediction, with the id its records carry (none when unlogged).
    pub fn predict(
        &self,
        application: &CreditApplication,
    ) -> (
        Option<PredictionId>,
        Result<CreditRiskPrediction, PredictionError>,
    ) {
        match self {
            ServedModel::Logged(model) => model.predict_with_id(application),
            ServedModel::Bare(model) => (None, model.predict(application)),
        }
    }

    /// The model's version.
    pub fn version(&self) -> &str {
        match self {
            ServedModel::Logged(model) => model.version(),
            ServedModel::Bare(model) => model.version(),
        }
    }
}

/// The state behind every request, shared through one `Arc`.
pub struct AppState {
    /// The model.
    pub model: ServedModel,
    /// Writes the outcomes reported for the model's predictions.
    pub outcomes: OutcomeLogger<CreditRiskModel>,
    /// The model's held-out ROC AUC, for its description.
    pub roc_auc: f64,
    /// The service's root logger.
    pub logger: slog::Logger,
    /// Whether every request writes an access-log record.
    pub access_log: bool,
    /// How long a request may take.
    pub request_timeout: Duration,
    /// The log's channel: readiness asks it whether the output is stalled,
    /// and the handlers await room in it rather than block the runtime.
    pub log_output: Option<LogOutput>,
    /// What `/metrics` serves; made by [`shared`](Self::shared).
    pub metrics: Option<Metrics>,
    ready: AtomicBool,
}

/// Room awaited in the log's channel; records logged inside
/// [`LogRoom::enter`] take it instead of waiting for it.
pub struct LogRoom(Option<RoomPermit>);

impl LogRoom {
    /// Runs `log` with the room.
    pub fn enter<R>(&mut self, log: impl FnOnce() -> R) -> R {
        match &mut self.0 {
            Some(room) => room.enter(log),
            None => log(),
        }
    }
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// State for a loaded model, with the access log on; ready at once.
    pub fn new(
        model: ServedModel,
        outcomes: OutcomeLogger<CreditRiskModel>,
        roc_auc: f64,
        logger: slog::Logger,
        request_timeout: Duration,
    ) -> Self {
        AppState {
            model,
            outcomes,
            roc_auc,
            logger,
            access_log: true,
            request_timeout,
            log_output: None,
            metrics: None,
            ready: AtomicBool::new(true),
        }
    }

    /// Awaits room in the log's channel, and keeps room stalled outputs
    /// from blocking the runtime's threads (see [`LogOutput`]).
    pub fn with_log_output(mut self, output: LogOutput) -> Self {
        self.log_output = Some(output);
        self
    }

    /// Room for `records` in the log's channel, awaited.
    pub async fn log_room(&self, records: usize) -> LogRoom {
        match &self.log_output {
            Some(output) => LogRoom(Some(output.room_for(records).await)),
            None => LogRoom(None),
        }
    }

    /// Switches the access log on or off.
    pub fn with_access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// Shares the state, with its metrics.
    pub fn shared(mut self) -> SharedState {
        let model = match &self.model {
            ServedModel::Logged(model) => Some(Arc::clone(model)),
            ServedModel::Bare(_) => None,
        };
        self.metrics = Some(Metrics::new(
            model,
            self.model.version().to_owned(),
            self.log_output.clone(),
        ));
        Arc::new(self)
    }

    /// Whether the service takes traffic: false once shutdown begins.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Marks the service as shutting down, so readiness probes fail.
    pub fn stop_accepting(&self) {
        self.ready.store(false, Ordering::Release);
    }
}

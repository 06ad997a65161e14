//! What every handler shares: the logged model, the logger, and whether the
//! service is ready for traffic.

use crate::model::CreditRiskModel;
use logged_model::Logged;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The state behind every request, shared through one `Arc`.
pub struct AppState {
    /// The model, its predictions logged.
    pub model: Logged<CreditRiskModel>,
    /// The service's root logger.
    pub logger: slog::Logger,
    /// How long a request may take.
    pub request_timeout: Duration,
    ready: AtomicBool,
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// State for a loaded model; ready at once.
    pub fn new(model: Logged<CreditRiskModel>, logger: slog::Logger, request_timeout: Duration) -> SharedState {
        Arc::new(AppState { model, logger, request_timeout, ready: AtomicBool::new(true) })
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

//! Runs the HTTP server until a shutdown signal, then drains it: readiness
//! turns false, in-flight requests finish, idle connections close, and the
//! wait is bounded.

use crate::http::{router, state::SharedState};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves `state` on `listener` until `shutdown` resolves, then waits at
/// most `drain_timeout` for open requests to finish.
pub async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let logger = state.logger.clone();
    let signal_state = state.clone();
    let state_for_timeout = state.clone();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        shutdown.await;
        signal_state.stop_accepting();
        let _ = draining_tx.send(());
        // The record must not hold up the shutdown while the log output is
        // stalled: it waits a moment for room, then is left out.
        let room = tokio::time::timeout(Duration::from_millis(100), signal_state.log_room(1));
        if let Ok(mut room) = room.await {
            room.enter(|| {
                slog::info!(
                    signal_state.logger,
                    "Shutdown started: finishing open requests."
                )
            });
        }
    });
    tokio::select! {
        result = server => result,
        () = async {
            if draining_rx.await.is_ok() {
                tokio::time::sleep(drain_timeout).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            if !state_for_timeout.log_output.as_ref().is_some_and(logged_model::LogOutput::is_stalled) {
                slog::warn!(logger, "Shutdown timed out: requests still open were abandoned.";
                    "timeout_seconds" => drain_timeout.as_secs());
            }
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

//! The HTTP API: routes, middleware and error mapping.

pub mod error;
pub mod handlers;
pub mod json_body;
pub mod openapi;
pub mod panics;
pub mod prometheus;
pub mod request_context;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use state::SharedState;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// The service's routes with their middleware.
pub fn router(state: SharedState) -> Router {
    let api = Router::new()
        .route("/api/models", get(handlers::list_models))
        .route("/api/models/{model}/prediction", post(handlers::predict))
        .route("/api/models/{model}/outcome", post(handlers::outcome))
        .route("/api/health", get(handlers::live))
        .route("/api/health/ready", get(handlers::ready))
        .route("/api/health/startup", get(handlers::startup))
        .route("/metrics", get(handlers::metrics))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi::ApiDoc::openapi()))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(json_body::BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panics::PanicResponder {
            logger: state.logger.clone(),
        }));
    api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        request_context::handle,
    ))
    .with_state(state)
}

//! The OpenAPI document, served at `/openapi.json` and browsable at `/docs`.

use super::error::ErrorBody;
use super::handlers;
use utoipa::OpenApi;

/// The service's API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Credit risk service",
        description = "Credit-risk predictions with structured prediction logs."
    ),
    paths(
        handlers::predict,
        handlers::outcome,
        handlers::list_models,
        handlers::live,
        handlers::ready,
        handlers::startup
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

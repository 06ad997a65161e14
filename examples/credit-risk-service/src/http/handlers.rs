//! The endpoints. Each handler is small: extraction errors and status codes
//! live in `error` and `json_body`.

use super::error::{ApiError, ErrorBody};
use super::json_body::JsonBody;
use super::prometheus::Format;
use super::state::SharedState;
use crate::application::CreditApplication;
use crate::dataset::Creditability;
use crate::model::{CreditOutcome, CreditRisk, PredictionError, QUALIFIED_NAME};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use logged_model::{InvalidPredictionId, LogOutput, OutputState, PredictionId};
use serde::{Deserialize, Serialize};
use utoipa::{PartialSchema, ToSchema};

/// Predicts the credit risk of one application.
#[utoipa::path(
    post,
    path = "/api/models/{model}/prediction",
    params(("model" = String, Path, description = "The model's qualified name", example = "credit_risk_model")),
    request_body = CreditApplication,
    responses(
        (status = 200, description = "The prediction, with the id its log records carry (also in the X-Prediction-ID header)", body = PredictionResponse),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 404, description = "No model of that name", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The content type is not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown, of the wrong type or out of range", body = ErrorBody),
    ),
    tag = "models"
)]
pub async fn predict(
    State(state): State<SharedState>,
    Path(model): Path<String>,
    body: Result<JsonBody<CreditApplication>, ApiError>,
) -> Result<Response, ApiError> {
    if model != QUALIFIED_NAME {
        return Err(ApiError::UnknownModel(model));
    }
    let JsonBody(application) = body?;
    // The prediction's two records take room awaited here: a stalled log
    // output holds this request, never the runtime's threads.
    let (prediction_id, prediction) = state
        .log_room(2)
        .await
        .enter(|| state.model.predict(&application));
    let prediction = prediction.map_err(|error| match error {
        PredictionError::InvalidInput(invalid) => ApiError::InvalidInput {
            field: Some(invalid.field.to_owned()),
            detail: invalid.to_string(),
        },
        PredictionError::Features(_) => ApiError::Internal,
    })?;
    let body = PredictionResponse {
        credit_risk: prediction.credit_risk,
        probability_of_risky: prediction.probability_of_risky,
        prediction_id,
    };
    let mut response = Json(body).into_response();
    if let Some(id) = prediction_id {
        if let Ok(value) = HeaderValue::from_str(id.as_str()) {
            response.headers_mut().insert(PREDICTION_ID_HEADER, value);
        }
    }
    Ok(response)
}

/// The header that carries a prediction's id.
pub const PREDICTION_ID_HEADER: &str = "x-prediction-id";

/// A prediction, with the id its log records carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PredictionResponse {
    /// `risky` when the probability of bad credit reaches the model's threshold.
    #[schema(inline)]
    pub credit_risk: CreditRisk,
    /// The probability that the credit goes bad, from 0 to 1.
    pub probability_of_risky: f64,
    /// The id of the prediction's log records: report the outcome under it
    /// (`POST /api/models/{model}/outcome`). Absent when the prediction was
    /// not logged (prediction logging off, or sampled out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "cc82106f-6111-4f3e-8e36-af6849d4a8e0")]
    pub prediction_id: Option<PredictionId>,
}

/// What became of a credit, reported for one of the model's predictions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeReport {
    /// The prediction's id, from its response.
    #[schema(example = "cc82106f-6111-4f3e-8e36-af6849d4a8e0")]
    pub prediction_id: String,
    /// `good` (repaid as agreed) or `bad` (defaulted).
    #[schema(inline)]
    pub creditability: Creditability,
}

/// The answer to an outcome report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeAccepted {
    /// `accepted`: the outcome was logged.
    pub status: String,
    /// The prediction it refers to.
    pub prediction_id: String,
}

/// Reports the outcome of a prediction: logged as "Prediction outcome.",
/// joined to the prediction's records by id where the logs are stored. The
/// service is stateless: it checks the id's form, not whether it made it.
#[utoipa::path(
    post,
    path = "/api/models/{model}/outcome",
    params(("model" = String, Path, description = "The model's qualified name", example = "credit_risk_model")),
    request_body = OutcomeReport,
    responses(
        (status = 202, description = "The outcome was logged", body = OutcomeAccepted),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 404, description = "No model of that name", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The content type is not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown or of the wrong type, or the id is not a prediction id", body = ErrorBody),
    ),
    tag = "models"
)]
pub async fn outcome(
    State(state): State<SharedState>,
    Path(model): Path<String>,
    body: Result<JsonBody<OutcomeReport>, ApiError>,
) -> Result<(StatusCode, Json<OutcomeAccepted>), ApiError> {
    if model != QUALIFIED_NAME {
        return Err(ApiError::UnknownModel(model));
    }
    let JsonBody(report) = body?;
    let prediction_id: PredictionId =
        report
            .prediction_id
            .parse()
            .map_err(|error: InvalidPredictionId| ApiError::InvalidInput {
                field: Some("prediction_id".to_owned()),
                detail: error.to_string(),
            })?;
    let outcome = CreditOutcome {
        creditability: report.creditability,
    };
    state
        .log_room(1)
        .await
        .enter(|| state.outcomes.log(&prediction_id, &outcome));
    Ok((
        StatusCode::ACCEPTED,
        Json(OutcomeAccepted {
            status: "accepted".to_owned(),
            prediction_id: prediction_id.to_string(),
        }),
    ))
}

/// A model the service serves.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ModelDescription {
    /// The name used in the API's paths.
    pub qualified_name: String,
    /// A name for people.
    pub display_name: String,
    /// The model's version.
    pub version: String,
    /// What the model does.
    pub description: String,
    /// The JSON schema of the prediction request.
    pub input_schema: serde_json::Value,
    /// The JSON schema of the prediction response.
    pub output_schema: serde_json::Value,
}

/// Lists the models with their input and output schemas.
#[utoipa::path(get, path = "/api/models", responses((status = 200, body = Vec<ModelDescription>)), tag = "models")]
pub async fn list_models(State(state): State<SharedState>) -> Json<Vec<ModelDescription>> {
    Json(vec![ModelDescription {
        qualified_name: QUALIFIED_NAME.to_owned(),
        display_name: "Credit Risk Model".to_owned(),
        version: state.model.version().to_owned(),
        description: format!(
            "Logistic regression trained on the German Credit data set; predicts whether lending to an \
             applicant is expected to cost more than refusing (ROC AUC {:.3} on held-out rows).",
            state.roc_auc
        ),
        input_schema: serde_json::to_value(CreditApplication::schema()).unwrap_or_default(),
        output_schema: serde_json::to_value(PredictionResponse::schema()).unwrap_or_default(),
    }])
}

/// A health probe's answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready`, `started`, `shutting_down` or `log_output_stalled`.
    pub status: String,
    /// Why the service is not ready, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn health(status: &str) -> Json<Health> {
    Json(Health {
        status: status.to_owned(),
        detail: None,
    })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/api/health", responses((status = 200, body = Health)), tag = "health")]
pub async fn live() -> Json<Health> {
    health("ok")
}

/// Readiness: the model is loaded, the service is not shutting down, and
/// the log output takes records (a stalled one answers 503, so that traffic
/// goes to other pods while this one's records wait; liveness stays 200, so
/// the pod is not restarted and its queued records are not lost).
#[utoipa::path(
    get,
    path = "/api/health/ready",
    responses((status = 200, body = Health), (status = 503, body = Health)),
    tag = "health"
)]
pub async fn ready(State(state): State<SharedState>) -> (StatusCode, Json<Health>) {
    if !state.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, health("shutting_down"));
    }
    let stalled = state.log_output.as_ref().map(LogOutput::state);
    if let Some(OutputState::Stalled { waiting, since }) = stalled {
        let detail = format!(
            "the log output has taken no record for {:.1} s and {waiting} records are waiting; \
             requests would wait for it",
            since.as_secs_f64()
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "log_output_stalled".to_owned(),
                detail: Some(detail),
            }),
        );
    }
    (StatusCode::OK, health("ready"))
}

/// Startup: the service has loaded its model and serves. The model loads
/// before the port opens, so any answer means started.
#[utoipa::path(get, path = "/api/health/startup", responses((status = 200, body = Health)), tag = "health")]
pub async fn startup() -> Json<Health> {
    health("started")
}

/// The service's metrics: OpenMetrics to scrapers that accept it, the
/// classic Prometheus text format otherwise.
pub async fn metrics(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Format::from_accept(accept);
    match state.metrics.as_ref().map(|metrics| metrics.encode(format)) {
        Some(Ok(text)) => (
            [(axum::http::header::CONTENT_TYPE, format.content_type())],
            text,
        )
            .into_response(),
        _ => ApiError::Internal.into_response(),
    }
}

/// Any path with no route.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_owned())
}

/// A route that exists, with a method it does not take.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

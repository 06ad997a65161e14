//! The service's errors and their HTTP form: a status code and a JSON body
//! of one stable shape, `{"error": code, "detail": sentence, "field": path?}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code, e.g. `invalid_input`.
    pub error: String,
    /// What went wrong, in words.
    pub detail: String,
    /// The input field at fault, as a dotted path, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// A field is missing, unknown, of the wrong type, or out of range.
    #[error("{detail}")]
    InvalidInput {
        /// The field at fault, when known.
        field: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// The body is larger than the limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(String),
    /// The content type is not JSON.
    #[error("the content type must be application/json; got {0}")]
    UnsupportedMediaType(String),
    /// No such model.
    #[error("there is no model named {0:?}; GET /api/models lists them")]
    UnknownModel(String),
    /// No such route.
    #[error("there is no resource at {0}")]
    NotFound(String),
    /// The route does not take this method.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The path.
        path: String,
    },
    /// The request took longer than the timeout.
    #[error("the request took longer than {seconds} s")]
    Timeout {
        /// The timeout.
        seconds: u64,
    },
    /// A bug: the handler panicked.
    #[error("the service failed to handle the request")]
    Internal,
}

impl ApiError {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::BodyUnreadable(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidInput { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnknownModel(_) | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidInput { .. } => "invalid_input",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::BodyUnreadable(_) => "body_unreadable",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::UnknownModel(_) => "unknown_model",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Timeout { .. } => "timeout",
            ApiError::Internal => "internal_error",
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        let field = match self {
            ApiError::InvalidInput { field, .. } => field.clone(),
            _ => None,
        };
        ErrorBody {
            error: self.code().to_owned(),
            detail: self.to_string(),
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

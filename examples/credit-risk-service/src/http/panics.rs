//! A panic in a handler becomes a 500 with the usual JSON body and an error
//! record, not a dropped connection.

use super::error::ApiError;
use axum::body::Body;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use std::any::Any;
use tower_http::catch_panic::ResponseForPanic;

/// Answers a panic and logs it.
#[derive(Clone)]
pub struct PanicResponder {
    /// Where the error record goes.
    pub logger: slog::Logger,
}

impl ResponseForPanic for PanicResponder {
    type ResponseBody = Body;

    fn response_for_panic(
        &mut self,
        panic: Box<dyn Any + Send + 'static>,
    ) -> axum::http::Response<Body> {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic with a payload that is not a string");
        slog::error!(self.logger, "Request handler panicked."; logged_model::keys::ERROR_INFO => message.to_owned());
        ApiError::Internal
            .into_response()
            .map(|body| Body::new(body.map_err(axum::Error::new)))
    }
}

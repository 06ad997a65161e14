//! Around every request: its id and trace context (W3C `traceparent`), the
//! scope that carries both to its predictions, the timeout, and one
//! access-log record.

use super::error::ApiError;
use super::prometheus::{RequestLabels, RouteLabels};
use super::state::SharedState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use logged_model::correlation::WithCorrelationId;
use logged_model::{TraceContext, keys};
use std::time::Instant;

/// The header that carries the request id, in and out.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The W3C Trace Context header, in (the caller's span) and out (ours).
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The longest request id taken from a client.
const MAX_REQUEST_ID_LENGTH: usize = 128;

/// The client's request id if it is sane (1 to 128 characters of letters,
/// digits, `-`, `_`, `.`, `:`), else a new UUID.
pub fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_sane(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LENGTH
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The middleware: runs the request with its id as the correlation id and
/// within the timeout, echoes the id, and writes the access-log record.
pub async fn handle(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    // W3C Trace Context: continue the caller's trace, or start one (an
    // absent or invalid header is never an error).
    let trace = TraceContext::from_header(
        request
            .headers()
            .get(&TRACEPARENT)
            .and_then(|value| value.to_str().ok()),
    );
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    // The route's template, its parameters written `:model` (braces in a
    // label value trip some Prometheus text parsers).
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || "unmatched".to_owned(),
        |matched| matched.as_str().replace('{', ":").replace('}', ""),
    );
    let outcome = tokio::time::timeout(
        state.request_timeout,
        next.run(request)
            .with_correlation_id(id.as_str())
            .with_trace_context(trace),
    )
    .await;
    let mut response = outcome.unwrap_or_else(|_| {
        ApiError::Timeout {
            seconds: state.request_timeout.as_secs(),
        }
        .into_response()
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    if let Ok(value) = HeaderValue::from_str(&trace.to_traceparent()) {
        response.headers_mut().insert(TRACEPARENT.clone(), value);
    }
    if let Some(metrics) = &state.metrics {
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method: method.clone(),
                status: response.status().as_u16(),
            })
            .inc();
        metrics
            .durations
            .get_or_create(&RouteLabels {
                route,
                method: method.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
    }
    // Health probes are not access-logged: Kubernetes calls them every few
    // seconds, and liveness must never wait on the log output.
    if !state.access_log || path.starts_with("/api/health") || path == "/metrics" {
        return response;
    }
    let status = response.status().as_u16();
    let duration_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    // Room is awaited, so a stalled output holds this request only.
    let mut room = state.log_room(1).await;
    // slog writes a record's pairs last to first.
    room.enter(|| {
        slog::info!(state.logger, "Request handled.";
            trace,
            keys::CORRELATION_ID => id,
            keys::DURATION => duration_ns,
            "http.response.status_code" => status,
            "url.path" => path,
            "http.request.method" => method,
            keys::LOGGER => "http.access",
        )
    });
    response
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn sane_ids_are_short_and_plain() {
        assert!(is_sane("req-42_a.b:c"));
        assert!(!is_sane(""));
        assert!(!is_sane("has space"));
        assert!(!is_sane("quote\""));
        assert!(!is_sane(&"x".repeat(129)));
    }
}

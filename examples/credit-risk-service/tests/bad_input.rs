//! Bad input is answered with the right status and a JSON error body naming
//! the problem; nothing produces a 500.

mod common;

use common::{TestService, application_with, application_without, good_application_json};
use serde_json::json;

fn assert_error(response: &common::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(
        response.status,
        status,
        "{:?}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    assert_eq!(body["error"], code);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty())
    );
    body
}

#[test]
fn malformed_json_is_400() {
    let service = TestService::start();
    for body in ["{", "not json", "{\"a\":", "{} trailing", ""] {
        assert_error(&service.predict(body), 400, "malformed_json");
    }
}

#[test]
fn a_missing_field_is_422_naming_it() {
    let service = TestService::start();
    let body = assert_error(
        &service.predict(&application_without("age_in_years")),
        422,
        "invalid_input",
    );
    assert_eq!(body["field"], "age_in_years");
}

#[test]
fn an_unknown_field_is_422_naming_it() {
    let service = TestService::start();
    let mut value: serde_json::Value =
        serde_json::from_str(&good_application_json()).expect("JSON");
    value["favourite_colour"] = json!("blue");
    let body = assert_error(&service.predict(&value.to_string()), 422, "invalid_input");
    assert_eq!(body["field"], "favourite_colour");
}

#[test]
fn a_wrongly_typed_field_is_422_naming_it() {
    let service = TestService::start();
    for (field, value) in [
        ("duration_in_month", json!("twelve")),
        ("credit_amount", json!(null)),
        ("age_in_years", json!(-4)),
        ("purpose", json!("holiday")),
        (
            "installment_rate_in_percentage_of_disposable_income",
            json!(300),
        ),
    ] {
        let body = assert_error(
            &service.predict(&application_with(field, value)),
            422,
            "invalid_input",
        );
        assert_eq!(body["field"], field);
    }
}

#[test]
fn a_value_out_of_range_is_422_naming_the_field() {
    let service = TestService::start();
    for (field, value) in [
        ("duration_in_month", json!(0)),
        ("duration_in_month", json!(121)),
        ("credit_amount", json!(0)),
        ("credit_amount", json!(-10.5)),
        ("credit_amount", json!(1e9)),
        ("age_in_years", json!(17)),
        ("age_in_years", json!(121)),
        ("present_residence_since", json!(5)),
        (
            "number_of_people_being_liable_to_provide_maintenance_for",
            json!(0),
        ),
    ] {
        let body = assert_error(
            &service.predict(&application_with(field, value.clone())),
            422,
            "invalid_input",
        );
        assert_eq!(body["field"], field, "{field} = {value}");
    }
}

#[test]
fn a_body_that_is_not_an_object_is_422() {
    let service = TestService::start();
    for body in ["[]", "42", "\"text\"", "null"] {
        assert_error(&service.predict(body), 422, "invalid_input");
    }
}

#[test]
fn a_body_over_64_kib_is_413() {
    let service = TestService::start();
    let padding = " ".repeat(64 * 1024);
    let body = format!("{}{padding}", good_application_json());
    assert_error(&service.predict(&body), 413, "payload_too_large");
}

#[test]
fn a_wrong_content_type_is_415() {
    let service = TestService::start();
    let path = "/api/models/credit_risk_model/prediction";
    let body = good_application_json();
    for headers in [&[("content-type", "text/plain")][..], &[][..]] {
        assert_error(
            &service.request("POST", path, headers, body.as_bytes()),
            415,
            "unsupported_media_type",
        );
    }
}

#[test]
fn an_unknown_model_is_404() {
    let service = TestService::start();
    let response = service.request(
        "POST",
        "/api/models/fraud_model/prediction",
        &[("content-type", "application/json")],
        good_application_json().as_bytes(),
    );
    assert_error(&response, 404, "unknown_model");
}

#[test]
fn an_unknown_path_is_404() {
    let service = TestService::start();
    assert_error(
        &service.request("GET", "/api/nothing", &[], b""),
        404,
        "not_found",
    );
}

#[test]
fn a_wrong_method_is_405() {
    let service = TestService::start();
    assert_error(
        &service.request("GET", "/api/models/credit_risk_model/prediction", &[], b""),
        405,
        "method_not_allowed",
    );
    assert_error(
        &service.request("DELETE", "/api/models", &[], b""),
        405,
        "method_not_allowed",
    );
}

#[test]
fn a_request_slower_than_the_timeout_is_503() {
    use std::io::Write;
    let service = TestService::start_with_timeout(std::time::Duration::from_millis(300));
    let mut stream = std::net::TcpStream::connect(service.address).expect("connects");
    stream
        .set_read_timeout(Some(common::SOCKET_TIMEOUT))
        .expect("a timeout");
    // Announce a body and never send it: the handler waits, the timeout answers.
    write!(
        stream,
        "POST /api/models/credit_risk_model/prediction HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
    )
    .expect("writes");
    let response = common::read_response(&mut stream);
    assert_error(&response, 503, "timeout");
}

/// A model that panics on every prediction.
struct PanickingModel;

impl logged_model::Model for PanickingModel {
    type Input = credit_risk_service::application::CreditApplication;
    type Output = credit_risk_service::model::CreditRiskPrediction;
    type Error = credit_risk_service::model::PredictionError;
    fn qualified_name(&self) -> &str {
        "credit_risk_model"
    }
    fn version(&self) -> &str {
        "0.0.0"
    }
    fn predict(&self, _input: &Self::Input) -> Result<Self::Output, Self::Error> {
        panic!("boom")
    }
}

#[test]
fn a_panicking_handler_answers_500_with_a_json_body_and_logs_an_error() {
    // The real router with its real layers, over a model that panics.
    let service = common::TestService::start_with(std::time::Duration::from_secs(10), |_, _| {
        credit_risk_service::http::state::ServedModel::Bare(Box::new(PanickingModel))
    });
    let response = service.predict(&common::good_application_json());
    assert_error(&response, 500, "internal_error");
    let request_id = response.header("x-request-id").map(str::to_owned);
    let after = service.request("GET", "/api/health", &[], b"");
    assert_eq!(after.status, 200, "the service goes on after a panic");
    let records = service.stop();
    let panicked: Vec<_> = records
        .iter()
        .filter(|record| record["message"] == "Request handler panicked.")
        .collect();
    assert_eq!(panicked.len(), 1);
    assert_eq!(panicked[0]["log.level"], "ERROR");
    assert_eq!(panicked[0]["error_info"], "boom");
    let access = records
        .iter()
        .find(|record| {
            record["message"] == "Request handled."
                && record["url.path"] == "/api/models/credit_risk_model/prediction"
        })
        .expect("an access record");
    assert_eq!(access["http.response.status_code"], 500);
    assert_eq!(access["correlation_id"].as_str(), request_id.as_deref());
}

//! The monitoring loop over HTTP: a prediction's id in its response, and the
//! outcome reported under it, logged as "Prediction outcome.".

mod common;

use common::{Response, TestService, good_application_json};
use serde_json::{Value, json};

const OUTCOME: &str = "/api/models/credit_risk_model/outcome";

fn post_outcome(service: &TestService, body: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    service.request("POST", OUTCOME, &all, body.as_bytes())
}

fn assert_error(response: &Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status,
        status,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    assert_eq!(body["error"], code, "{body}");
    body
}

#[test]
fn a_prediction_answers_with_its_id_and_an_outcome_is_logged_under_it() {
    let service = TestService::start();
    let response = service.predict(&good_application_json());
    assert_eq!(response.status, 200);
    let body = response.json();
    let id = body["prediction_id"].as_str().expect("an id").to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(response.header("x-prediction-id"), Some(id.as_str()));
    let reported = json!({"prediction_id": id, "creditability": "bad"}).to_string();
    let accepted = post_outcome(&service, &reported, &[("x-request-id", "outcome-1")]);
    assert_eq!(
        accepted.status,
        202,
        "{}",
        String::from_utf8_lossy(&accepted.body)
    );
    assert_eq!(
        accepted.json(),
        json!({"status": "accepted", "prediction_id": id})
    );
    let records = service.stop();
    let created = records
        .iter()
        .find(|r| r["message"] == "Prediction created.")
        .expect("a created record");
    assert_eq!(created["prediction_id"], id.as_str());
    assert!(
        created["probability_of_risky"]
            .as_f64()
            .is_some_and(|p| (0.0..=1.0).contains(&p))
    );
    assert_eq!(
        created["probability_of_risky"],
        body["probability_of_risky"]
    );
    let outcome = records
        .iter()
        .find(|r| r["message"] == "Prediction outcome.")
        .expect("an outcome record");
    assert_eq!(outcome["prediction_id"], id.as_str());
    assert_eq!(outcome["creditability"], "bad");
    assert_eq!(outcome["correlation_id"], "outcome-1");
    assert_eq!(outcome["model_qualified_name"], "credit_risk_model");
    assert_eq!(outcome["model_version"], "0.1.0");
    assert_eq!(outcome["action"], "outcome");
    assert_eq!(outcome["log.level"], "INFO");
}

#[test]
fn an_id_in_any_case_is_logged_in_its_canonical_form() {
    let service = TestService::start();
    let reported =
        json!({"prediction_id": "CC82106F-6111-4F3E-8E36-AF6849D4A8E0", "creditability": "good"});
    assert_eq!(
        post_outcome(&service, &reported.to_string(), &[]).status,
        202
    );
    let records = service.stop();
    let outcome = records
        .iter()
        .find(|r| r["message"] == "Prediction outcome.")
        .expect("an outcome record");
    assert_eq!(
        outcome["prediction_id"],
        "cc82106f-6111-4f3e-8e36-af6849d4a8e0"
    );
}

#[test]
fn bad_outcome_reports_get_the_json_error_bodies_and_log_nothing() {
    let service = TestService::start();
    let id = "cc82106f-6111-4f3e-8e36-af6849d4a8e0";
    assert_error(&post_outcome(&service, "{", &[]), 400, "malformed_json");
    let wrong_type = json!({"prediction_id": 7, "creditability": "good"}).to_string();
    assert_error(
        &post_outcome(&service, &wrong_type, &[]),
        422,
        "invalid_input",
    );
    let unknown_value = json!({"prediction_id": id, "creditability": "ugly"}).to_string();
    assert_error(
        &post_outcome(&service, &unknown_value, &[]),
        422,
        "invalid_input",
    );
    let unknown_field = json!({"prediction_id": id, "creditability": "good", "x": 1}).to_string();
    assert_error(
        &post_outcome(&service, &unknown_field, &[]),
        422,
        "invalid_input",
    );
    let missing = json!({"prediction_id": id}).to_string();
    assert_error(&post_outcome(&service, &missing, &[]), 422, "invalid_input");
    for malformed in [
        "",
        "12345",
        "cc82106f61114f3e8e36af6849d4a8e0",
        "zz82106f-6111-4f3e-8e36-af6849d4a8e0",
    ] {
        let body = json!({"prediction_id": malformed, "creditability": "good"}).to_string();
        let error = assert_error(&post_outcome(&service, &body, &[]), 422, "invalid_input");
        assert_eq!(error["field"], "prediction_id", "{malformed:?}");
    }
    let good = json!({"prediction_id": id, "creditability": "good"}).to_string();
    let unknown_model = service.request(
        "POST",
        "/api/models/other_model/outcome",
        &[("content-type", "application/json")],
        good.as_bytes(),
    );
    assert_error(&unknown_model, 404, "unknown_model");
    let too_large = format!("{good}{}", " ".repeat(64 * 1024));
    assert_error(
        &post_outcome(&service, &too_large, &[]),
        413,
        "payload_too_large",
    );
    let plain = service.request(
        "POST",
        OUTCOME,
        &[("content-type", "text/plain")],
        good.as_bytes(),
    );
    assert_error(&plain, 415, "unsupported_media_type");
    let records = service.stop();
    assert!(
        records
            .iter()
            .all(|r| r["message"] != "Prediction outcome."),
        "nothing was logged for a refused report"
    );
}

//! The HTTP API over real loopback connections: predictions, the model list,
//! health, documentation, request ids, and the records each request writes.

mod common;

use common::{TestService, good_application_json};
use serde_json::Value;

type Record = serde_json::Map<String, Value>;

/// The records of requests: all but the server's own shutdown record.
fn requests_records(records: Vec<Record>) -> Vec<Record> {
    records
        .into_iter()
        .filter(|r| {
            r["message"] != "Shutdown started: finishing open requests."
                && r["message"] != logged_model::profile::PROFILE_MESSAGE
        })
        .collect()
}

#[test]
fn a_prediction_answers_with_the_risk_and_its_probability() {
    let service = TestService::start();
    let response = service.predict(&good_application_json());
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    assert_eq!(body["credit_risk"], "safe");
    let probability = body["probability_of_risky"].as_f64().expect("a number");
    assert!((0.0..0.1667).contains(&probability), "{probability}");
}

#[test]
fn a_risky_applicant_is_predicted_risky() {
    let service = TestService::start();
    let body = serde_json::to_string(&credit_risk_service::examples::risky_applicant())
        .expect("serializes");
    let response = service.predict(&body);
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["credit_risk"], "risky");
}

#[test]
fn a_prediction_writes_two_records_and_one_access_record_all_with_the_request_id() {
    let service = TestService::start();
    let response = service.request(
        "POST",
        "/api/models/credit_risk_model/prediction",
        &[
            ("content-type", "application/json"),
            ("x-request-id", "req-7.a_b:c"),
        ],
        good_application_json().as_bytes(),
    );
    assert_eq!(response.header("x-request-id"), Some("req-7.a_b:c"));
    let records = requests_records(service.stop());
    let messages: Vec<&Value> = records.iter().map(|r| &r["message"]).collect();
    assert_eq!(
        messages,
        [
            "Prediction requested.",
            "Prediction created.",
            "Request handled."
        ]
    );
    for record in &records {
        assert_eq!(record["correlation_id"], "req-7.a_b:c");
    }
    assert_eq!(records[0]["duration_in_month"], 6);
    assert_eq!(records[0]["credit_amount"], 1169.0);
    assert_eq!(records[0]["personal_status_and_sex"], "[REDACTED]");
    assert_eq!(records[0]["applicant_id"], Value::Null, "no id was sent");
    assert_eq!(records[1]["credit_risk"], "safe");
    assert_eq!(records[1]["model_version"], "0.1.0");
    let access = &records[2];
    assert_eq!(access["log.logger"], "http.access");
    assert_eq!(access["http.request.method"], "POST");
    assert_eq!(
        access["url.path"],
        "/api/models/credit_risk_model/prediction"
    );
    assert_eq!(access["http.response.status_code"], 200);
    assert!(access["event.duration"].is_u64());
}

#[test]
fn an_applicant_id_is_accepted_and_logged_only_as_its_keyed_hash() {
    let service = TestService::start();
    for id in ["applicant-0042", "applicant-0042", "applicant-0043"] {
        let body = common::application_with("applicant_id", Value::from(id));
        let response = service.predict(&body);
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
    }
    let output = service.output.clone();
    let records = requests_records(service.stop());
    let hashes: Vec<&str> = records
        .iter()
        .filter(|r| r["message"] == "Prediction requested.")
        .map(|r| r["applicant_id"].as_str().expect("a hash"))
        .collect();
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|hash| hash.len() == 64));
    assert_eq!(hashes[0], hashes[1], "one applicant, one hash");
    assert_ne!(hashes[0], hashes[2], "another applicant, another hash");
    let text = output.text();
    assert!(
        !text.contains("applicant-004"),
        "the id is never logged: {text}"
    );
    assert!(!text.contains("male :"), "nor the protected attribute");
}

#[test]
fn an_insane_request_id_is_replaced_by_a_fresh_uuid() {
    let service = TestService::start();
    for bad in ["has spaces", "quote\"d", &"x".repeat(129)] {
        let response = service.request("GET", "/api/health", &[("x-request-id", bad)], b"");
        let id = response
            .header("x-request-id")
            .expect("an id is always echoed");
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    let response = service.request("GET", "/api/health", &[], b"");
    assert!(uuid::Uuid::parse_str(response.header("x-request-id").expect("an id")).is_ok());
}

#[test]
fn every_request_but_the_health_probes_writes_exactly_one_access_record() {
    let service = TestService::start();
    for probe in ["/api/health", "/api/health/ready", "/api/health/startup"] {
        assert_eq!(service.request("GET", probe, &[], b"").status, 200);
    }
    service.request("GET", "/api/models", &[], b"");
    service.request("GET", "/nowhere", &[], b"");
    service.predict("{");
    let records = requests_records(service.stop());
    let access: Vec<_> = records
        .iter()
        .filter(|r| r["message"] == "Request handled.")
        .collect();
    let statuses: Vec<&Value> = access
        .iter()
        .map(|r| &r["http.response.status_code"])
        .collect();
    assert_eq!(statuses, [200, 404, 400]);
    assert_eq!(
        records.len(),
        3,
        "no prediction records for requests that never reach the model"
    );
}

#[test]
fn the_model_list_describes_the_model_with_its_schemas() {
    let service = TestService::start();
    let response = service.request("GET", "/api/models", &[], b"");
    assert_eq!(response.status, 200);
    let models = response.json();
    let model = &models[0];
    assert_eq!(model["qualified_name"], "credit_risk_model");
    assert_eq!(model["display_name"], "Credit Risk Model");
    assert_eq!(model["version"], "0.1.0");
    assert!(
        model["description"]
            .as_str()
            .is_some_and(|d| d.contains("German Credit"))
    );
    let input_properties = model["input_schema"]["properties"]
        .as_object()
        .expect("input properties");
    // The data set's 20 attributes and the optional applicant id.
    assert_eq!(input_properties.len(), 21);
    assert!(input_properties.contains_key("applicant_id"));
    let purposes = &input_properties["purpose"]["oneOf"][0]["enum"];
    assert_eq!(
        purposes.as_array().map(Vec::len),
        Some(10),
        "categories are listed inline"
    );
    assert_eq!(purposes[0], "car (new)", "under the data set's names");
    assert!(model["output_schema"]["properties"]["credit_risk"].is_object());
}

#[test]
fn health_endpoints_answer_ok() {
    let service = TestService::start();
    for (path, status) in [
        ("/api/health", "ok"),
        ("/api/health/ready", "ready"),
        ("/api/health/startup", "started"),
    ] {
        let response = service.request("GET", path, &[], b"");
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.json()["status"], status);
    }
}

#[test]
fn the_openapi_document_and_the_offline_docs_page_are_served() {
    let service = TestService::start();
    let openapi = service.request("GET", "/openapi.json", &[], b"");
    assert_eq!(openapi.status, 200);
    let document = openapi.json();
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    assert!(document["paths"]["/api/models/{model}/prediction"]["post"].is_object());
    // The bounds the validation uses are the ones the schema documents.
    let properties = &document["components"]["schemas"]["CreditApplication"]["properties"];
    let duration = &properties["duration_in_month"];
    assert_eq!(duration["type"], "integer");
    assert_eq!(duration["minimum"], 1.0);
    assert_eq!(duration["maximum"], 120.0);
    let amount = &properties["credit_amount"];
    assert_eq!(amount["exclusiveMinimum"], 0.0);
    assert_eq!(amount["maximum"], 1_000_000.0);
    assert!(
        amount["description"]
            .as_str()
            .is_some_and(|text| text.contains("above 0 and at most 1000000"))
    );
    let docs = service.request("GET", "/docs/", &[], b"");
    assert_eq!(docs.status, 200);
    let page = String::from_utf8_lossy(&docs.body);
    assert!(page.contains("swagger-ui"), "the vendored Swagger UI page");
    let script = service.request("GET", "/docs/swagger-ui-bundle.js", &[], b"");
    assert_eq!(
        script.status, 200,
        "its assets are served from the binary, not the internet"
    );
    assert!(script.body.len() > 100_000);
}

#[test]
fn a_valid_traceparent_is_continued_on_the_prediction_and_access_records() {
    let service = TestService::start();
    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = service.request(
        "POST",
        "/api/models/credit_risk_model/prediction",
        &[
            ("content-type", "application/json"),
            ("traceparent", caller),
        ],
        good_application_json().as_bytes(),
    );
    assert_eq!(response.status, 200);
    let ours = response
        .header("traceparent")
        .expect("our span, passed back")
        .to_owned();
    assert!(ours.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert!(
        !ours.contains("00f067aa0ba902b7"),
        "a new span id of our own"
    );
    let span = ours.split('-').nth(2).expect("a span id").to_owned();
    let records = requests_records(service.stop());
    assert_eq!(records.len(), 3);
    for record in &records {
        assert_eq!(
            record["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736",
            "{}",
            record["message"]
        );
        assert_eq!(record["span.id"], span.as_str());
        assert_eq!(record["parent.id"], "00f067aa0ba902b7");
    }
}

#[test]
fn no_or_an_invalid_traceparent_starts_a_new_trace_and_is_never_an_error() {
    let service = TestService::start();
    let cases = [
        None,
        Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
        Some("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"),
        Some("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        Some("not a traceparent"),
    ];
    for header in cases {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(header) = header {
            headers.push(("traceparent", header));
        }
        let response = service.request(
            "POST",
            "/api/models/credit_risk_model/prediction",
            &headers,
            good_application_json().as_bytes(),
        );
        assert_eq!(response.status, 200, "{header:?}");
        let ours = response.header("traceparent").expect("a traceparent");
        assert!(
            !ours.contains("4bf92f3577b34da6a3ce929d0e0e4736"),
            "{header:?}: a new trace"
        );
    }
    let records = requests_records(service.stop());
    let mut traces: Vec<&str> = records
        .iter()
        .filter(|r| r["message"] == "Request handled.")
        .map(|r| r["trace.id"].as_str().expect("a trace id"))
        .collect();
    assert_eq!(traces.len(), cases.len());
    traces.sort_unstable();
    traces.dedup();
    assert_eq!(traces.len(), cases.len(), "a new trace each time");
    assert!(
        records.iter().all(|r| r.get("parent.id").is_none()),
        "no parent to continue"
    );
}

//! The Kibana saved objects of `deploy/kibana/credit-risk.ndjson`, read as
//! Kibana's import reads them: one JSON object per line, ids unique, every
//! reference resolved, and every field a search or a visualization uses
//! mapped by the service's index template with a type that use accepts.

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

fn committed() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kibana/credit-risk.ndjson"),
    )
    .expect("the saved objects")
}

fn objects() -> Vec<Value> {
    committed()
        .lines()
        .enumerate()
        .map(|(number, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("line {}: {error}", number + 1))
        })
        .collect()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
}

/// A JSON document Kibana keeps as a string inside an attribute.
fn inner(value: &Value) -> Value {
    serde_json::from_str(text(value)).expect("a JSON string")
}

/// The fields a KQL query names (`field : value`, joined by `and`/`or`).
fn kql_fields(query: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = query;
    while let Some(at) = rest.find(" : ") {
        let before = &rest[..at];
        let field = before
            .rsplit(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("");
        fields.push(field.to_owned());
        rest = &rest[at + 3..];
    }
    fields
}

fn type_of(field: &str) -> &'static str {
    credit_risk_service::index_template::mapping()
        .type_of(field)
        .unwrap_or_else(|| panic!("`{field}` is not in the index template's mapping"))
}

/// The Elasticsearch types a Lens operation accepts for its field.
fn accepted(operation: &str) -> &'static [&'static str] {
    match operation {
        "date_histogram" => &["date", "date_nanos"],
        "percentile" | "sum" | "average" | "median" | "min" | "max" | "range" => &[
            "long",
            "integer",
            "short",
            "byte",
            "double",
            "float",
            "half_float",
            "scaled_float",
        ],
        "terms" => &["keyword", "long", "double", "boolean", "ip"],
        other => panic!("an operation the test does not know: {other}"),
    }
}

#[test]
fn the_committed_objects_are_the_ones_the_service_generates() {
    assert!(
        committed() == credit_risk_service::kibana::ndjson(),
        "regenerate with `cargo run -p credit-risk-service -- kibana-objects > examples/credit-risk-service/deploy/kibana/credit-risk.ndjson`"
    );
}

#[test]
fn ids_are_unique_and_every_reference_resolves() {
    let objects = objects();
    let mut seen = HashSet::new();
    for object in &objects {
        let key = (
            text(&object["type"]).to_owned(),
            text(&object["id"]).to_owned(),
        );
        assert!(seen.insert(key.clone()), "{key:?} twice");
        assert!(
            object["attributes"]["title"].is_string(),
            "{key:?} has a title"
        );
    }
    let mut checked = 0;
    for object in &objects {
        for reference in object["references"].as_array().expect("references") {
            let target = (
                text(&reference["type"]).to_owned(),
                text(&reference["id"]).to_owned(),
            );
            assert!(
                seen.contains(&target),
                "{} refers to a missing {target:?}",
                object["id"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "references checked: {checked}");
    let kinds: HashSet<&str> = objects.iter().map(|object| text(&object["type"])).collect();
    for kind in ["index-pattern", "search", "lens", "dashboard"] {
        assert!(kinds.contains(kind), "a {kind}");
    }
}

#[test]
fn the_data_view_covers_the_data_stream_by_its_time_field() {
    let objects = objects();
    let view = objects
        .iter()
        .find(|object| object["type"] == "index-pattern")
        .expect("a data view");
    let pattern = text(&view["attributes"]["title"]);
    let stream = credit_risk_service::index_template::template()
        .expect("a template")
        .data_stream();
    assert!(
        stream.starts_with(pattern.trim_end_matches('*')),
        "{pattern} covers {stream}"
    );
    assert_eq!(type_of(text(&view["attributes"]["timeFieldName"])), "date");
    let formats = inner(&view["attributes"]["fieldFormatMap"]);
    for field in formats.as_object().expect("formats").keys() {
        type_of(field);
    }
}

#[test]
fn saved_searches_name_mapped_fields_and_their_data_view() {
    let objects = objects();
    let searches: Vec<&Value> = objects.iter().filter(|o| o["type"] == "search").collect();
    assert_eq!(searches.len(), 3);
    let mut queries = Vec::new();
    for search in searches {
        let attributes = &search["attributes"];
        for column in attributes["columns"].as_array().expect("columns") {
            type_of(text(column));
        }
        let source = inner(&attributes["kibanaSavedObjectMeta"]["searchSourceJSON"]);
        let reference_name = text(&source["indexRefName"]);
        let reference = search["references"]
            .as_array()
            .expect("references")
            .iter()
            .find(|r| r["name"] == reference_name)
            .expect("the data view's reference");
        assert_eq!(reference["type"], "index-pattern");
        let query = text(&source["query"]["query"]).to_owned();
        assert_eq!(source["query"]["language"], "kuery");
        for field in kql_fields(&query) {
            type_of(&field);
        }
        queries.push(query);
    }
    assert!(queries.iter().any(|q| q.contains("Prediction exception.")));
    assert!(queries.iter().any(|q| kql_fields(q) == ["prediction_id"]));
    assert!(
        queries
            .iter()
            .any(|q| kql_fields(q) == ["correlation_id", "trace.id"])
    );
    let exceptions = objects
        .iter()
        .find(|o| o["type"] == "search" && text(&o["attributes"]["title"]).contains("exceptions"))
        .expect("the exceptions search");
    assert_eq!(exceptions["attributes"]["timeRange"]["from"], "now-1h");
}

#[test]
fn every_visualization_uses_mapped_fields_of_types_it_accepts() {
    let objects = objects();
    let lenses: Vec<&Value> = objects.iter().filter(|o| o["type"] == "lens").collect();
    assert!(lenses.len() >= 6);
    let mut fields_used = HashSet::new();
    for lens in &lenses {
        let state = &lens["attributes"]["state"];
        let layers = state["datasourceStates"]["formBased"]["layers"]
            .as_object()
            .expect("layers");
        let mut column_ids = HashSet::new();
        for (layer, spec) in layers {
            let reference = format!("indexpattern-datasource-layer-{layer}");
            assert!(
                lens["references"]
                    .as_array()
                    .expect("references")
                    .iter()
                    .any(|r| r["name"] == reference.as_str() && r["type"] == "index-pattern"),
                "{}: layer {layer} names its data view",
                lens["id"]
            );
            let columns = spec["columns"].as_object().expect("columns");
            let order: Vec<&str> = spec["columnOrder"]
                .as_array()
                .expect("order")
                .iter()
                .map(text)
                .collect();
            assert_eq!(order.len(), columns.len());
            for (id, column) in columns {
                assert!(order.contains(&id.as_str()));
                column_ids.insert(id.clone());
                let operation = text(&column["operationType"]);
                let field = text(&column["sourceField"]);
                if operation == "count" {
                    assert_eq!(field, "___records___");
                } else {
                    let es_type = type_of(field);
                    assert!(
                        accepted(operation).contains(&es_type),
                        "{}: {operation} of {field}, a {es_type}",
                        lens["id"]
                    );
                    fields_used.insert(field.to_owned());
                }
                if let Some(filter) = column.get("filter") {
                    for field in kql_fields(text(&filter["query"])) {
                        type_of(&field);
                    }
                }
            }
        }
        // The chart draws columns that exist.
        let visualization = &state["visualization"];
        for layer in visualization["layers"].as_array().expect("layers") {
            let mut drawn: Vec<&Value> = Vec::new();
            for key in ["accessors", "primaryGroups", "metrics"] {
                if let Some(list) = layer[key].as_array() {
                    drawn.extend(list);
                }
            }
            if let Some(x) = layer.get("xAccessor") {
                drawn.push(x);
            }
            assert!(!drawn.is_empty());
            for column in drawn {
                assert!(
                    column_ids.contains(text(column)),
                    "{}: {column}",
                    lens["id"]
                );
            }
        }
    }
    for field in [
        "event.duration",
        "probability_of_risky",
        "credit_risk",
        "dropped_records",
        "failed_writes",
    ] {
        assert!(fields_used.contains(field), "a visualization of {field}");
    }
}

#[test]
fn the_dashboards_panels_name_their_objects_and_do_not_overlap() {
    let objects = objects();
    let dashboard = objects
        .iter()
        .find(|o| o["type"] == "dashboard")
        .expect("a dashboard");
    let panels = inner(&dashboard["attributes"]["panelsJSON"]);
    let references: HashMap<&str, &Value> = dashboard["references"]
        .as_array()
        .expect("references")
        .iter()
        .map(|r| (text(&r["name"]), r))
        .collect();
    let mut cells = HashSet::new();
    let panels = panels.as_array().expect("panels");
    for panel in panels {
        let reference = references
            .get(text(&panel["panelRefName"]))
            .expect("the panel's reference");
        assert_eq!(reference["type"], panel["type"]);
        let grid = &panel["gridData"];
        let number = |key: &str| grid[key].as_u64().expect("a grid number");
        assert!(number("x") + number("w") <= 48, "within the 48 columns");
        for x in number("x")..number("x") + number("w") {
            for y in number("y")..number("y") + number("h") {
                assert!(cells.insert((x, y)), "panels overlap at {x},{y}");
            }
        }
    }
    let lenses = objects.iter().filter(|o| o["type"] == "lens").count();
    assert_eq!(
        panels.len(),
        lenses + 1,
        "every visualization and the exceptions"
    );
}

#[test]
fn kql_fields_are_read_from_each_clause() {
    assert_eq!(kql_fields("message : \"Prediction created.\""), ["message"]);
    assert_eq!(
        kql_fields("a : * or (b.c : 1 and d : \"x\")"),
        ["a", "b.c", "d"]
    );
    assert!(kql_fields("").is_empty());
}

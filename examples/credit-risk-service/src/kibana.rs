//! What the on-call engineer opens in Kibana, as saved objects: a data view
//! of the service's data stream, saved searches (the last hour's
//! exceptions, one prediction's records, one request's records) and a
//! dashboard (predictions per minute, latency percentiles, the share of
//! `risky`, the distribution of `probability_of_risky`, records lost,
//! outcomes joined). `credit-risk-service kibana-objects` prints them as
//! the NDJSON Kibana's saved-objects import API takes
//! (`deploy/kibana/credit-risk.ndjson`; a test keeps the two equal).
//!
//! The objects are in Kibana 8.19's format: Lens visualizations by
//! reference (`formBased` layers), a dashboard whose panels name them.

use logged_model::{CREATED_MESSAGE, EXCEPTION_MESSAGE, OUTCOME_MESSAGE, REQUESTED_MESSAGE, keys};
use serde_json::{Value, json};

/// The data view's id, which every other object refers to.
pub const DATA_VIEW_ID: &str = "credit-risk-logs";

/// The dashboard's id.
pub const DASHBOARD_ID: &str = "credit-risk-service";

/// The saved searches' ids.
pub const SEARCH_IDS: [&str; 3] = [
    "credit-risk-exceptions",
    "credit-risk-one-prediction",
    "credit-risk-one-request",
];

const CORE_MIGRATION_VERSION: &str = "8.8.0";

/// Every saved object, data view first, dashboard last: Kibana resolves
/// references within one import in any order, a reader in this one.
pub fn saved_objects() -> Vec<Value> {
    let lenses = lenses();
    let dashboard = dashboard(&lenses);
    let mut objects = vec![data_view()];
    objects.extend(searches());
    objects.extend(lenses);
    objects.push(dashboard);
    objects
}

/// [`saved_objects`], one JSON object per line.
pub fn ndjson() -> String {
    saved_objects()
        .iter()
        .map(|object| format!("{object}\n"))
        .collect()
}

/// A KQL query for records with this message.
fn message_is(message: &str) -> String {
    format!("{} : \"{message}\"", keys::MESSAGE)
}

fn kuery(query: &str) -> Value {
    json!({ "query": query, "language": "kuery" })
}

fn data_view() -> Value {
    // `event.duration` is in nanoseconds: shown in milliseconds.
    let formats = json!({
        keys::DURATION: {
            "id": "duration",
            "params": { "inputFormat": "nanoseconds", "outputFormat": "asMilliseconds", "outputPrecision": 2 }
        }
    });
    json!({
        "id": DATA_VIEW_ID,
        "type": "index-pattern",
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": "8.0.0",
        "attributes": {
            "title": "logs-credit_risk-*",
            "name": "credit-risk service logs",
            "timeFieldName": keys::TIMESTAMP,
            "fieldFormatMap": formats.to_string(),
            "fields": "[]",
            "runtimeFieldMap": "{}",
            "typeMeta": "{}",
        },
        "references": [],
    })
}

/// A saved search of the data view: its query, its columns, newest first.
fn search(id: &str, title: &str, description: &str, query: &str, columns: &[&str]) -> Value {
    let source = json!({
        "query": kuery(query),
        "filter": [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    });
    json!({
        "id": id,
        "type": "search",
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": "8.0.0",
        "attributes": {
            "title": title,
            "description": description,
            "columns": columns,
            "sort": [[keys::TIMESTAMP, "desc"]],
            "kibanaSavedObjectMeta": { "searchSourceJSON": source.to_string() },
        },
        "references": [{
            "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            "type": "index-pattern",
            "id": DATA_VIEW_ID,
        }],
    })
}

fn searches() -> Vec<Value> {
    let [exceptions, one_prediction, one_request] = SEARCH_IDS;
    let mut last_hour = search(
        exceptions,
        "Prediction exceptions, last hour",
        "Failed predictions: the reason is in error_info.",
        &message_is(EXCEPTION_MESSAGE),
        &[
            keys::MODEL_VERSION,
            keys::ERROR_INFO,
            keys::PREDICTION_ID,
            keys::CORRELATION_ID,
            "pod_name",
        ],
    );
    last_hour["attributes"]["timeRestore"] = json!(true);
    last_hour["attributes"]["timeRange"] = json!({ "from": "now-1h", "to": "now" });
    vec![
        last_hour,
        search(
            one_prediction,
            "One prediction's records",
            "Replace * by the prediction_id of a response: its request, its result or exception, its outcome.",
            &format!("{} : *", keys::PREDICTION_ID),
            &[
                keys::PREDICTION_ID,
                keys::MESSAGE,
                keys::STATUS,
                "credit_risk",
                "probability_of_risky",
                "creditability",
                keys::DURATION,
            ],
        ),
        search(
            one_request,
            "One request's records",
            "Replace * by a correlation_id (the request's x-correlation-id) or a trace.id: every record of that request, the access log's included.",
            &format!("{} : * or {} : *", keys::CORRELATION_ID, keys::TRACE_ID),
            &[
                keys::CORRELATION_ID,
                keys::TRACE_ID,
                keys::LOGGER,
                keys::MESSAGE,
                keys::PREDICTION_ID,
            ],
        ),
    ]
}

/// One column of a Lens layer.
struct Column {
    id: &'static str,
    spec: Value,
}

const LAYER: &str = "layer-1";

fn per_minute() -> Column {
    Column {
        id: "time",
        spec: json!({
            "label": keys::TIMESTAMP,
            "dataType": "date",
            "operationType": "date_histogram",
            "sourceField": keys::TIMESTAMP,
            "isBucketed": true,
            "scale": "interval",
            "params": { "interval": "1m", "includeEmptyRows": true, "dropPartials": false },
        }),
    }
}

fn count(id: &'static str, label: &str, query: &str) -> Column {
    Column {
        id,
        spec: json!({
            "label": label,
            "customLabel": true,
            "dataType": "number",
            "operationType": "count",
            "sourceField": "___records___",
            "isBucketed": false,
            "scale": "ratio",
            "filter": kuery(query),
            "params": { "emptyAsNull": false },
        }),
    }
}

/// A metric of one numeric field (`sum`, `percentile`, ...), over records
/// matching `query`.
fn metric(
    id: &'static str,
    operation: &str,
    field: &str,
    label: &str,
    query: &str,
    params: Value,
) -> Column {
    Column {
        id,
        spec: json!({
            "label": label,
            "customLabel": true,
            "dataType": "number",
            "operationType": operation,
            "sourceField": field,
            "isBucketed": false,
            "scale": "ratio",
            "filter": kuery(query),
            "params": params,
        }),
    }
}

/// A Lens visualization of one layer.
fn lens(id: &str, title: &str, kind: &str, columns: Vec<Column>, visualization: Value) -> Value {
    let order: Vec<&str> = columns.iter().map(|column| column.id).collect();
    let specs: serde_json::Map<String, Value> = columns
        .into_iter()
        .map(|column| (column.id.to_owned(), column.spec))
        .collect();
    json!({
        "id": id,
        "type": "lens",
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": "8.9.0",
        "attributes": {
            "title": title,
            "description": "",
            "visualizationType": kind,
            "state": {
                "datasourceStates": {
                    "formBased": {
                        "layers": {
                            LAYER: { "columns": specs, "columnOrder": order, "incompleteColumns": {} }
                        }
                    }
                },
                "visualization": visualization,
                "query": kuery(""),
                "filters": [],
                "internalReferences": [],
                "adHocDataViews": {},
            },
        },
        "references": [{
            "type": "index-pattern",
            "id": DATA_VIEW_ID,
            "name": format!("indexpattern-datasource-layer-{LAYER}"),
        }],
    })
}

/// An XY chart: `x` along the bottom, one series per accessor.
fn xy(series: &str, x: &str, accessors: &[&str]) -> Value {
    json!({
        "legend": { "isVisible": true, "position": "bottom" },
        "valueLabels": "hide",
        "preferredSeriesType": series,
        "layers": [{
            "layerId": LAYER,
            "layerType": "data",
            "seriesType": series,
            "xAccessor": x,
            "accessors": accessors,
        }],
    })
}

fn lenses() -> Vec<Value> {
    let created = message_is(CREATED_MESSAGE);
    let percentile = |id, p: u32| {
        metric(
            id,
            "percentile",
            keys::DURATION,
            &format!("p{p} latency"),
            &created,
            json!({ "percentile": p }),
        )
    };
    vec![
        lens(
            "credit-risk-predictions-per-minute",
            "Predictions per minute",
            "lnsXY",
            vec![
                per_minute(),
                count("requested", "requested", &message_is(REQUESTED_MESSAGE)),
                count("created", "created", &created),
                count("failed", "failed", &message_is(EXCEPTION_MESSAGE)),
            ],
            xy("line", "time", &["requested", "created", "failed"]),
        ),
        lens(
            "credit-risk-latency",
            "Prediction latency (event.duration)",
            "lnsXY",
            vec![
                per_minute(),
                percentile("p50", 50),
                percentile("p95", 95),
                percentile("p99", 99),
            ],
            xy("line", "time", &["p50", "p95", "p99"]),
        ),
        lens(
            "credit-risk-share-risky",
            "Share of risky predictions",
            "lnsPie",
            vec![
                Column {
                    id: "risk",
                    spec: json!({
                        "label": "credit_risk",
                        "dataType": "string",
                        "operationType": "terms",
                        "sourceField": "credit_risk",
                        "isBucketed": true,
                        "scale": "ordinal",
                        "params": {
                            "size": 5,
                            "orderBy": { "type": "column", "columnId": "predictions" },
                            "orderDirection": "desc",
                            "otherBucket": true,
                            "missingBucket": false,
                        },
                    }),
                },
                count("predictions", "predictions", &created),
            ],
            json!({
                "shape": "donut",
                "layers": [{
                    "layerId": LAYER,
                    "layerType": "data",
                    "primaryGroups": ["risk"],
                    "metrics": ["predictions"],
                    "numberDisplay": "percent",
                    "categoryDisplay": "default",
                    "legendDisplay": "default",
                    "nestedLegend": false,
                }],
            }),
        ),
        lens(
            "credit-risk-probability",
            "Distribution of probability_of_risky",
            "lnsXY",
            vec![
                Column {
                    id: "probability",
                    spec: json!({
                        "label": "probability_of_risky",
                        "dataType": "number",
                        "operationType": "range",
                        "sourceField": "probability_of_risky",
                        "isBucketed": true,
                        "scale": "interval",
                        "params": {
                            "type": "histogram",
                            "ranges": [{ "from": 0, "to": 1, "label": "" }],
                            "maxBars": 20,
                            "includeEmptyRows": true,
                        },
                    }),
                },
                count("predictions", "predictions", &created),
            ],
            xy("bar", "probability", &["predictions"]),
        ),
        lens(
            "credit-risk-records-lost",
            "Log records lost",
            "lnsXY",
            vec![
                per_minute(),
                metric(
                    "dropped",
                    "sum",
                    keys::DROPPED_RECORDS,
                    "dropped (channel full)",
                    &format!("{} : *", keys::DROPPED_RECORDS),
                    json!({ "emptyAsNull": false }),
                ),
                metric(
                    "failed",
                    "sum",
                    keys::FAILED_WRITES,
                    "lost (output failed)",
                    &format!("{} : *", keys::FAILED_WRITES),
                    json!({ "emptyAsNull": false }),
                ),
            ],
            xy("bar_stacked", "time", &["dropped", "failed"]),
        ),
        lens(
            "credit-risk-outcomes",
            "Outcomes joined",
            "lnsXY",
            vec![
                per_minute(),
                count("created", "predictions", &created),
                count(
                    "outcomes",
                    "outcomes reported",
                    &message_is(OUTCOME_MESSAGE),
                ),
            ],
            xy("line", "time", &["created", "outcomes"]),
        ),
    ]
}

/// The dashboard: the visualizations two by two, then the exceptions.
fn dashboard(lenses: &[Value]) -> Value {
    let mut panels = Vec::new();
    let mut references = Vec::new();
    let mut place = |index: u32, kind: &str, id: &Value, (x, y, w, h): (u32, u32, u32, u32)| {
        let name = format!("panel_{index}");
        panels.push(json!({
            "type": kind,
            "panelIndex": index.to_string(),
            "gridData": { "x": x, "y": y, "w": w, "h": h, "i": index.to_string() },
            "embeddableConfig": { "enhancements": {} },
            "panelRefName": name,
        }));
        references.push(json!({ "name": name, "type": kind, "id": id }));
    };
    let mut next = 0u32;
    for lens in lenses {
        place(
            next + 1,
            "lens",
            &lens["id"],
            (next % 2 * 24, next / 2 * 12, 24, 12),
        );
        next += 1;
    }
    let below = next.div_ceil(2) * 12;
    place(
        next + 1,
        "search",
        &json!(SEARCH_IDS[0]),
        (0, below, 48, 15),
    );
    json!({
        "id": DASHBOARD_ID,
        "type": "dashboard",
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": "8.9.0",
        "attributes": {
            "title": "Credit-risk service",
            "description": "Predictions, latency, scores, lost records and outcomes of the credit-risk model.",
            "panelsJSON": Value::Array(panels).to_string(),
            "optionsJSON": json!({ "useMargins": true, "syncColors": false, "syncCursor": true, "syncTooltips": false, "hidePanelTitles": false }).to_string(),
            "timeRestore": true,
            "timeFrom": "now-1h",
            "timeTo": "now",
            "refreshInterval": { "pause": false, "value": 30000 },
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json!({ "query": kuery(""), "filter": [] }).to_string()
            },
        },
        "references": references,
    })
}

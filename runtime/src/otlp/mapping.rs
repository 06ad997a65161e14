//! The mapping from a JSON record, as the drains write it, to an OTLP log
//! record: the one table the README's "OpenTelemetry" section shows.
//!
//! | JSON record | OTLP |
//! | --- | --- |
//! | `@timestamp` | `time_unix_nano` |
//! | (when the exporter reads the line) | `observed_time_unix_nano` |
//! | `log.level` | `severity_text` (as written) and `severity_number` (TRACE 1, DEBUG 5, INFO 9, WARNING 13, ERROR 17, CRITICAL 21) |
//! | `message` | `body` (a string) |
//! | `trace.id`, `span.id` | `trace_id` (16 bytes), `span_id` (8 bytes); kept as attributes too |
//! | `log.logger` | the instrumentation scope's name (`logged_model` for records without one) |
//! | `host.hostname`, `process.pid`, the environment fields | resource attributes (`host.hostname` as `host.name`) |
//! | every other key | an attribute of the same name: integers as `int_value` (above `i64::MAX`, their digits as a string), other numbers as `double_value`, booleans, strings, objects as `kvlist_value`, arrays as `array_value`, `null` as an empty value |
//!
//! The resource also carries `service.name` (`OTEL_SERVICE_NAME`, else
//! `unknown_service:<executable>`, as the OpenTelemetry specification
//! says) and the attributes of `OTEL_RESOURCE_ATTRIBUTES`.

use crate::keys;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::time::SystemTime;

/// The scope of records no model's logger wrote (the service's own, loss
/// reports).
pub(crate) const DEFAULT_SCOPE: &str = "logged_model";

/// Keys written to the resource, not to each record's attributes: what is
/// the same on every record of the process.
pub(crate) struct ResourceKeys {
    keys: BTreeSet<String>,
}

impl ResourceKeys {
    /// The host and process keys, and the environment fields `env_keys`.
    pub(crate) fn new(env_keys: impl IntoIterator<Item = String>) -> Self {
        let mut names: BTreeSet<String> = env_keys.into_iter().collect();
        names.insert(keys::HOSTNAME.to_owned());
        names.insert(keys::PID.to_owned());
        ResourceKeys { keys: names }
    }

    fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }
}

/// The OTLP name of a resource key.
fn resource_name(key: &str) -> &str {
    if key == keys::HOSTNAME {
        "host.name"
    } else {
        key
    }
}

/// One record, mapped: its scope, its resource attributes (as found on the
/// record) and the log record.
pub(crate) struct Mapped {
    pub(crate) scope: String,
    pub(crate) resource: Vec<KeyValue>,
    pub(crate) record: LogRecord,
}

/// Maps the JSON object `line`; `None` when it is not a JSON object (never
/// written by the drains).
pub(crate) fn map_line(line: &[u8], resource_keys: &ResourceKeys, observed: u64) -> Option<Mapped> {
    let Value::Object(fields) = serde_json::from_slice::<Value>(line).ok()? else {
        return None;
    };
    Some(map_record(fields, resource_keys, observed))
}

fn map_record(fields: Map<String, Value>, resource_keys: &ResourceKeys, observed: u64) -> Mapped {
    let mut record = LogRecord {
        observed_time_unix_nano: observed,
        ..LogRecord::default()
    };
    let mut scope = DEFAULT_SCOPE.to_owned();
    let mut resource = Vec::new();
    for (key, value) in fields {
        match (key.as_str(), &value) {
            (keys::TIMESTAMP, Value::String(text)) => {
                if let Some(nanos) = unix_nanos(text) {
                    record.time_unix_nano = nanos;
                    continue;
                }
            }
            (keys::LEVEL, Value::String(level)) => {
                record.severity_number = severity_number(level);
                record.severity_text = level.clone();
                continue;
            }
            (keys::MESSAGE, Value::String(message)) => {
                record.body = Some(string_value(message.clone()));
                continue;
            }
            (keys::LOGGER, Value::String(logger)) => {
                scope = logger.clone();
                continue;
            }
            (keys::TRACE_ID, Value::String(id)) => record.trace_id = hex_bytes(id, 16),
            (keys::SPAN_ID, Value::String(id)) => record.span_id = hex_bytes(id, 8),
            _ => {}
        }
        if resource_keys.contains(&key) {
            resource.push(key_value(resource_name(&key).to_owned(), value));
        } else {
            record.attributes.push(key_value(key, value));
        }
    }
    Mapped {
        scope,
        resource,
        record,
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time.
fn unix_nanos(text: &str) -> Option<u64> {
    let time = humantime::parse_rfc3339_weak(text).ok()?;
    let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    u64::try_from(since.as_nanos()).ok()
}

/// The OpenTelemetry severity number of a level as the records write it.
fn severity_number(level: &str) -> i32 {
    match level {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" | "WARNING" => 13,
        "ERROR" => 17,
        "CRITICAL" => 21,
        _ => 0,
    }
}

/// The bytes of a hex id of `length` bytes; empty (no id) when it is not one.
fn hex_bytes(text: &str, length: usize) -> Vec<u8> {
    if text.len() != 2 * length || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Vec::new();
    }
    (0..length)
        .filter_map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn string_value(text: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(text)),
    }
}

pub(crate) fn key_value(key: String, value: Value) -> KeyValue {
    KeyValue {
        key,
        value: Some(any_value(value)),
        ..KeyValue::default()
    }
}

/// A JSON value as an OTLP value of the same type.
fn any_value(value: Value) -> AnyValue {
    let value = match value {
        Value::Null => None,
        Value::Bool(flag) => Some(any_value::Value::BoolValue(flag)),
        Value::Number(number) => Some(match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => any_value::Value::IntValue(integer),
            (None, Some(double)) if number.is_f64() => any_value::Value::DoubleValue(double),
            // An integer above i64::MAX: OTLP has no unsigned integer, and a
            // double would round it.
            _ => any_value::Value::StringValue(number.to_string()),
        }),
        Value::String(text) => Some(any_value::Value::StringValue(text)),
        Value::Array(values) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: values.into_iter().map(any_value).collect(),
        })),
        Value::Object(fields) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: fields
                .into_iter()
                .map(|(key, value)| key_value(key, value))
                .collect(),
        })),
    };
    AnyValue { value }
}

/// Records grouped as OTLP wants them: one resource (the process's), and
/// within it one scope per logger, in the order they first appear.
#[derive(Default)]
pub(crate) struct Batch {
    resource: Vec<KeyValue>,
    scopes: Vec<ScopeLogs>,
    records: usize,
}

impl Batch {
    pub(crate) fn records(&self) -> usize {
        self.records
    }

    /// Adds `mapped` to the batch; the resource attributes of the first
    /// record with any are the batch's (they are the same on every record).
    pub(crate) fn push(&mut self, mapped: Mapped) {
        if self.resource.is_empty() {
            self.resource = mapped.resource;
        }
        self.records += 1;
        if let Some(scope) = self
            .scopes
            .iter_mut()
            .find(|scope| scope.scope.as_ref().is_some_and(|s| s.name == mapped.scope))
        {
            scope.log_records.push(mapped.record);
            return;
        }
        self.scopes.push(ScopeLogs {
            scope: Some(InstrumentationScope {
                name: mapped.scope,
                ..InstrumentationScope::default()
            }),
            log_records: vec![mapped.record],
            schema_url: String::new(),
        });
    }

    /// The batch as one `ResourceLogs`, with `extra` (service name, the
    /// resource attributes of the environment) added to the resource.
    pub(crate) fn into_resource_logs(self, extra: &[KeyValue]) -> ResourceLogs {
        let mut attributes = self.resource;
        for attribute in extra {
            if !attributes.iter().any(|a| a.key == attribute.key) {
                attributes.push(attribute.clone());
            }
        }
        ResourceLogs {
            resource: Some(Resource {
                attributes,
                ..Resource::default()
            }),
            scope_logs: self.scopes,
            schema_url: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(line: &str) -> Mapped {
        map_line(
            line.as_bytes(),
            &ResourceKeys::new(["pod_name".to_owned()]),
            7,
        )
        .expect("an object")
    }

    fn attribute<'a>(record: &'a LogRecord, key: &str) -> Option<&'a any_value::Value> {
        record
            .attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    #[test]
    fn a_record_maps_its_head_ids_resource_and_typed_attributes() {
        let m = mapped(
            r#"{"@timestamp":"2026-11-28T16:22:43.261113Z","log.level":"WARN","message":"Prediction created.","host.hostname":"vm","process.pid":31,"pod_name":"p-1","log.logger":"credit_risk_model_logger","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","span.id":"00f067aa0ba902b7","count":3,"amount":4000.0,"ok":true,"none":null,"list":[1,"a"],"nested":{"a":1}}"#,
        );
        assert_eq!(m.scope, "credit_risk_model_logger");
        assert_eq!(m.record.time_unix_nano, 1_795_882_963_261_113_000);
        assert_eq!(m.record.observed_time_unix_nano, 7);
        assert_eq!(m.record.severity_number, 13);
        assert_eq!(m.record.severity_text, "WARN");
        assert_eq!(m.record.trace_id.len(), 16);
        assert_eq!(m.record.trace_id[0], 0x4b);
        assert_eq!(
            m.record.span_id,
            [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        );
        let mut names: Vec<&str> = m.resource.iter().map(|a| a.key.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["host.name", "pod_name", "process.pid"]);
        assert_eq!(
            attribute(&m.record, "count"),
            Some(&any_value::Value::IntValue(3))
        );
        assert_eq!(
            attribute(&m.record, "amount"),
            Some(&any_value::Value::DoubleValue(4000.0))
        );
        assert_eq!(
            attribute(&m.record, "ok"),
            Some(&any_value::Value::BoolValue(true))
        );
        assert_eq!(attribute(&m.record, "none"), None);
        assert!(m.record.attributes.iter().any(|a| a.key == "none"));
        assert!(matches!(
            attribute(&m.record, "list"),
            Some(any_value::Value::ArrayValue(array)) if array.values.len() == 2
        ));
        assert!(matches!(
            attribute(&m.record, "nested"),
            Some(any_value::Value::KvlistValue(list)) if list.values[0].key == "a"
        ));
        assert!(
            attribute(&m.record, "trace.id").is_some(),
            "kept as an attribute"
        );
        for head in [
            "@timestamp",
            "log.level",
            "message",
            "log.logger",
            "host.hostname",
        ] {
            assert!(
                attribute(&m.record, head).is_none(),
                "{head} is not an attribute"
            );
        }
    }

    #[test]
    fn every_level_has_its_severity_number_and_the_message_is_a_string_body() {
        for (level, number) in [
            ("TRACE", 1),
            ("DEBUG", 5),
            ("INFO", 9),
            ("WARN", 13),
            ("WARNING", 13),
            ("ERROR", 17),
            ("CRITICAL", 21),
            ("LOUD", 0),
        ] {
            let m = mapped(&format!(r#"{{"log.level":"{level}","message":"m"}}"#));
            assert_eq!(m.record.severity_number, number, "{level}");
            assert_eq!(m.record.severity_text, level);
            assert_eq!(
                m.record.body.and_then(|b| b.value),
                Some(any_value::Value::StringValue("m".to_owned()))
            );
        }
    }

    #[test]
    fn an_id_of_the_wrong_length_or_not_hex_is_no_id() {
        assert_eq!(hex_bytes("00f067aa0ba902b7", 8).len(), 8);
        assert!(hex_bytes("00f067aa0ba902", 8).is_empty(), "too short");
        assert!(hex_bytes("00f067aa0ba902b7aa", 8).is_empty(), "too long");
        assert!(hex_bytes("00f067aa0ba902bz", 8).is_empty(), "not hex");
    }

    #[test]
    fn what_is_not_an_id_or_a_time_stays_an_attribute() {
        let m = mapped(r#"{"@timestamp":"yesterday","trace.id":"xyz","message":"m"}"#);
        assert_eq!(m.record.time_unix_nano, 0);
        assert!(m.record.trace_id.is_empty());
        assert!(attribute(&m.record, "@timestamp").is_some());
        assert_eq!(m.scope, DEFAULT_SCOPE);
        assert!(map_line(b"[1]", &ResourceKeys::new([]), 0).is_none());
        assert!(map_line(b"{", &ResourceKeys::new([]), 0).is_none());
        let huge = mapped(r#"{"n":18446744073709551615,"m":-3}"#);
        assert_eq!(
            attribute(&huge.record, "n"),
            Some(&any_value::Value::StringValue(
                "18446744073709551615".to_owned()
            ))
        );
        assert_eq!(
            attribute(&huge.record, "m"),
            Some(&any_value::Value::IntValue(-3))
        );
    }

    #[test]
    fn a_batch_groups_records_by_scope_in_order() {
        let mut batch = Batch::default();
        for logger in ["a", "b", "a"] {
            batch.push(mapped(&format!(
                r#"{{"log.logger":"{logger}","pod_name":"p"}}"#
            )));
        }
        assert_eq!(batch.records(), 3);
        let extra = [key_value("service.name".to_owned(), Value::from("svc"))];
        let logs = batch.into_resource_logs(&extra);
        let scopes: Vec<(String, usize)> = logs
            .scope_logs
            .iter()
            .map(|s| {
                (
                    s.scope.clone().unwrap_or_default().name,
                    s.log_records.len(),
                )
            })
            .collect();
        assert_eq!(scopes, [("a".to_owned(), 2), ("b".to_owned(), 1)]);
        let resource = logs.resource.unwrap_or_default();
        let names: Vec<&str> = resource.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(names, ["pod_name", "service.name"]);
    }
}

//! The names of the keys the runtime writes. Base keys follow the Elastic
//! Common Schema, so Filebeat and Elasticsearch index them without mapping
//! work; the model keys keep the names of the system this crate replaces.

/// Every key the runtime writes itself. A model field or environment
/// variable may not be logged under any of these names.
pub const RESERVED: &[&str] = logged_model_macros::__reserved_keys!();

/// The Elastic Common Schema version the base keys follow.
pub const ECS_VERSION: &str = "8.11.0";

/// When the event happened: RFC 3339, UTC, microseconds.
pub const TIMESTAMP: &str = "@timestamp";
/// `"INFO"`, `"ERROR"`, ...
pub const LEVEL: &str = "log.level";
/// The record's message.
pub const MESSAGE: &str = "message";
/// The value of [`ECS_VERSION`].
pub const ECS: &str = "ecs.version";
/// The logger's name.
pub const LOGGER: &str = "log.logger";
/// The source file the record comes from.
pub const ORIGIN_FILE: &str = "log.origin.file.name";
/// The source line the record comes from.
pub const ORIGIN_LINE: &str = "log.origin.file.line";
/// The host the process runs on.
pub const HOSTNAME: &str = "host.hostname";
/// The process id.
pub const PID: &str = "process.pid";
/// `"predict"` on prediction records.
pub const ACTION: &str = "action";
/// The model's qualified name.
pub const MODEL_QUALIFIED_NAME: &str = "model_qualified_name";
/// The model's version.
pub const MODEL_VERSION: &str = "model_version";
/// Unique per prediction; the same on its two records.
pub const PREDICTION_ID: &str = "prediction_id";
/// The caller's id for the current request or job.
pub const CORRELATION_ID: &str = "correlation_id";
/// `"success"` or `"error"`.
pub const STATUS: &str = "status";
/// The prediction's duration in nanoseconds.
pub const DURATION: &str = "event.duration";
/// The error's text or the panic message.
pub const ERROR_INFO: &str = "error_info";
/// Fields whose value could not be turned into JSON, with the reason.
pub const FIELD_ERRORS: &str = "field_errors";
/// On a drop report: how many records the full channel dropped.
pub const DROPPED_RECORDS: &str = "dropped_records";
/// On a write-failure report: how many records the output failed to take.
pub const FAILED_WRITES: &str = "failed_writes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_constant_is_reserved() {
        let constants = [
            TIMESTAMP,
            LEVEL,
            MESSAGE,
            ECS,
            LOGGER,
            ORIGIN_FILE,
            ORIGIN_LINE,
            HOSTNAME,
            PID,
            ACTION,
            MODEL_QUALIFIED_NAME,
            MODEL_VERSION,
            PREDICTION_ID,
            CORRELATION_ID,
            STATUS,
            DURATION,
            ERROR_INFO,
            FIELD_ERRORS,
            DROPPED_RECORDS,
            FAILED_WRITES,
        ];
        for key in constants {
            assert!(RESERVED.contains(&key), "{key} is missing from RESERVED");
        }
        assert_eq!(RESERVED.len(), constants.len());
    }
}

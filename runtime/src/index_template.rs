//! The index a model's records go to, as Elasticsearch requests: a data
//! stream of the model's records, its index template, the component
//! template that holds the [`IndexMapping`], and the lifecycle policy that
//! rolls it over and deletes it. The deploy installs these three documents
//! before the first record arrives, so no field's type is left to a guess
//! and the disk never fills.
//!
//! The data stream follows Elasticsearch's naming scheme,
//! `logs-<dataset>-<namespace>` (a dataset of `credit_risk` and the
//! namespace `default` give `logs-credit_risk-default`), so Kibana's log
//! views find it. The index template composes Elasticsearch's own
//! `ecs@mappings` (the Elastic Common Schema by field name, for what a
//! shipper adds: `kubernetes.*`, `host.*`, `agent.*`), then the model's
//! mapping, which wins over it.
//!
//! ```
//! use logged_model::index_template::{IndexTemplate, Retention};
//! use logged_model::{logged_model, mapping::IndexMapping, Model};
//! use std::time::Duration;
//!
//! pub struct Input { pub amount: f64 }
//! pub struct Scorer;
//!
//! #[logged_model(input_fields = [amount])]
//! impl Model for Scorer {
//!     type Input = Input;
//!     type Output = ();
//!     type Error = String;
//!     fn qualified_name(&self) -> &str { "scorer" }
//!     fn version(&self) -> &str { "1" }
//!     fn predict(&self, _input: &Input) -> Result<(), String> { Ok(()) }
//! }
//!
//! let template = IndexTemplate::new(IndexMapping::of::<Scorer>(), "scorer")?
//!     .retention(Retention { delete_after: Duration::from_secs(3 * 86_400), ..Retention::default() })?;
//! assert_eq!(template.data_stream(), "logs-scorer-default");
//! let requests = template.requests();
//! assert_eq!(requests[0].path, "_ilm/policy/logs-scorer");
//! assert_eq!(requests[0].body["policy"]["phases"]["delete"]["min_age"], "3d");
//! assert_eq!(requests[1].path, "_component_template/logs-scorer@mappings");
//! assert_eq!(
//!     requests[1].body["template"]["mappings"]["properties"]["amount"]["type"],
//!     "double"
//! );
//! assert_eq!(requests[2].path, "_index_template/logs-scorer");
//! assert_eq!(requests[2].body["index_patterns"][0], "logs-scorer-*");
//! # Ok::<(), logged_model::index_template::IndexTemplateError>(())
//! ```

use crate::mapping::IndexMapping;
use serde_json::{Value, json};
use std::time::Duration;

/// Elasticsearch's component template of the Elastic Common Schema's
/// dynamic mappings (8.13 and later); left out where it does not exist.
const ECS_MAPPINGS: &str = "ecs@mappings";

/// Above Elasticsearch's built-in `logs-*-*` template (priority 100), so
/// this one applies to the model's data stream.
const PRIORITY: u32 = 200;

/// When the backing index of the data stream rolls over, and when it is
/// deleted: the retention that keeps the disk from filling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// A backing index rolls over once this old...
    pub rollover_after: Duration,
    /// ...or once its primary shard holds this many bytes.
    pub rollover_bytes: u64,
    /// A backing index is deleted this long after it rolled over.
    pub delete_after: Duration,
}

impl Default for Retention {
    /// A day or 2 GB per backing index, deleted after 7 days.
    fn default() -> Self {
        Retention {
            rollover_after: Duration::from_secs(86_400),
            rollover_bytes: 2 << 30,
            delete_after: Duration::from_secs(7 * 86_400),
        }
    }
}

/// Why an [`IndexTemplate`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexTemplateError {
    /// A dataset or namespace Elasticsearch would refuse in a data stream's
    /// name.
    #[error("{what} `{name}` is not a valid part of a data stream's name: {reason}")]
    Name {
        /// `"dataset"` or `"namespace"`.
        what: &'static str,
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A retention Elasticsearch cannot express or that deletes nothing.
    #[error("retention: {0}")]
    Retention(&'static str),
}

/// One request that installs part of the index: `PUT <path>` with `body`.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateRequest {
    /// The path below Elasticsearch's address, without a leading `/`.
    pub path: String,
    /// The JSON body.
    pub body: Value,
}

/// The data stream of a model's records, its templates and its retention.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexTemplate {
    mapping: IndexMapping,
    dataset: String,
    namespace: String,
    retention: Retention,
    replicas: u32,
}

impl IndexTemplate {
    /// The index of `mapping`'s records in the dataset `dataset` (lower
    /// case, no `-`: `credit_risk`), namespace `default`, default
    /// [`Retention`], one replica per shard.
    pub fn new(mapping: IndexMapping, dataset: &str) -> Result<Self, IndexTemplateError> {
        check_name("dataset", dataset)?;
        Ok(IndexTemplate {
            mapping,
            dataset: dataset.to_owned(),
            namespace: "default".to_owned(),
            retention: Retention::default(),
            replicas: 1,
        })
    }

    /// The data stream's namespace (`default`, `production`, a team's name).
    pub fn namespace(mut self, namespace: &str) -> Result<Self, IndexTemplateError> {
        check_name("namespace", namespace)?;
        self.namespace = namespace.to_owned();
        Ok(self)
    }

    /// When backing indices roll over and are deleted. Every duration must
    /// be at least a second, and the size at least a megabyte.
    pub fn retention(mut self, retention: Retention) -> Result<Self, IndexTemplateError> {
        if retention.rollover_after < Duration::from_secs(1)
            || retention.delete_after < Duration::from_secs(1)
        {
            return Err(IndexTemplateError::Retention(
                "durations are counted in whole seconds, at least one",
            ));
        }
        if retention.rollover_bytes < 1 << 20 {
            return Err(IndexTemplateError::Retention(
                "a backing index rolls over at 1 MB or more",
            ));
        }
        self.retention = retention;
        Ok(self)
    }

    /// Replicas per primary shard: 0 on a single Elasticsearch node, where
    /// a replica can never be placed and the cluster would stay yellow.
    pub fn replicas(mut self, replicas: u32) -> Self {
        self.replicas = replicas;
        self
    }

    /// The mapping the component template holds.
    pub fn mapping(&self) -> &IndexMapping {
        &self.mapping
    }

    /// The data stream the shipper writes to: `logs-<dataset>-<namespace>`.
    pub fn data_stream(&self) -> String {
        format!("logs-{}-{}", self.dataset, self.namespace)
    }

    /// The index template's name, `logs-<dataset>`, which also names the
    /// lifecycle policy.
    pub fn name(&self) -> String {
        format!("logs-{}", self.dataset)
    }

    /// The component template's name, `logs-<dataset>@mappings`.
    pub fn component_name(&self) -> String {
        format!("{}@mappings", self.name())
    }

    /// The lifecycle policy: roll over in the hot phase, delete after the
    /// retention.
    pub fn lifecycle_policy(&self) -> Value {
        let Retention {
            rollover_after,
            rollover_bytes,
            delete_after,
        } = self.retention;
        json!({
            "policy": {
                "_meta": meta(),
                "phases": {
                    "hot": {
                        "actions": {
                            "rollover": {
                                "max_age": duration_text(rollover_after),
                                "max_primary_shard_size": size_text(rollover_bytes),
                            }
                        }
                    },
                    "delete": {
                        "min_age": duration_text(delete_after),
                        "actions": { "delete": {} }
                    }
                }
            }
        })
    }

    /// The component template: the mapping's properties.
    pub fn component_template(&self) -> Value {
        json!({
            "template": {
                "mappings": { "properties": self.mapping.properties() }
            },
            "_meta": meta(),
        })
    }

    /// The index template: a data stream for `logs-<dataset>-*`, composed
    /// of `ecs@mappings` and the component template, with the lifecycle
    /// policy and the replica count. A value that does not fit its field's
    /// type is left out of the document (`ignore_malformed`) instead of
    /// failing the whole record.
    pub fn index_template(&self) -> Value {
        json!({
            "index_patterns": [format!("logs-{}-*", self.dataset)],
            "data_stream": {},
            "priority": PRIORITY,
            "composed_of": [ECS_MAPPINGS, self.component_name()],
            "ignore_missing_component_templates": [ECS_MAPPINGS],
            "template": {
                "settings": {
                    "index.lifecycle.name": self.name(),
                    "index.number_of_replicas": self.replicas,
                    "index.mapping.ignore_malformed": true,
                }
            },
            "_meta": meta(),
        })
    }

    /// The three requests, in the order they must run: the policy and the
    /// component template before the index template that names them.
    pub fn requests(&self) -> [TemplateRequest; 3] {
        [
            TemplateRequest {
                path: format!("_ilm/policy/{}", self.name()),
                body: self.lifecycle_policy(),
            },
            TemplateRequest {
                path: format!("_component_template/{}", self.component_name()),
                body: self.component_template(),
            },
            TemplateRequest {
                path: format!("_index_template/{}", self.name()),
                body: self.index_template(),
            },
        ]
    }
}

fn meta() -> Value {
    json!({ "managed_by": "logged-model", "version": env!("CARGO_PKG_VERSION") })
}

/// Elasticsearch's rules for the parts of a data stream's name
/// (`logs-<dataset>-<namespace>`): lower case, none of `\/*?"<>|,#: -`,
/// and short enough for the whole name to stay under 100 bytes.
fn check_name(what: &'static str, name: &str) -> Result<(), IndexTemplateError> {
    let refuse = |reason| {
        Err(IndexTemplateError::Name {
            what,
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.len() > 40 {
        return refuse("it is longer than 40 bytes");
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return refuse("it has an upper-case letter");
    }
    if name.chars().any(|c| {
        matches!(
            c,
            '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ',' | '#' | ':' | ' ' | '-'
        )
    }) {
        return refuse("it has one of \\ / * ? \" < > | , # : - or a space");
    }
    if name.starts_with(['_', '+', '.']) {
        return refuse("it starts with _, + or .");
    }
    Ok(())
}

/// A duration in Elasticsearch's units: the largest of days, hours,
/// minutes that divides it, else seconds.
fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// A size in Elasticsearch's units: the largest of gb, mb, kb that divides
/// it, else bytes.
fn size_text(bytes: u64) -> String {
    for (unit, size) in [("gb", 1u64 << 30), ("mb", 1 << 20), ("kb", 1 << 10)] {
        if bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}b")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_take_the_largest_unit_that_divides_them() {
        assert_eq!(duration_text(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(duration_text(Duration::from_secs(36 * 3_600)), "36h");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
        assert_eq!(duration_text(Duration::from_secs(120)), "2m");
        assert_eq!(size_text(2 << 30), "2gb");
        assert_eq!(size_text(1536 << 20), "1536mb");
        assert_eq!(size_text(1 << 10), "1kb");
        assert_eq!(size_text(1000), "1000b");
    }

    #[test]
    fn names_elasticsearch_would_refuse_are_refused_with_the_reason() {
        for (name, reason) in [
            ("", "empty"),
            ("Credit", "upper-case"),
            ("credit-risk", "one of"),
            ("a b", "one of"),
            ("_hidden", "starts with"),
            (&"x".repeat(41), "longer"),
        ] {
            let error = check_name("dataset", name).expect_err(name);
            assert!(error.to_string().contains(reason), "{name}: {error}");
        }
        assert!(check_name("dataset", "credit_risk.v2").is_ok());
    }
}

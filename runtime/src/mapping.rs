//! The Elasticsearch mapping of a model's records, derived from the model's
//! types at compile time: Elasticsearch's dynamic mapping guesses a field's
//! type from the first value it sees (a float written as `1169.0` and
//! re-encoded as `1169` becomes a `long`, and fractional amounts are then
//! truncated in searches), so the types are better given up front.
//!
//! The runtime's own keys carry their Elastic Common Schema types
//! ([`keys::ES_TYPES`]); each logged field gets the
//! type of its Rust type through [`EsType`] (integers `long`, floats
//! `double`, strings and chars `keyword`, booleans `boolean`; an `Option`, a
//! `Vec` or a reference the type of what it holds), redacted and hashed
//! fields `keyword`, and a field listed as `field(type = "...")` the type
//! given. A field of another type (a struct, an enum of your own) is left
//! to dynamic mapping, which maps an object as `object` and a string as
//! Filebeat's template says; implement [`EsType`] for the type, or give the
//! type in the attribute, to fix it.
//!
//! ```
//! use logged_model::{logged_model, mapping::IndexMapping, Model};
//!
//! pub struct Input { pub amount: f64, pub months: u32, pub tag: String }
//! pub struct Scorer;
//!
//! #[logged_model(input_fields = [amount, months, tag(type = "text")])]
//! impl Model for Scorer {
//!     type Input = Input;
//!     type Output = ();
//!     type Error = String;
//!     fn qualified_name(&self) -> &str { "scorer" }
//!     fn version(&self) -> &str { "1" }
//!     fn predict(&self, _input: &Input) -> Result<(), String> { Ok(()) }
//! }
//!
//! let mapping = IndexMapping::of::<Scorer>();
//! assert_eq!(mapping.type_of("amount"), Some("double"));
//! assert_eq!(mapping.type_of("months"), Some("long"));
//! assert_eq!(mapping.type_of("tag"), Some("text"));
//! assert_eq!(mapping.type_of("@timestamp"), Some("date"));
//! ```

use crate::generated::LoggedModel;
use crate::keys;
use serde_json::{Map, Value, json};
use std::marker::PhantomData;

/// The Elasticsearch type a logged value of this Rust type is indexed as.
/// Implement it for a type of your own to give its fields a mapping.
pub trait EsType {
    /// `"long"`, `"double"`, `"keyword"`, `"boolean"`, `"object"`, ...
    const ES_TYPE: &'static str;
}

macro_rules! es_types {
    ($es_type:literal: $($rust:ty),*) => {$(
        impl EsType for $rust {
            const ES_TYPE: &'static str = $es_type;
        }
    )*};
}

es_types!("long": i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
es_types!("double": f32, f64);
es_types!("boolean": bool);
es_types!("keyword": String, str, char);

impl<T: EsType> EsType for crate::Sensitive<T> {
    // Inside a record, a sensitive value is the redaction marker.
    const ES_TYPE: &'static str = "keyword";
}

macro_rules! es_type_of_contents {
    ($($wrapper:ty),*) => {$(
        impl<T: EsType + ?Sized> EsType for $wrapper {
            const ES_TYPE: &'static str = T::ES_TYPE;
        }
    )*};
}

es_type_of_contents!(&T, Box<T>, std::sync::Arc<T>);

impl<T: EsType> EsType for Option<T> {
    const ES_TYPE: &'static str = T::ES_TYPE;
}

// Elasticsearch has no array type: an array holds values of one type.
impl<T: EsType> EsType for Vec<T> {
    const ES_TYPE: &'static str = T::ES_TYPE;
}

impl<T: EsType> EsType for [T] {
    const ES_TYPE: &'static str = T::ES_TYPE;
}

/// The object that holds the fields of `tracing` events (feature
/// `tracing`): an event's field `port` is written as `tracing.port`.
pub const TRACING_FIELDS: &str = "tracing";

/// The type of an object kept in the document but not indexed (its
/// `properties` entry is `{"type": "object", "enabled": false}`).
pub const NOT_INDEXED: &str = "object, not indexed";

/// The parts of a profile record's [`keys::MODEL_PROFILE`] and their types.
const PROFILE_FIELDS: [(&str, &str); 9] = [
    ("window.start", "date"),
    ("window.end", "date"),
    ("predictions.made", "long"),
    ("predictions.logged", "long"),
    ("predictions.sampled_out", "long"),
    ("predictions.failed", "long"),
    ("predictions.unprofiled", "long"),
    ("predictions.outcomes", "long"),
    ("fields", NOT_INDEXED),
];

/// Which of the runtime's keys the Elastic Common Schema defines (Filebeat's
/// own index template maps them already).
const ECS_KEYS: [&str; 12] = [
    keys::TIMESTAMP,
    keys::LEVEL,
    keys::MESSAGE,
    keys::ECS,
    keys::ORIGIN_FILE,
    keys::ORIGIN_LINE,
    keys::HOSTNAME,
    keys::PID,
    keys::LOGGER,
    keys::DURATION,
    keys::TRACE_ID,
    keys::SPAN_ID,
];

/// The mapping of one model's records: every key with its Elasticsearch type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexMapping {
    fields: Vec<(String, &'static str)>,
    dynamic: Vec<&'static str>,
}

impl IndexMapping {
    /// The runtime's keys and `M`'s logged fields.
    pub fn of<M: LoggedModel>() -> Self {
        let mut mapping = IndexMapping {
            fields: keys::ES_TYPES
                .iter()
                .filter(|(key, _)| *key != keys::MODEL_PROFILE)
                .map(|(key, es_type)| ((*key).to_owned(), *es_type))
                .collect(),
            dynamic: Vec::new(),
        };
        // A profile record's window and counts are searched and charted;
        // its sketches are kept in the document, not indexed.
        for (part, es_type) in PROFILE_FIELDS {
            mapping.add(&format!("{}.{part}", keys::MODEL_PROFILE), es_type);
        }
        // The fields of other crates' `tracing` events, under a prefix of
        // their own: one `flattened` field, so no name or type of theirs
        // can collide with another's or with the Elastic Common Schema.
        mapping.add(TRACING_FIELDS, "flattened");
        for (key, es_type) in M::field_types() {
            match es_type {
                Some(es_type) => mapping.add(key, es_type),
                None => mapping.dynamic.push(key),
            }
        }
        mapping
    }

    /// Adds the environment fields (`POD_NAME` as `pod_name`), as keywords.
    pub fn with_env_fields<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        for name in names {
            let key = name.as_ref().to_ascii_lowercase();
            self.add(&key, "keyword");
        }
        self
    }

    /// Adds a key of the service's own records (not a model's field) with
    /// its Elasticsearch type; a key already mapped keeps its type.
    pub fn with_field(mut self, key: &str, es_type: &'static str) -> Self {
        self.add(key, es_type);
        self
    }

    fn add(&mut self, key: &str, es_type: &'static str) {
        if !self.fields.iter().any(|(known, _)| known == key) {
            self.fields.push((key.to_owned(), es_type));
        }
    }

    /// Every key with its type, dotted keys as written.
    pub fn fields(&self) -> &[(String, &'static str)] {
        &self.fields
    }

    /// The keys that the Elastic Common Schema does not define: what an
    /// index template built on Filebeat's own (`setup.template.append_fields`)
    /// must add.
    pub fn non_ecs_fields(&self) -> impl Iterator<Item = &(String, &'static str)> {
        self.fields
            .iter()
            .filter(|(key, _)| !ECS_KEYS.contains(&key.as_str()))
    }

    /// The logged fields whose type is left to dynamic mapping.
    pub fn dynamic_fields(&self) -> &[&'static str] {
        &self.dynamic
    }

    /// The type of `key`, if it is mapped.
    pub fn type_of(&self, key: &str) -> Option<&'static str> {
        self.fields
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, es_type)| *es_type)
    }

    /// The mapping's `properties`, dotted keys nested as objects (Filebeat
    /// expands them so), ready for an index or component template.
    pub fn properties(&self) -> Value {
        let mut properties = Map::new();
        for (key, es_type) in &self.fields {
            let mut level = &mut properties;
            let mut parts = key.split('.').peekable();
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    let leaf = if *es_type == NOT_INDEXED {
                        json!({ "type": "object", "enabled": false })
                    } else {
                        json!({ "type": es_type })
                    };
                    level.insert(part.to_owned(), leaf);
                    break;
                }
                let entry = level
                    .entry(part.to_owned())
                    .or_insert_with(|| json!({ "properties": {} }));
                if !entry.get("properties").is_some_and(Value::is_object) {
                    *entry = json!({ "properties": {} });
                }
                level = match entry.get_mut("properties").and_then(Value::as_object_mut) {
                    Some(next) => next,
                    None => break,
                };
            }
        }
        Value::Object(properties)
    }
}

/// The probe of a field's type: [`KnownEsType`] when the type implements
/// [`EsType`], [`DynamicEsType`] (one reference further away) otherwise.
#[doc(hidden)]
pub struct TypeProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> TypeProbe<T> {
    /// The probe of the type `access` reaches.
    pub fn of<I>(_access: impl for<'a> Fn(&'a I) -> &'a T) -> Self {
        TypeProbe(PhantomData)
    }
}

#[doc(hidden)]
pub trait KnownEsType {
    fn es_type(&self) -> Option<&'static str>;
}

impl<T: EsType + ?Sized> KnownEsType for TypeProbe<T> {
    fn es_type(&self) -> Option<&'static str> {
        Some(T::ES_TYPE)
    }
}

#[doc(hidden)]
pub trait DynamicEsType {
    fn es_type(&self) -> Option<&'static str> {
        None
    }
}

impl<T: ?Sized> DynamicEsType for &TypeProbe<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_nest_as_objects() {
        let mapping = IndexMapping {
            fields: vec![
                ("log.level".to_owned(), "keyword"),
                ("log.origin.file.line".to_owned(), "long"),
                ("amount".to_owned(), "double"),
            ],
            dynamic: Vec::new(),
        };
        assert_eq!(
            mapping.properties(),
            json!({
                "log": {"properties": {
                    "level": {"type": "keyword"},
                    "origin": {"properties": {"file": {"properties": {"line": {"type": "long"}}}}}
                }},
                "amount": {"type": "double"}
            })
        );
    }
}

//! The names of the keys the runtime writes. Base keys follow the Elastic
//! Common Schema, so Filebeat and Elasticsearch index them without mapping
//! work; the model keys keep the names of the system this crate replaces.
//!
//! The constants below and [`RESERVED`] are generated from the one table the
//! attribute also checks field names against, so a name is written once.

/// The Elastic Common Schema version the base keys follow.
pub const ECS_VERSION: &str = "8.11.0";

logged_model_macros::__define_keys!();

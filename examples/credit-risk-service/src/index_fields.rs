//! The Elasticsearch types of the service's log records, from the framework's
//! mapping of the model ([`logged_model::mapping`]) and the access log's keys:
//! what Filebeat's index template must add (`setup.template.append_fields`
//! in `deploy/logging/filebeat.yaml`, which `credit-risk-service
//! index-fields` prints and a test keeps equal).

use crate::model::CreditRiskModel;
use logged_model::mapping::IndexMapping;

/// The environment fields the Deployment passes (`LOG_ENV_VARS`).
pub const ENV_FIELDS: [&str; 3] = ["POD_NAME", "NODE_NAME", "APP_NAME"];

/// Keys of the service's own records that the Elastic Common Schema does not
/// define, with their types. (`server.address` and `server.port` are ECS
/// fields: Filebeat's template has them already, and would refuse to be
/// built with them listed again.)
const SERVICE_FIELDS: [(&str, &str); 2] = [("roc_auc", "double"), ("model_path", "keyword")];

/// The mapping of every record the service writes.
pub fn mapping() -> IndexMapping {
    IndexMapping::of::<CreditRiskModel>().with_env_fields(ENV_FIELDS)
}

/// The fields Filebeat's template must add, sorted by name.
pub fn append_fields() -> Vec<(String, &'static str)> {
    let mut fields: Vec<(String, &'static str)> = mapping().non_ecs_fields().cloned().collect();
    fields.extend(
        SERVICE_FIELDS
            .iter()
            .map(|(key, es_type)| ((*key).to_owned(), *es_type)),
    );
    fields.sort();
    fields
}

/// [`append_fields`] as the YAML list `setup.template.append_fields` takes,
/// indented for `deploy/logging/filebeat.yaml`.
pub fn append_fields_yaml() -> String {
    append_fields()
        .iter()
        .map(|(name, es_type)| format!("      - name: {name}\n        type: {es_type}\n"))
        .collect()
}

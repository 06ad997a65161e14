//! The Elasticsearch mapping the attribute derives from the model's types.

use logged_model::mapping::{EsType, IndexMapping};
use logged_model::{Model, Sensitive, logged_model};
use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
struct Address {
    city: String,
}

// Only the types are read here: no value is ever made.
#[allow(dead_code)]
#[derive(Serialize)]
enum Grade {
    A,
}

#[allow(dead_code)]
#[derive(Serialize)]
enum Tier {
    Gold,
}

impl EsType for Tier {
    const ES_TYPE: &'static str = "keyword";
}

struct Input {
    amount: f64,
    ratio: f32,
    months: u32,
    delta: i64,
    name: String,
    flag: bool,
    maybe: Option<f64>,
    scores: Vec<u8>,
    address: Address,
    grade: Grade,
    tier: Tier,
    secret: Sensitive<String>,
    note: String,
    count: u32,
}

struct Typed;

#[logged_model(
    input_fields = [amount, ratio, months, delta, name, flag, maybe, scores, address,
        address.city, grade, tier, secret(hash), note(redact), count(type = "double")],
    output_fields = [0]
)]
impl Model for Typed {
    type Input = Input;
    type Output = (bool,);
    type Error = String;
    fn qualified_name(&self) -> &str {
        "typed"
    }
    fn version(&self) -> &str {
        "1"
    }
    fn predict(&self, _input: &Input) -> Result<(bool,), String> {
        Ok((true,))
    }
}

#[test]
fn each_field_gets_the_type_of_its_rust_type() {
    let mapping = IndexMapping::of::<Typed>();
    for (key, expected) in [
        ("amount", "double"),
        ("ratio", "double"),
        ("months", "long"),
        ("delta", "long"),
        ("name", "keyword"),
        ("flag", "boolean"),
        ("maybe", "double"),
        ("scores", "long"),
        ("address.city", "keyword"),
        ("tier", "keyword"),
        ("secret", "keyword"),
        ("note", "keyword"),
        ("count", "double"),
        ("0", "boolean"),
        ("@timestamp", "date"),
        ("event.duration", "long"),
        ("prediction_id", "keyword"),
    ] {
        assert_eq!(mapping.type_of(key), Some(expected), "{key}");
    }
    // A struct or an enum of the user's own, with no `EsType`, is left to
    // dynamic mapping rather than guessed.
    assert_eq!(mapping.dynamic_fields(), ["address", "grade"]);
    assert_eq!(mapping.type_of("grade"), None);
}

#[test]
fn the_properties_nest_dotted_keys_and_env_fields_are_keywords() {
    let mapping = IndexMapping::of::<Typed>().with_env_fields(["POD_NAME"]);
    let properties = mapping.properties();
    assert_eq!(properties["pod_name"], json!({"type": "keyword"}));
    assert_eq!(
        properties["address"]["properties"]["city"],
        json!({"type": "keyword"})
    );
    assert_eq!(
        properties["log"]["properties"]["origin"]["properties"]["file"]["properties"]["line"],
        json!({"type": "long"})
    );
    let non_ecs: Vec<&str> = mapping
        .non_ecs_fields()
        .map(|(key, _)| key.as_str())
        .collect();
    assert!(non_ecs.contains(&"amount") && !non_ecs.contains(&"@timestamp"));
}

mod index_template {
    use super::Typed;
    use logged_model::index_template::{IndexTemplate, IndexTemplateError, Retention};
    use logged_model::mapping::IndexMapping;
    use std::time::Duration;

    fn template() -> IndexTemplate {
        IndexTemplate::new(IndexMapping::of::<Typed>(), "typed").expect("a valid dataset")
    }

    #[test]
    fn the_requests_install_the_policy_and_mapping_before_the_template_that_names_them() {
        let template = template()
            .namespace("staging")
            .expect("a valid namespace")
            .replicas(0);
        assert_eq!(template.data_stream(), "logs-typed-staging");
        let [policy, component, index] = template.requests();
        assert_eq!(policy.path, "_ilm/policy/logs-typed");
        assert_eq!(component.path, "_component_template/logs-typed@mappings");
        assert_eq!(index.path, "_index_template/logs-typed");
        let properties = &component.body["template"]["mappings"]["properties"];
        assert_eq!(properties["amount"]["type"], "double");
        assert_eq!(properties["count"]["type"], "double", "the type given");
        assert_eq!(properties["tracing"]["type"], "flattened");
        assert_eq!(properties["log"]["properties"]["level"]["type"], "keyword");
        let body = &index.body;
        assert_eq!(body["index_patterns"][0], "logs-typed-*");
        assert!(body["data_stream"].is_object());
        assert_eq!(body["composed_of"][1], "logs-typed@mappings");
        let settings = &body["template"]["settings"];
        assert_eq!(settings["index.lifecycle.name"], "logs-typed");
        assert_eq!(settings["index.number_of_replicas"], 0);
        let phases = &policy.body["policy"]["phases"];
        assert_eq!(phases["hot"]["actions"]["rollover"]["max_age"], "1d");
        assert_eq!(
            phases["hot"]["actions"]["rollover"]["max_primary_shard_size"],
            "2gb"
        );
        assert_eq!(phases["delete"]["min_age"], "7d");
    }

    #[test]
    fn a_template_keeps_one_replica_unless_told() {
        let [_, _, index] = template().requests();
        assert_eq!(
            index.body["template"]["settings"]["index.number_of_replicas"],
            1
        );
    }

    #[test]
    fn retention_is_written_in_elasticsearchs_units() {
        let template = template()
            .retention(Retention {
                rollover_after: Duration::from_secs(6 * 3600),
                rollover_bytes: 512 << 20,
                delete_after: Duration::from_secs(30 * 86_400),
            })
            .expect("a valid retention");
        let policy = template.lifecycle_policy();
        let phases = &policy["policy"]["phases"];
        assert_eq!(phases["hot"]["actions"]["rollover"]["max_age"], "6h");
        assert_eq!(
            phases["hot"]["actions"]["rollover"]["max_primary_shard_size"],
            "512mb"
        );
        assert_eq!(phases["delete"]["min_age"], "30d");
    }

    #[test]
    fn the_smallest_retention_and_the_longest_names_are_taken() {
        let smallest = template()
            .retention(Retention {
                rollover_after: Duration::from_secs(1),
                rollover_bytes: (1 << 20) + (1 << 10),
                delete_after: Duration::from_secs(1),
            })
            .expect("a second and a megabyte are the least");
        let policy = smallest.lifecycle_policy();
        let phases = &policy["policy"]["phases"];
        assert_eq!(phases["hot"]["actions"]["rollover"]["max_age"], "1s");
        assert_eq!(
            phases["hot"]["actions"]["rollover"]["max_primary_shard_size"],
            "1025kb"
        );
        assert_eq!(phases["delete"]["min_age"], "1s");
        let exactly_a_megabyte = template()
            .retention(Retention {
                rollover_bytes: 1 << 20,
                ..Retention::default()
            })
            .expect("a megabyte is the least");
        assert_eq!(
            exactly_a_megabyte.lifecycle_policy()["policy"]["phases"]["hot"]["actions"]["rollover"]
                ["max_primary_shard_size"],
            "1mb"
        );
        let forty = "d".repeat(40);
        let named = IndexTemplate::new(IndexMapping::of::<Typed>(), &forty).expect("40 bytes fit");
        assert_eq!(named.data_stream(), format!("logs-{forty}-default"));
        assert!(IndexTemplate::new(IndexMapping::of::<Typed>(), &"d".repeat(41)).is_err());
        // Every document says who made it, so an operator can tell ours
        // from a hand-made template.
        for request in smallest.requests() {
            let meta = if request.path.starts_with("_ilm") {
                &request.body["policy"]["_meta"]
            } else {
                &request.body["_meta"]
            };
            assert_eq!(meta["managed_by"], "logged-model", "{}", request.path);
        }
    }

    #[test]
    fn a_retention_elasticsearch_cannot_express_is_refused() {
        for retention in [
            Retention {
                rollover_after: Duration::from_millis(500),
                ..Retention::default()
            },
            Retention {
                delete_after: Duration::ZERO,
                ..Retention::default()
            },
            Retention {
                rollover_bytes: 1000,
                ..Retention::default()
            },
        ] {
            let error = template().retention(retention).expect_err("refused");
            assert!(matches!(error, IndexTemplateError::Retention(_)), "{error}");
        }
    }

    #[test]
    fn a_name_elasticsearch_would_refuse_is_refused_with_what_and_why() {
        let error =
            IndexTemplate::new(IndexMapping::of::<Typed>(), "Credit-Risk").expect_err("refused");
        let text = error.to_string();
        assert!(text.contains("dataset `Credit-Risk`"), "{text}");
        let error = template().namespace("a:b").expect_err("refused");
        assert!(error.to_string().contains("namespace `a:b`"), "{error}");
    }
}

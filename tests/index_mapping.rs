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

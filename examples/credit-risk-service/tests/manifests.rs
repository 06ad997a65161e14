//! The deployment files: the core Kubernetes manifests against the official
//! schemas (kubernetes-validate, strict, offline), the ECK resources and the
//! Dockerfile by their structure.

use serde::Deserialize;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// The kubernetes-validate release this project checks against.
const KUBERNETES_VALIDATE: &str = "kubernetes-validate==1.37.0";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn documents(relative: &str) -> Vec<Value> {
    let path = deploy_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
        })
        .collect()
}

fn one(relative: &str) -> Value {
    let mut all = documents(relative);
    assert_eq!(all.len(), 1, "{relative} holds one resource");
    all.remove(0)
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, found {value:?}"))
}

/// The validator, installed on first use into a virtual environment under
/// the target directory (PyPI is the only thing it needs, once). Tests run
/// in threads of one process; the lock keeps them from installing twice.
fn kubernetes_validate() -> PathBuf {
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(install_kubernetes_validate).clone()
}

fn install_kubernetes_validate() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/manifest-tools");
    let venv = target.join("venv");
    let program = venv.join("bin/kubernetes-validate");
    if program.exists() {
        return program;
    }
    std::fs::create_dir_all(&target).expect("a tools directory");
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .expect("kubernetes-validate needs Python 3 with venv and pip");
    let created = Command::new(python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python runs");
    assert!(created.success(), "python3 -m venv failed");
    let installed = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            KUBERNETES_VALIDATE,
        ])
        .status()
        .expect("pip runs");
    assert!(
        installed.success(),
        "pip install {KUBERNETES_VALIDATE} failed"
    );
    program
}

fn validate(files: &[PathBuf]) -> (bool, String) {
    let output = Command::new(kubernetes_validate())
        .arg("--strict")
        .args(files)
        .output()
        .expect("kubernetes-validate runs");
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), log)
}

const CORE: [&str; 13] = [
    "kubernetes/00-namespace.yaml",
    "kubernetes/deployment.yaml",
    "kubernetes/service.yaml",
    "kubernetes/hpa.yaml",
    "kubernetes/pdb.yaml",
    "kubernetes/networkpolicy.yaml",
    "logging/00-namespace.yaml",
    "logging/filebeat-rbac.yaml",
    "logging/index-template.yaml",
    "logging/index-template-job.yaml",
    "logging/drift-gate.yaml",
    "otel/collector.yaml",
    "otel/credit-risk-otlp.yaml",
];

#[test]
fn core_manifests_pass_the_official_schemas_strictly() {
    let files: Vec<PathBuf> = CORE.iter().map(|f| deploy_dir().join(f)).collect();
    let (passed, log) = validate(&files);
    assert!(passed, "{log}");
    for resource in [
        "namespace/credit-risk",
        "deployment/credit-risk-service",
        "service/credit-risk-service",
        "horizontalpodautoscaler/credit-risk-service",
        "poddisruptionbudget/credit-risk-service",
        "networkpolicy/credit-risk-service",
        "namespace/logging",
        "serviceaccount/filebeat",
        "clusterrole/filebeat",
        "clusterrolebinding/filebeat",
        "configmap/credit-risk-index-template",
        "job/credit-risk-index-template",
        "configmap/credit-risk-drift-constraints",
        "cronjob/credit-risk-drift-gate",
        "configmap/otel-collector",
        "deployment/otel-collector",
        "service/otel-collector",
        "networkpolicy/credit-risk-service-otlp",
    ] {
        assert!(
            log.contains(&format!("passed for resource {resource}")),
            "{resource} not validated:\n{log}"
        );
    }
}

#[test]
fn the_validator_rejects_a_misspelled_field() {
    let original =
        std::fs::read_to_string(deploy_dir().join("kubernetes/deployment.yaml")).expect("reads");
    let broken = original.replace("readOnlyRootFilesystem", "readOnlyRootFileSystem");
    assert_ne!(broken, original);
    let path = std::env::temp_dir().join(format!("broken-deployment-{}.yaml", std::process::id()));
    std::fs::write(&path, broken).expect("writes");
    let (passed, log) = validate(std::slice::from_ref(&path));
    let _ = std::fs::remove_file(&path);
    assert!(!passed, "strict validation caught nothing:\n{log}");
    // The reason is the misspelled field, not a crash or a missing schema.
    assert!(
        log.contains(
            "Additional properties are not allowed ('readOnlyRootFileSystem' was unexpected)"
        ),
        "failed for another reason:\n{log}"
    );
}

#[test]
fn the_deployment_passes_the_downward_api_to_the_logger_and_probes_the_health_routes() {
    let deployment = one("kubernetes/deployment.yaml");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let env = container["env"].as_sequence().expect("env");
    let field_path = |name: &str| {
        env.iter()
            .find(|e| e["name"].as_str() == Some(name))
            .map(|e| text(&e["valueFrom"]["fieldRef"]["fieldPath"]).to_owned())
    };
    assert_eq!(field_path("POD_NAME").as_deref(), Some("metadata.name"));
    assert_eq!(field_path("NODE_NAME").as_deref(), Some("spec.nodeName"));
    assert_eq!(
        field_path("APP_NAME").as_deref(),
        Some("metadata.labels['app']")
    );
    let log_env_vars = env
        .iter()
        .find(|e| e["name"].as_str() == Some("LOG_ENV_VARS"))
        .expect("LOG_ENV_VARS");
    assert_eq!(text(&log_env_vars["value"]), "POD_NAME,NODE_NAME,APP_NAME");
    for (probe, path) in [
        ("livenessProbe", "/api/health"),
        ("readinessProbe", "/api/health/ready"),
        ("startupProbe", "/api/health/startup"),
    ] {
        assert_eq!(text(&container[probe]["httpGet"]["path"]), path);
    }
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], Value::Bool(true));
    assert_eq!(security["allowPrivilegeEscalation"], Value::Bool(false));
    assert_eq!(security["capabilities"]["drop"][0], Value::from("ALL"));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], Value::Bool(true));
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert!(container["resources"]["requests"]["cpu"].is_string());
    // The grace period covers the pre-stop pause and the service's own drain.
    let grace = pod["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("a grace period");
    let pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .unwrap_or(0);
    let drain: u64 = env
        .iter()
        .find(|e| e["name"].as_str() == Some("SHUTDOWN_TIMEOUT_SECONDS"))
        .and_then(|e| e["value"].as_str())
        .and_then(|v| v.parse().ok())
        .expect("SHUTDOWN_TIMEOUT_SECONDS");
    // The log is given the shutdown timeout again to flush.
    assert!(
        grace > pause + 2 * drain,
        "grace {grace} <= {pause} + {drain} (requests) + {drain} (log)"
    );
}

#[test]
fn the_autoscaler_scales_the_deployment_past_one_pod() {
    let hpa = one("kubernetes/hpa.yaml");
    assert_eq!(
        text(&hpa["spec"]["scaleTargetRef"]["name"]),
        "credit-risk-service"
    );
    assert!(hpa["spec"]["maxReplicas"].as_u64() > Some(1));
    // It adds pods at a share of the request: that point must be a real
    // load, not a fraction of a core's idle noise.
    let target = hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]
        .as_u64()
        .expect("a CPU utilization target");
    let deployment = one("kubernetes/deployment.yaml");
    let resources = &deployment["spec"]["template"]["spec"]["containers"][0]["resources"];
    let millicores = |value: &Value| -> u64 {
        let value = text(value);
        match value.strip_suffix('m') {
            Some(milli) => milli.parse().expect("millicores"),
            None => value.parse::<u64>().expect("cores") * 1000,
        }
    };
    let request = millicores(&resources["requests"]["cpu"]);
    let limit = millicores(&resources["limits"]["cpu"]);
    let scale_at = request * target / 100;
    assert!(
        scale_at * 4 >= limit,
        "the autoscaler adds pods at {scale_at}m a pod, under a quarter of the {limit}m limit"
    );
}

#[test]
fn the_namespaces_enforce_the_pod_security_level_their_pods_need() {
    let service = one("kubernetes/00-namespace.yaml");
    assert_eq!(
        text(&service["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]),
        "restricted"
    );
    let logging = one("logging/00-namespace.yaml");
    assert_eq!(
        text(&logging["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]),
        "privileged",
        "Filebeat reads hostPath volumes as root"
    );
}

#[test]
fn only_the_service_port_is_reachable_and_nothing_goes_out() {
    let policy = one("kubernetes/networkpolicy.yaml");
    let deployment = one("kubernetes/deployment.yaml");
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    let ports = &policy["spec"]["ingress"][0]["ports"];
    assert_eq!(ports.as_sequence().map(Vec::len), Some(1));
    let container_port = &deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0];
    assert_eq!(ports[0]["port"], container_port["containerPort"]);
    assert_eq!(
        policy["spec"]["egress"].as_sequence().map(Vec::len),
        Some(0)
    );
}

#[test]
fn a_rollout_spreads_its_own_pods_and_a_single_node_keeps_no_replica() {
    let deployment = one("kubernetes/deployment.yaml");
    let spread = &deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0];
    assert_eq!(text(&spread["matchLabelKeys"][0]), "pod-template-hash");
    let beat = one("logging/filebeat.yaml");
    let elasticsearch = one("logging/elasticsearch.yaml");
    assert_eq!(
        elasticsearch["spec"]["nodeSets"][0]["count"].as_u64(),
        Some(1)
    );
    assert_eq!(
        index_template_body("index-template.json")["template"]["settings"]
            ["index.number_of_replicas"]
            .as_u64(),
        Some(0),
        "one node holds no replica: the cluster would stay yellow"
    );
    assert!(beat["spec"].get("kibanaRef").is_none());
    assert_eq!(beat["spec"]["version"], elasticsearch["spec"]["version"]);
}

#[test]
fn elasticsearch_and_kibana_are_eck_resources_that_refer_to_each_other() {
    let elasticsearch = one("logging/elasticsearch.yaml");
    assert_eq!(
        text(&elasticsearch["apiVersion"]),
        "elasticsearch.k8s.elastic.co/v1"
    );
    assert_eq!(text(&elasticsearch["kind"]), "Elasticsearch");
    assert!(elasticsearch["spec"]["version"].is_string());
    assert!(elasticsearch["spec"]["nodeSets"][0]["count"].as_u64() >= Some(1));
    let name = text(&elasticsearch["metadata"]["name"]);

    let kibana = one("logging/kibana.yaml");
    assert_eq!(text(&kibana["apiVersion"]), "kibana.k8s.elastic.co/v1");
    assert_eq!(text(&kibana["kind"]), "Kibana");
    assert_eq!(kibana["spec"]["version"], elasticsearch["spec"]["version"]);
    assert_eq!(text(&kibana["spec"]["elasticsearchRef"]["name"]), name);
}

#[test]
fn filebeat_reads_container_logs_with_filestream_and_keeps_undecodable_lines() {
    let beat = one("logging/filebeat.yaml");
    assert_eq!(text(&beat["apiVersion"]), "beat.k8s.elastic.co/v1beta1");
    assert_eq!(text(&beat["kind"]), "Beat");
    let spec = &beat["spec"];
    assert_eq!(text(&spec["type"]), "filebeat");
    assert_eq!(
        spec["version"],
        one("logging/elasticsearch.yaml")["spec"]["version"]
    );
    assert_eq!(text(&spec["elasticsearchRef"]["name"]), "logs");
    let input = &spec["config"]["filebeat.inputs"][0];
    assert_eq!(
        text(&input["type"]),
        "filestream",
        "the container input is gone in Filebeat 9"
    );
    // Only the service's namespace: other containers' lines need not be JSON.
    let namespace = text(&one("kubernetes/deployment.yaml")["metadata"]["namespace"]).to_owned();
    assert_eq!(
        text(&input["paths"][0]),
        format!("/var/log/containers/*_{namespace}_*.log")
    );
    assert_eq!(
        input["prospector.scanner.symlinks"],
        Value::Bool(true),
        "the files are symlinks: without this Filebeat ships nothing"
    );
    assert_eq!(
        input["prospector.scanner.fingerprint.enabled"],
        Value::Bool(true)
    );
    assert!(
        input
            .get("file_identity.fingerprint")
            .is_some_and(Value::is_mapping),
        "fingerprint identity is an empty map: `~` is dropped by kubectl apply"
    );
    let metadata = &input["processors"][0]["add_kubernetes_metadata"];
    assert_eq!(text(&metadata["node"]), "${NODE_NAME}");
    assert!(metadata.get("host").is_none(), "the processor takes `node`");
    let parsers = input["parsers"].as_sequence().expect("parsers");
    assert!(
        parsers[0].get("container").is_some(),
        "the container framing is removed first"
    );
    let ndjson = &parsers[1]["ndjson"];
    assert_eq!(text(&ndjson["target"]), "", "fields land at the top level");
    assert_eq!(ndjson["overwrite_keys"], Value::Bool(true));
    assert_eq!(
        ndjson["add_error_key"],
        Value::Bool(true),
        "undecodable lines are kept and marked"
    );
    let pod = &spec["daemonSet"]["podTemplate"]["spec"];
    let account = text(&pod["serviceAccountName"]);
    let rbac = documents("logging/filebeat-rbac.yaml");
    assert!(
        rbac.iter()
            .any(|r| r["kind"] == "ServiceAccount" && r["metadata"]["name"] == account)
    );
    let mounts = pod["containers"][0]["volumeMounts"]
        .as_sequence()
        .expect("mounts");
    let paths: Vec<&str> = mounts.iter().map(|m| text(&m["mountPath"])).collect();
    assert!(paths.contains(&"/var/log/containers") && paths.contains(&"/var/log/pods"));
    // Every mount names a volume of the pod.
    let volumes: Vec<&str> = pod["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .map(|v| text(&v["name"]))
        .collect();
    for mount in mounts {
        assert!(
            volumes.contains(&text(&mount["name"])),
            "{mount:?} names no volume"
        );
    }
    // The RBAC subject is the service account, in its namespace.
    let account_namespace = rbac
        .iter()
        .find(|r| r["kind"] == "ServiceAccount")
        .map(|r| text(&r["metadata"]["namespace"]).to_owned());
    let binding = rbac
        .iter()
        .find(|r| r["kind"] == "ClusterRoleBinding")
        .expect("a binding");
    let subject = &binding["subjects"][0];
    assert_eq!(text(&subject["name"]), account);
    assert_eq!(
        Some(text(&subject["namespace"]).to_owned()),
        account_namespace
    );
    assert_eq!(
        text(&beat["metadata"]["namespace"]),
        text(&subject["namespace"])
    );
    let role = rbac
        .iter()
        .find(|r| r["kind"] == "ClusterRole")
        .expect("a role");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
}

/// The ConfigMap the index-template Job reads.
fn index_template_config_map() -> Value {
    one("logging/index-template.yaml")
}

/// A JSON body of the index-template ConfigMap.
fn index_template_body(file: &str) -> serde_json::Value {
    serde_json::from_str(text(&index_template_config_map()["data"][file]))
        .unwrap_or_else(|error| panic!("{file} is JSON: {error}"))
}

#[test]
fn the_index_templates_config_map_is_the_one_logged_model_derives() {
    let committed = std::fs::read_to_string(deploy_dir().join("logging/index-template.yaml"))
        .expect("the ConfigMap");
    let derived = credit_risk_service::index_template::config_map_yaml().expect("a template");
    assert!(
        committed == derived,
        "regenerate with `cargo run -p credit-risk-service -- index-template > examples/credit-risk-service/deploy/logging/index-template.yaml`"
    );
    let component = index_template_body("component-template.json");
    let properties = &component["template"]["mappings"]["properties"];
    assert_eq!(properties["credit_amount"]["type"], "double");
    assert_eq!(properties["duration_in_month"]["type"], "long");
    assert_eq!(
        properties["event"]["properties"]["duration"]["type"],
        "long"
    );
    assert_eq!(properties["tracing"]["type"], "flattened");
    let policy = index_template_body("lifecycle-policy.json");
    let phases = &policy["policy"]["phases"];
    assert_eq!(phases["hot"]["actions"]["rollover"]["max_age"], "1d");
    assert_eq!(phases["delete"]["min_age"], "7d");
    assert!(phases["delete"]["actions"].get("delete").is_some());
}

#[test]
fn the_job_installs_policy_then_component_then_index_template_that_name_each_other() {
    let config_map = index_template_config_map();
    let script = text(&config_map["data"]["install.sh"]);
    let puts: Vec<(&str, &str)> = script
        .lines()
        .filter_map(|line| line.strip_prefix("put "))
        .filter_map(|rest| rest.split_once(' '))
        .collect();
    let paths: Vec<&str> = puts.iter().map(|(path, _)| *path).collect();
    assert_eq!(
        paths,
        [
            "_ilm/policy/logs-credit_risk",
            "_component_template/logs-credit_risk@mappings",
            "_index_template/logs-credit_risk",
        ],
        "what a template names exists before it"
    );
    for (_, file) in &puts {
        assert!(
            config_map["data"][*file].is_string(),
            "{file} is in the ConfigMap"
        );
    }
    let index_template = index_template_body("index-template.json");
    let composed: Vec<&str> = index_template["composed_of"]
        .as_array()
        .expect("composed_of")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(
        composed,
        ["ecs@mappings", "logs-credit_risk@mappings"],
        "the model's mapping last: it wins"
    );
    assert_eq!(
        index_template["ignore_missing_component_templates"][0], "ecs@mappings",
        "an Elasticsearch without it still takes the template"
    );
    let settings = &index_template["template"]["settings"];
    assert_eq!(settings["index.lifecycle.name"], "logs-credit_risk");
    assert_eq!(
        settings["index.number_of_replicas"], 0,
        "one node: no replica"
    );
    assert!(index_template["data_stream"].is_object());
    assert!(
        index_template["priority"].as_u64().expect("a priority") > 100,
        "above Elasticsearch's built-in logs-*-* template"
    );
    // The script is valid shell, and ends by rolling the data stream over.
    let checked = Command::new("sh")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut shell| {
            use std::io::Write as _;
            shell
                .stdin
                .take()
                .expect("stdin")
                .write_all(script.as_bytes())?;
            shell.wait()
        })
        .expect("sh runs");
    assert!(checked.success(), "install.sh parses");
    assert!(script.contains("rollover logs-credit_risk-default"));

    // The Job runs that script, with ECK's secrets of the cluster it names.
    let job = one("logging/index-template-job.yaml");
    let elasticsearch = one("logging/elasticsearch.yaml");
    let cluster = text(&elasticsearch["metadata"]["name"]);
    let namespace = text(&elasticsearch["metadata"]["namespace"]);
    assert_eq!(
        job["metadata"]["namespace"],
        elasticsearch["metadata"]["namespace"]
    );
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let volumes = pod["volumes"].as_sequence().expect("volumes");
    let mounted = |path: &str| {
        let mount = container["volumeMounts"]
            .as_sequence()
            .expect("mounts")
            .iter()
            .find(|mount| text(&mount["mountPath"]) == path)
            .unwrap_or_else(|| panic!("{path} is mounted"));
        volumes
            .iter()
            .find(|volume| volume["name"] == mount["name"])
            .expect("the mount's volume")
            .clone()
    };
    assert_eq!(
        mounted("/index-template")["configMap"]["name"],
        config_map["metadata"]["name"]
    );
    assert_eq!(
        text(&mounted("/es-user")["secret"]["secretName"]),
        format!("{cluster}-es-elastic-user")
    );
    assert_eq!(
        text(&mounted("/es-ca")["secret"]["secretName"]),
        format!("{cluster}-es-http-certs-public")
    );
    assert_eq!(container["command"][1], "/index-template/install.sh");
    let url = container["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "ES_URL")
        .map(|e| text(&e["value"]).to_owned());
    assert_eq!(
        url,
        Some(format!("https://{cluster}-es-http.{namespace}.svc:9200"))
    );
}

#[test]
fn filebeat_writes_to_the_installed_data_stream_and_waits_for_its_template() {
    let beat = one("logging/filebeat.yaml");
    let config = &beat["spec"]["config"];
    let template = credit_risk_service::index_template::template().expect("a template");
    assert_eq!(
        text(&config["output.elasticsearch.index"]),
        template.data_stream()
    );
    let pattern = index_template_body("index-template.json")["index_patterns"][0]
        .as_str()
        .expect("a pattern")
        .to_owned();
    assert!(
        template
            .data_stream()
            .starts_with(pattern.trim_end_matches('*'))
    );
    assert_eq!(
        config["setup.template.enabled"],
        Value::Bool(false),
        "not Filebeat's own template"
    );
    assert_eq!(
        config["setup.ilm.enabled"],
        Value::Bool(false),
        "not Filebeat's own policy"
    );
    assert!(config.get("setup.template.append_fields").is_none());
    let wait = &beat["spec"]["daemonSet"]["podTemplate"]["spec"]["initContainers"][0];
    let command = wait["command"]
        .as_sequence()
        .expect("a command")
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        command.contains(&format!("/_index_template/{}", template.name())),
        "waits for the template the Job installs: {command}"
    );
}

#[test]
fn the_manifests_refer_to_each_other_by_names_that_exist() {
    let deployment = one("kubernetes/deployment.yaml");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    let matches = |wanted: &Value| {
        wanted
            .as_mapping()
            .expect("labels")
            .iter()
            .all(|(key, value)| &pod_labels[key] == value)
    };
    assert!(matches(selector), "the Deployment selects its own pods");
    let service = one("kubernetes/service.yaml");
    assert!(
        matches(&service["spec"]["selector"]),
        "the Service selects the pods"
    );
    let pdb = one("kubernetes/pdb.yaml");
    assert!(
        matches(&pdb["spec"]["selector"]["matchLabels"]),
        "the budget covers the pods"
    );
    let spread = &deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0];
    assert!(matches(&spread["labelSelector"]["matchLabels"]));
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let ports = container["ports"].as_sequence().expect("ports");
    let target = &service["spec"]["ports"][0]["targetPort"];
    assert!(
        ports
            .iter()
            .any(|p| &p["name"] == target || &p["containerPort"] == target),
        "targetPort {target:?} is a port of the container"
    );
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let port = &container[probe]["httpGet"]["port"];
        assert!(
            ports.iter().any(|p| &p["name"] == port),
            "{probe} port {port:?}"
        );
    }
    let hpa = one("kubernetes/hpa.yaml");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    assert!(
        deployment["spec"].get("replicas").is_none(),
        "the autoscaler owns the replica count"
    );
    let namespace = &deployment["metadata"]["namespace"];
    for resource in [&service, &hpa, &pdb] {
        assert_eq!(&resource["metadata"]["namespace"], namespace);
    }
    // The image listens where the pod says, and serves the artifact it copies.
    let dockerfile =
        std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("a Dockerfile");
    let exposed: Vec<u64> = dockerfile
        .lines()
        .filter_map(|line| line.strip_prefix("EXPOSE "))
        .filter_map(|port| port.trim().parse().ok())
        .collect();
    let container_port = ports[0]["containerPort"].as_u64().expect("a port");
    assert_eq!(exposed, [container_port]);
    let env_port = container["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "HTTP_PORT")
        .map(|e| text(&e["value"]).to_owned());
    assert_eq!(env_port, Some(container_port.to_string()));
    let model_path = dockerfile
        .lines()
        .find_map(|line| line.trim().strip_prefix("MODEL_PATH="))
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
        .expect("MODEL_PATH in the image");
    let copied = dockerfile
        .lines()
        .filter(|line| line.starts_with("COPY examples/credit-risk-service/model/"))
        .filter_map(|line| line.split_whitespace().last())
        .collect::<Vec<_>>();
    assert_eq!(
        copied,
        [model_path],
        "MODEL_PATH is the artifact the image copies"
    );
}

#[test]
fn the_dockerfiles_dependency_layer_copies_every_workspace_member() {
    let dockerfile =
        std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("a Dockerfile");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest: toml::Value = std::fs::read_to_string(root.join("Cargo.toml"))
        .expect("the workspace manifest")
        .parse()
        .expect("TOML");
    let members = manifest["workspace"]["members"]
        .as_array()
        .expect("members");
    for member in members {
        let member = member.as_str().expect("a path");
        assert!(
            dockerfile.contains(&format!("COPY {member}/Cargo.toml {member}/")),
            "the dependency layer does not copy {member}/Cargo.toml"
        );
    }
}

#[test]
fn the_probes_name_routes_the_router_answers() {
    let deployment = one("kubernetes/deployment.yaml");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let service = common::TestService::start();
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let path = text(&container[probe]["httpGet"]["path"]);
        let response = service.request("GET", path, &[], b"");
        assert_eq!(response.status, 200, "{probe} {path}");
    }
}

/// The files `kubectl apply -f` sends for one argument: a file, or a
/// directory's `.yaml` files in alphabetical order.
fn applied_files(argument: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(argument.trim_end_matches('/'));
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .expect("a directory")
            .map(|entry| entry.expect("an entry").path())
            .filter(|file| file.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        files.sort();
        files
    } else {
        vec![path]
    }
}

#[test]
fn the_readmes_deploy_steps_create_every_namespace_before_its_resources() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("the README");
    let mut namespaces: Vec<String> = vec!["default".to_owned()];
    let mut applied = 0;
    for line in readme.lines() {
        let Some(argument) = line.trim().strip_prefix("kubectl apply -f ") else {
            continue;
        };
        let argument = argument.split_whitespace().next().unwrap_or("");
        if argument.starts_with("https://") {
            continue; // the ECK operator, from Elastic
        }
        for file in applied_files(argument) {
            let text_of_file = std::fs::read_to_string(&file).expect("a manifest");
            for document in serde_yaml::Deserializer::from_str(&text_of_file) {
                let resource = Value::deserialize(document).expect("YAML");
                applied += 1;
                if resource["kind"] == "Namespace" {
                    namespaces.push(text(&resource["metadata"]["name"]).to_owned());
                } else if let Some(namespace) = resource["metadata"]["namespace"].as_str() {
                    assert!(
                        namespaces.iter().any(|known| known == namespace),
                        "{} is applied before its namespace {namespace}",
                        file.display()
                    );
                }
            }
        }
    }
    assert!(
        applied >= 10,
        "the README applies the manifests ({applied} resources)"
    );
    // The directory alone also sends the namespace first.
    let first = applied_files("examples/credit-risk-service/deploy/kubernetes/");
    assert!(first[0].ends_with("00-namespace.yaml"));
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged() {
    let dockerfile =
        std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("a Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    assert!(dockerfile.contains("cargo build --release --locked -p credit-risk-service"));
    let user = dockerfile
        .lines()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    for label in ["created", "version", "revision"] {
        assert!(
            dockerfile.contains(&format!("org.opencontainers.image.{label}=")),
            "{label} label"
        );
    }
    let deployment = one("kubernetes/deployment.yaml");
    let run_as = deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        .as_u64()
        .expect("runAsUser");
    assert!(
        user.contains(&run_as.to_string()),
        "the image's user is the one the pod runs as"
    );
    let ignore = std::fs::read_to_string(deploy_dir().join("Dockerfile.dockerignore"))
        .expect("a .dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "*"),
        "only what the build copies is sent"
    );
}

/// Whether a JSON value can be indexed under an Elasticsearch type.
fn fits(value: &serde_json::Value, es_type: &str) -> bool {
    match es_type {
        "long" => value.is_i64() || value.is_u64(),
        "double" => value.is_number(),
        "boolean" => value.is_boolean(),
        "keyword" | "wildcard" | "match_only_text" | "text" | "date" => {
            value.is_string() || value.is_null()
        }
        "object" | logged_model::mapping::NOT_INDEXED => value.is_object(),
        _ => false,
    }
}

#[test]
fn every_key_of_every_record_the_service_writes_is_mapped_with_a_type_its_value_fits() {
    let service = common::TestService::start();
    let body = common::application_with("applicant_id", serde_json::Value::from("applicant-7"));
    let response = service.predict(&body);
    assert_eq!(response.status, 200);
    let id = response.json()["prediction_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let outcome = serde_json::json!({"prediction_id": id, "creditability": "bad"}).to_string();
    let answer = service.request(
        "POST",
        "/api/models/credit_risk_model/outcome",
        &[("content-type", "application/json")],
        outcome.as_bytes(),
    );
    assert_eq!(answer.status, 202);
    let records = service.stop();
    let mapping = credit_risk_service::index_template::mapping();
    let ecs: std::collections::HashMap<String, String> = ecs_fields().into_iter().collect();
    let messages: Vec<&str> = records
        .iter()
        .filter_map(|r| r["message"].as_str())
        .collect();
    for wanted in [
        logged_model::REQUESTED_MESSAGE,
        logged_model::CREATED_MESSAGE,
        logged_model::OUTCOME_MESSAGE,
        "Request handled.",
        logged_model::profile::PROFILE_MESSAGE,
    ] {
        assert!(messages.contains(&wanted), "{wanted} in {messages:?}");
    }
    // A nested object (the profile's) is mapped by its dotted leaves.
    fn leaves<'v>(
        key: String,
        value: &'v serde_json::Value,
        mapped: &dyn Fn(&str) -> bool,
        out: &mut Vec<(String, &'v serde_json::Value)>,
    ) {
        match value.as_object() {
            Some(object) if !mapped(&key) => {
                for (part, inner) in object {
                    leaves(format!("{key}.{part}"), inner, mapped, out);
                }
            }
            _ => out.push((key, value)),
        }
    }
    let mut checked_profile = false;
    for record in &records {
        let mut pairs = Vec::new();
        for (key, value) in record {
            leaves(
                key.clone(),
                value,
                &|key| mapping.type_of(key).is_some(),
                &mut pairs,
            );
        }
        for (key, value) in pairs {
            checked_profile |= key.starts_with("model_profile.");
            // A key the template does not declare is an ECS field, which
            // Elasticsearch's `ecs@mappings` maps by its name.
            let es_type = match mapping.type_of(&key) {
                Some(es_type) => es_type,
                None => ecs
                    .get(&key)
                    .unwrap_or_else(|| panic!("`{key}` is neither mapped nor an ECS field"))
                    .as_str(),
            };
            assert!(fits(value, es_type), "`{key}`: {value} is not a {es_type}");
        }
    }
    assert!(checked_profile, "the profile record was checked too");
    assert_eq!(mapping.type_of("credit_amount"), Some("double"));
    assert_eq!(mapping.type_of("duration_in_month"), Some("long"));
    assert_eq!(mapping.type_of("credit_risk"), Some("keyword"));
    assert_eq!(mapping.type_of("creditability"), Some("keyword"));
    assert!(
        mapping.dynamic_fields().is_empty(),
        "{:?}",
        mapping.dynamic_fields()
    );
}

/// The Elastic Common Schema's fields, as Filebeat's own template defines
/// them: name and type (`tests/fixtures/ecs_fields_8.17.0.txt`, which names
/// its source).
fn ecs_fields() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ecs_fields_8.17.0.txt"),
    )
    .expect("the ECS field list");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (name, es_type) = line.split_once(' ').expect("a name and a type");
            (name.to_owned(), es_type.to_owned())
        })
        .collect()
}

/// Whether our type for an ECS field is the one ECS gives it, or one that
/// indexes the same values the same way.
fn ecs_compatible(ours: &str, ecs_type: &str) -> bool {
    ours == ecs_type
        || (ecs_type == "match_only_text" && ours == "text")
        || (ecs_type == "wildcard" && ours == "keyword")
}

#[test]
fn no_field_the_template_declares_collides_with_an_ecs_field() {
    let ecs = ecs_fields();
    assert!(ecs.len() > 1000, "the whole schema: {}", ecs.len());
    assert!(ecs.iter().any(|(name, _)| name == "server.address"));
    let mapping = credit_risk_service::index_template::mapping();
    let mut ecs_keys = 0;
    for (name, ours) in mapping.fields() {
        for (ecs_name, ecs_type) in &ecs {
            if name == ecs_name {
                ecs_keys += 1;
                assert!(
                    ecs_compatible(ours, ecs_type),
                    "{name}: ours {ours}, ECS {ecs_type}"
                );
            }
            assert!(
                !ecs_name.starts_with(&format!("{name}.")),
                "{name} would be a value where ECS has the object of {ecs_name}"
            );
            assert!(
                !name.starts_with(&format!("{ecs_name}.")) || ecs_type == "object",
                "{name} would sit under {ecs_name}, an ECS {ecs_type}"
            );
        }
    }
    assert!(
        ecs_keys >= 5,
        "the runtime's ECS keys are declared too: {ecs_keys}"
    );
}

#[test]
fn the_keys_the_runtime_writes_have_the_types_ecs_gives_them() {
    let ecs: std::collections::HashMap<String, String> = ecs_fields().into_iter().collect();
    let mapping = credit_risk_service::index_template::mapping();
    let mut checked = 0;
    for key in logged_model::keys::RESERVED {
        let (Some(ecs_type), Some(ours)) = (ecs.get(*key), mapping.type_of(key)) else {
            continue;
        };
        checked += 1;
        assert!(
            ecs_compatible(ours, ecs_type),
            "{key}: ours {ours}, ECS {ecs_type}"
        );
    }
    assert!(
        checked >= 5,
        "the ECS keys the runtime writes were checked: {checked}"
    );
}

#[test]
fn filebeat_queues_on_the_nodes_disk_across_restarts() {
    let beat = one("logging/filebeat.yaml");
    let config = &beat["spec"]["config"];
    assert!(text(&config["queue.disk"]["max_size"]).ends_with("GB"));
    let pod = &beat["spec"]["daemonSet"]["podTemplate"]["spec"];
    let volumes = pod["volumes"].as_sequence().expect("volumes");
    let data = volumes
        .iter()
        .find(|volume| volume["name"] == "beat-data")
        .expect("ECK's data volume, replaced");
    assert!(data["hostPath"]["path"].is_string());
}

#[test]
fn the_drift_gate_fetches_the_profiles_and_evaluates_them_with_valid_constraints() {
    let documents = documents("logging/drift-gate.yaml");
    let config_map = documents
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("the constraints");
    let cron_job = documents
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("the gate");
    let constraints = text(&config_map["data"]["constraints.json"]);
    credit_risk_service::constraints::parse(constraints).expect("the gate's constraints are valid");
    let query: serde_json::Value =
        serde_json::from_str(text(&config_map["data"]["query.json"])).expect("the query is JSON");
    let filters = query["query"]["bool"]["filter"].to_string();
    assert!(
        filters.contains(logged_model::profile::PROFILE_MESSAGE),
        "{filters}"
    );
    assert!(
        filters.contains(credit_risk_service::model::QUALIFIED_NAME),
        "{filters}"
    );
    let pod = &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let fetch = &pod["initContainers"][0];
    let evaluate = &pod["containers"][0];
    let fetch_command = fetch["command"][2].as_str().expect("a script");
    let template = credit_risk_service::index_template::template().expect("a template");
    assert!(
        fetch_command.contains(&format!(
            "/logs-{}-*/_search",
            credit_risk_service::index_template::DATASET
        )),
        "searches the data stream {}: {fetch_command}",
        template.data_stream()
    );
    let command: Vec<&str> = evaluate["command"]
        .as_sequence()
        .expect("a command")
        .iter()
        .map(text)
        .collect();
    assert_eq!(command[1], "evaluate");
    let written = fetch_command
        .split_whitespace()
        .skip_while(|word| *word != "--output")
        .nth(1)
        .expect("the fetched file");
    assert_eq!(command.last(), Some(&written), "evaluates the fetched file");
    // The files it names are in the image.
    let dockerfile =
        std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("a Dockerfile");
    for flag in ["--model", "--data"] {
        let path = command
            .iter()
            .skip_while(|word| **word != flag)
            .nth(1)
            .expect("a path");
        assert!(
            dockerfile
                .lines()
                .any(|line| line.starts_with("COPY ") && line.ends_with(path)),
            "{path} is copied into the image"
        );
    }
    let deployment = one("kubernetes/deployment.yaml");
    assert_eq!(
        evaluate["image"], deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "the service's own image"
    );
    // Every mount has its volume, the secrets are the cluster's.
    let volumes = pod["volumes"].as_sequence().expect("volumes");
    for container in [fetch, evaluate] {
        for mount in container["volumeMounts"].as_sequence().expect("mounts") {
            assert!(
                volumes.iter().any(|v| v["name"] == mount["name"]),
                "{mount:?}"
            );
        }
    }
    let cluster = text(&one("logging/elasticsearch.yaml")["metadata"]["name"]).to_owned();
    let secrets: Vec<&str> = volumes
        .iter()
        .filter_map(|v| v["secret"]["secretName"].as_str())
        .collect();
    assert_eq!(
        secrets,
        [
            format!("{cluster}-es-elastic-user"),
            format!("{cluster}-es-http-certs-public")
        ]
    );
    let gate = volumes
        .iter()
        .find(|v| v["name"] == "gate")
        .expect("the gate's ConfigMap");
    assert_eq!(gate["configMap"]["name"], config_map["metadata"]["name"]);
}

#[test]
fn the_collector_takes_otlp_from_the_service_and_writes_the_data_stream_filebeat_would() {
    let resources = documents("otel/collector.yaml");
    let of_kind = |kind: &str| {
        resources
            .iter()
            .find(|r| r["kind"] == kind)
            .unwrap_or_else(|| panic!("a {kind}"))
    };
    let (config_map, deployment, service) = (
        of_kind("ConfigMap"),
        of_kind("Deployment"),
        of_kind("Service"),
    );
    let config: Value =
        serde_yaml::from_str(text(&config_map["data"]["collector.yaml"])).expect("YAML");
    // OTLP/HTTP in, on the port the Service and the container name.
    let listen = text(&config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]);
    assert_eq!(listen, "0.0.0.0:4318");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["ports"][0]["containerPort"], 4318);
    assert_eq!(service["spec"]["ports"][0]["port"], 4318);
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"],
        container["ports"][0]["name"]
    );
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["template"]["metadata"]["labels"]
    );
    // Elasticsearch out: the cluster, the data stream and the secrets the
    // index template's Job uses.
    let exporter = &config["exporters"]["elasticsearch"];
    let template = credit_risk_service::index_template::template().expect("a template");
    assert_eq!(text(&exporter["logs_index"]), template.data_stream());
    assert_eq!(text(&exporter["mapping"]["mode"]), "ecs");
    let job = one("logging/index-template-job.yaml");
    let job_pod = &job["spec"]["template"]["spec"];
    let es_url = job_pod["containers"][0]["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "ES_URL")
        .map(|e| text(&e["value"]).to_owned());
    assert_eq!(Some(text(&exporter["endpoint"]).to_owned()), es_url);
    let secrets = |pod: &Value| -> Vec<String> {
        let mut names: Vec<String> = pod["volumes"]
            .as_sequence()
            .expect("volumes")
            .iter()
            .filter_map(|v| v["secret"]["secretName"].as_str().map(str::to_owned))
            .collect();
        for container in pod["containers"].as_sequence().expect("containers") {
            for variable in container["env"].as_sequence().into_iter().flatten() {
                if let Some(name) = variable["valueFrom"]["secretKeyRef"]["name"].as_str() {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        names
    };
    let collector_pod = &deployment["spec"]["template"]["spec"];
    let needed = secrets(collector_pod);
    assert_eq!(
        needed,
        ["logs-es-elastic-user", "logs-es-http-certs-public"]
    );
    for secret in &needed {
        assert!(
            serde_yaml::to_string(job_pod)
                .expect("YAML")
                .contains(secret.as_str()),
            "the Job uses {secret} too"
        );
    }
    // The pipeline names only what is defined.
    let pipeline = &config["service"]["pipelines"]["logs"];
    for (part, section) in [
        ("receivers", "receivers"),
        ("processors", "processors"),
        ("exporters", "exporters"),
    ] {
        for name in pipeline[part].as_sequence().expect("a list") {
            assert!(
                config[section].get(text(name)).is_some(),
                "{part}: {name:?} is not defined"
            );
        }
    }
    // The service's pods may reach it, on that port.
    let policy = one("otel/credit-risk-otlp.yaml");
    let service_pods =
        one("kubernetes/deployment.yaml")["spec"]["template"]["metadata"]["labels"].clone();
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], service_pods);
    let to_collector = &policy["spec"]["egress"][0];
    assert_eq!(to_collector["ports"][0]["port"], 4318);
    assert_eq!(
        to_collector["to"][0]["podSelector"]["matchLabels"],
        deployment["spec"]["template"]["metadata"]["labels"]
    );
    assert_eq!(
        to_collector["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        deployment["metadata"]["namespace"]
    );
    // The endpoint the policy's instructions set resolves to that Service.
    let instructions =
        std::fs::read_to_string(deploy_dir().join("otel/credit-risk-otlp.yaml")).expect("the file");
    let endpoint = format!(
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://{}.{}.svc:4318",
        text(&service["metadata"]["name"]),
        text(&service["metadata"]["namespace"])
    );
    assert!(instructions.contains(&endpoint), "{endpoint}");
}

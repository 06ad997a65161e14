//! The deployment files: the core Kubernetes manifests against the official
//! schemas (kubernetes-validate, strict, offline), the ECK resources and the
//! Dockerfile by their structure.

use serde::Deserialize;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

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

const CORE: [&str; 6] = [
    "kubernetes/namespace.yaml",
    "kubernetes/deployment.yaml",
    "kubernetes/service.yaml",
    "kubernetes/hpa.yaml",
    "logging/namespace.yaml",
    "logging/filebeat-rbac.yaml",
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
        "namespace/logging",
        "serviceaccount/filebeat",
        "clusterrole/filebeat",
        "clusterrolebinding/filebeat",
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
    assert!(grace > pause + drain, "grace {grace} <= {pause} + {drain}");
}

#[test]
fn the_autoscaler_scales_the_deployment_past_one_pod() {
    let hpa = one("kubernetes/hpa.yaml");
    assert_eq!(
        text(&hpa["spec"]["scaleTargetRef"]["name"]),
        "credit-risk-service"
    );
    assert!(hpa["spec"]["maxReplicas"].as_u64() > Some(1));
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
    assert_eq!(text(&input["paths"][0]), "/var/log/containers/*.log");
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
    let mounts: Vec<&str> = pod["containers"][0]["volumeMounts"]
        .as_sequence()
        .expect("mounts")
        .iter()
        .map(|m| text(&m["mountPath"]))
        .collect();
    assert!(mounts.contains(&"/var/log/containers") && mounts.contains(&"/var/log/pods"));
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

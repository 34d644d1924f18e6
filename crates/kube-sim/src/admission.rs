//! Defaulting and validation applied on every write, as the API server's registry strategies do:
//! the defaults a real server fills into Deployments, ReplicaSets, Pods and Namespaces, and the
//! checks that make it answer 422 Invalid.

use serde_json::{Value, json};

use crate::names::{valid_label_key, valid_label_value, valid_name};
use crate::resources::Resource;
use crate::selectors::{LabelSelector, labels_of};

fn set_default(obj: &mut Value, key: &str, value: Value) {
    if let Value::Object(m) = obj {
        m.entry(key.to_owned()).or_insert(value);
    }
}

fn ensure_object<'a>(obj: &'a mut Value, key: &str) -> &'a mut Value {
    if !obj.get(key).is_some_and(Value::is_object) {
        obj[key] = json!({});
    }
    &mut obj[key]
}

fn default_container(c: &mut Value) {
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    set_default(c, "resources", json!({}));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let last = image.rsplit('/').next().unwrap_or_default();
    let latest = !image.contains('@') && (!last.contains(':') || last.ends_with(":latest"));
    set_default(
        c,
        "imagePullPolicy",
        json!(if latest { "Always" } else { "IfNotPresent" }),
    );
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            set_default(p, "protocol", json!("TCP"));
        }
    }
}

/// Pod spec defaults (shared by Pods and pod templates).
pub fn default_pod_spec(spec: &mut Value) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs {
                default_container(c);
            }
        }
    }
}

fn default_template(obj: &mut Value) {
    let spec = ensure_object(obj, "spec");
    let template = ensure_object(spec, "template");
    ensure_object(template, "metadata");
    default_pod_spec(ensure_object(template, "spec"));
}

/// Fills in what the API server defaults.
pub fn apply_defaults(resource: Resource, obj: &mut Value) {
    match resource {
        Resource::Deployments => {
            default_template(obj);
            let spec = ensure_object(obj, "spec");
            set_default(spec, "replicas", json!(1));
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            let strategy = ensure_object(spec, "strategy");
            set_default(strategy, "type", json!("RollingUpdate"));
            if strategy["type"] == "RollingUpdate" {
                let ru = ensure_object(strategy, "rollingUpdate");
                set_default(ru, "maxUnavailable", json!("25%"));
                set_default(ru, "maxSurge", json!("25%"));
            }
        }
        Resource::ReplicaSets => {
            default_template(obj);
            set_default(ensure_object(obj, "spec"), "replicas", json!(1));
        }
        Resource::Pods => {
            let spec = ensure_object(obj, "spec");
            default_pod_spec(spec);
            set_default(spec, "serviceAccountName", json!("default"));
            set_default(spec, "serviceAccount", json!("default"));
            set_default(spec, "enableServiceLinks", json!(true));
            set_default(spec, "priority", json!(0));
            set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
            set_default(
                spec,
                "tolerations",
                json!([
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ]),
            );
        }
        Resource::Namespaces => {
            let name = obj
                .pointer("/metadata/name")
                .cloned()
                .unwrap_or(Value::Null);
            let meta = ensure_object(obj, "metadata");
            let labels = ensure_object(meta, "labels");
            set_default(labels, "kubernetes.io/metadata.name", name);
            set_default(
                ensure_object(obj, "spec"),
                "finalizers",
                json!(["kubernetes"]),
            );
            set_default(ensure_object(obj, "status"), "phase", json!("Active"));
        }
        Resource::Services => crate::services::apply_defaults(obj),
        Resource::Events | Resource::Endpoints => {}
    }
}

fn validate_labels(obj: &Value, prefix: &str, causes: &mut Vec<(String, String)>) {
    let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) else {
        return;
    };
    for (k, v) in labels {
        let v = v.as_str().unwrap_or_default();
        if !valid_label_key(k) {
            causes.push((
                format!("{prefix}metadata.labels"),
                format!("Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
            ));
        }
        if !valid_label_value(v) {
            causes.push((
                format!("{prefix}metadata.labels"),
                format!("Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
            ));
        }
    }
}

/// RFC 1123 label, as container names must be.
fn valid_dns_label(name: &str) -> bool {
    name.len() <= 63 && valid_name(name) && !name.contains('.')
}

/// `maxSurge`/`maxUnavailable` as the value validation compares with 0.
fn is_zero_int_or_percent(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s.trim_end_matches('%').parse::<i64>().ok() == Some(0),
        _ => false,
    }
}

fn validate_deployment_spec(spec: &Value, causes: &mut Vec<(String, String)>) {
    let strategy = spec["strategy"]["type"].as_str().unwrap_or("RollingUpdate");
    if strategy != "RollingUpdate" && strategy != "Recreate" {
        causes.push((
            "spec.strategy.type".to_owned(),
            format!("Unsupported value: \"{strategy}\""),
        ));
    }
    let rolling = spec["strategy"]
        .get("rollingUpdate")
        .filter(|v| !v.is_null());
    if strategy == "Recreate" && rolling.is_some() {
        causes.push((
            "spec.strategy.rollingUpdate".to_owned(),
            "Forbidden: may not be specified when strategy `type` is 'Recreate'".to_owned(),
        ));
    }
    if let Some(ru) = rolling
        && is_zero_int_or_percent(ru.get("maxUnavailable"))
        && is_zero_int_or_percent(ru.get("maxSurge"))
    {
        causes.push((
            "spec.strategy.rollingUpdate.maxUnavailable".to_owned(),
            format!(
                "Invalid value: {}: may not be 0 when `maxSurge` is 0",
                ru["maxUnavailable"]
            ),
        ));
    }
    let min_ready = spec
        .get("minReadySeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if min_ready < 0 {
        causes.push((
            "spec.minReadySeconds".to_owned(),
            format!("Invalid value: {min_ready}: must be greater than or equal to 0"),
        ));
    }
    if let Some(deadline) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64)
        && deadline <= min_ready
    {
        causes.push((
            "spec.progressDeadlineSeconds".to_owned(),
            format!("Invalid value: {deadline}: must be greater than minReadySeconds"),
        ));
    }
}

fn validate_pod_spec(spec: &Value, prefix: &str, causes: &mut Vec<(String, String)>) {
    let containers = spec.get("containers").and_then(Value::as_array);
    match containers {
        None => causes.push((format!("{prefix}.containers"), "Required value".to_owned())),
        Some(cs) if cs.is_empty() => {
            causes.push((format!("{prefix}.containers"), "Required value".to_owned()));
        }
        Some(cs) => {
            let mut seen = std::collections::BTreeSet::new();
            for (i, c) in cs.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                if name.is_empty() {
                    causes.push((
                        format!("{prefix}.containers[{i}].name"),
                        "Required value".to_owned(),
                    ));
                } else if !valid_dns_label(name) {
                    causes.push((
                        format!("{prefix}.containers[{i}].name"),
                        format!("Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
                    ));
                } else if !seen.insert(name.to_owned()) {
                    causes.push((
                        format!("{prefix}.containers[{i}].name"),
                        format!("Duplicate value: \"{name}\""),
                    ));
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .trim()
                    .is_empty()
                {
                    causes.push((
                        format!("{prefix}.containers[{i}].image"),
                        "Required value".to_owned(),
                    ));
                }
            }
        }
    }
}

/// Validation errors as (field, message) pairs; empty when valid.
pub fn validate(resource: Resource, obj: &Value, old: Option<&Value>) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !valid_name(name) {
        causes.push((
            "metadata.name".to_owned(),
            format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    validate_labels(obj, "", &mut causes);
    match resource {
        Resource::Deployments | Resource::ReplicaSets => {
            let spec = &obj["spec"];
            if spec
                .get("replicas")
                .and_then(Value::as_i64)
                .is_some_and(|r| r < 0)
            {
                causes.push((
                    "spec.replicas".to_owned(),
                    "Invalid value: must be greater than or equal to 0".to_owned(),
                ));
            }
            let selector = spec.get("selector").cloned().unwrap_or(Value::Null);
            let sel = LabelSelector::from_label_selector(&selector);
            if selector.is_null() || sel.is_empty() {
                causes.push(("spec.selector".to_owned(), "Required value".to_owned()));
            } else if !sel.matches_labels(&labels_of(&spec["template"])) {
                causes.push((
                    "spec.template.metadata.labels".to_owned(),
                    "Invalid value: selector does not match template labels".to_owned(),
                ));
            }
            if let Some(old) = old
                && old["spec"]["selector"] != spec["selector"]
            {
                causes.push((
                    "spec.selector".to_owned(),
                    "Invalid value: field is immutable".to_owned(),
                ));
            }
            validate_labels(&spec["template"], "spec.template.", &mut causes);
            validate_pod_spec(&spec["template"]["spec"], "spec.template.spec", &mut causes);
            if resource == Resource::Deployments {
                validate_deployment_spec(spec, &mut causes);
            }
        }
        Resource::Pods => validate_pod_spec(&obj["spec"], "spec", &mut causes),
        Resource::Services => crate::services::validate(obj, old, &mut causes),
        Resource::Namespaces | Resource::Events | Resource::Endpoints => {}
    }
    causes
}

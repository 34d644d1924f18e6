//! The Service registry's rules (defaults, 422 checks, the allocated cluster IP that survives
//! updates) kept apart from the workload kinds' in `admission`.

use serde_json::{Value, json};

use crate::names::{valid_label_key, valid_label_value};

const TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

fn is_external_name(svc: &Value) -> bool {
    svc.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName")
}

/// The defaults the Service strategy fills in (`SetDefaults_Service`, `SetDefaults_ServicePort`).
pub fn apply_defaults(svc: &mut Value) {
    if !svc.get("spec").is_some_and(Value::is_object) {
        svc["spec"] = json!({});
    }
    let spec = &mut svc["spec"];
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    m.entry("type").or_insert(json!("ClusterIP"));
    m.entry("sessionAffinity").or_insert(json!("None"));
    if m.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return;
    }
    m.entry("internalTrafficPolicy").or_insert(json!("Cluster"));
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            p.entry("protocol").or_insert(json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                p.entry("targetPort").or_insert(port);
            }
        }
    }
}

/// Fills the cluster IP of a new Service (`allocate` gives the next free address) or keeps the
/// one an update left out, as `patchAllocatedValues` does; the IP family fields follow it.
pub fn settle_cluster_ip(svc: &mut Value, old: Option<&Value>, allocate: impl FnOnce() -> String) {
    if is_external_name(svc) {
        return;
    }
    let given = svc
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ip = if !given.is_empty() {
        given
    } else if let Some(kept) = old
        .and_then(|o| o.pointer("/spec/clusterIP"))
        .and_then(Value::as_str)
    {
        kept.to_owned()
    } else {
        allocate()
    };
    let spec = &mut svc["spec"];
    spec["clusterIP"] = json!(ip);
    if spec.get("clusterIPs").is_none_or(Value::is_null) {
        spec["clusterIPs"] = json!([ip]);
    }
    if spec.get("ipFamilies").is_none_or(Value::is_null) {
        spec["ipFamilies"] = json!(["IPv4"]);
    }
    if spec.get("ipFamilyPolicy").is_none_or(Value::is_null) {
        spec["ipFamilyPolicy"] = json!("SingleStack");
    }
}

/// The 422 causes of `ValidateService` (and `ValidateServiceUpdate` with `old`) that the
/// simulator checks.
pub fn validate(svc: &Value, old: Option<&Value>, causes: &mut Vec<(String, String)>) {
    let spec = &svc["spec"];
    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
    if !TYPES.contains(&kind) {
        causes.push((
            "spec.type".to_owned(),
            format!("Unsupported value: \"{kind}\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""),
        ));
    }
    let ports = spec["ports"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if ports.is_empty() && kind != "ExternalName" && spec["clusterIP"] != "None" {
        causes.push(("spec.ports".to_owned(), "Required value".to_owned()));
    }
    let mut names = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let name = p["name"].as_str().unwrap_or_default();
        if ports.len() > 1 && name.is_empty() {
            causes.push((format!("spec.ports[{i}].name"), "Required value".to_owned()));
        } else if !name.is_empty() && names.contains(&name) {
            causes.push((
                format!("spec.ports[{i}].name"),
                format!("Duplicate value: \"{name}\""),
            ));
        }
        names.push(name);
        let port = p["port"].as_i64().unwrap_or(0);
        if !(1..=65535).contains(&port) {
            causes.push((
                format!("spec.ports[{i}].port"),
                format!("Invalid value: {port}: must be between 1 and 65535, inclusive"),
            ));
        }
    }
    if let Some(selector) = spec["selector"].as_object() {
        for (k, v) in selector {
            let v = v.as_str().unwrap_or_default();
            if !valid_label_key(k) || !valid_label_value(v) {
                causes.push((
                    "spec.selector".to_owned(),
                    format!("Invalid value: \"{k}={v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                ));
            }
        }
    }
    if let Some(old) = old {
        let before = &old["spec"]["clusterIPs"];
        if !before.is_null() && !is_external_name(svc) && spec["clusterIPs"] != *before {
            let shown = before
                .as_array()
                .map(|ips| {
                    ips.iter()
                        .map(|ip| format!("\"{}\"", ip.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            causes.push((
                "spec.clusterIPs[0]".to_owned(),
                format!("Invalid value: []string{{{shown}}}: may not change once set"),
            ));
        }
    }
}

//! Discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/apps/v1`) in the legacy
//! format, which kubectl and kube-rs fall back to when aggregated discovery is not offered.

use serde_json::{Value, json};

use crate::resources::Resource;

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0+kube-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]
    })
}

fn apps_group() -> Value {
    json!({
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}
    })
}

pub fn group_list() -> Value {
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [apps_group()]})
}

pub fn apps_group_doc() -> Value {
    let mut g = apps_group();
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_entry(r: Resource) -> Value {
    let mut e = json!({
        "name": r.plural(),
        "singularName": r.singular(),
        "namespaced": r.namespaced(),
        "kind": r.kind(),
        "verbs": VERBS,
        "shortNames": r.short_names(),
        "storageVersionHash": "kubesim0000=",
    });
    if matches!(
        r,
        Resource::Pods | Resource::Deployments | Resource::ReplicaSets | Resource::Services
    ) {
        e["categories"] = json!(["all"]);
    }
    e
}

fn sub_entry(r: Resource, sub: &str, kind: &str, verbs: &[&str], group: Option<&str>) -> Value {
    let mut e = json!({"name": format!("{}/{sub}", r.plural()), "singularName": "", "namespaced": r.namespaced(), "kind": kind, "verbs": verbs});
    if let Some(g) = group {
        e["group"] = json!(g);
        e["version"] = json!("v1");
    }
    e
}

pub fn resource_list(group: &str) -> Value {
    let mut resources = Vec::new();
    for r in Resource::ALL.into_iter().filter(|r| r.group() == group) {
        resources.push(resource_entry(r));
        if !matches!(r, Resource::Events | Resource::Endpoints) {
            resources.push(sub_entry(
                r,
                "status",
                r.kind(),
                &["get", "patch", "update"],
                None,
            ));
        }
        if r == Resource::Pods {
            resources.push(sub_entry(r, "log", "Pod", &["get"], None));
        }
        if matches!(r, Resource::Deployments | Resource::ReplicaSets) {
            resources.push(sub_entry(
                r,
                "scale",
                "Scale",
                &["get", "patch", "update"],
                Some("autoscaling"),
            ));
        }
    }
    let gv = if group.is_empty() {
        "v1".to_owned()
    } else {
        format!("{group}/v1")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

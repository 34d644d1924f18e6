//! Server-side printing: `meta.k8s.io/v1` Tables with the columns the real API server prints,
//! which is what `kubectl get` asks for and shows.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::{human_age, parse_time};
use crate::resources::Resource;
use crate::store::meta_str;

fn col(name: &str, kind: &str, format: &str, priority: i32, description: &str) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": priority})
}

#[expect(
    clippy::too_many_lines,
    reason = "a table of column definitions, one block per kind"
)]
pub fn columns(r: Resource) -> Vec<Value> {
    let name = col(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace.",
    );
    let age = col(
        "Age",
        "string",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    let containers = col(
        "Containers",
        "string",
        "",
        1,
        "Names of each container in the template.",
    );
    let images = col(
        "Images",
        "string",
        "",
        1,
        "Images referenced by each container in the template.",
    );
    match r {
        Resource::Deployments => vec![
            name,
            col(
                "Ready",
                "string",
                "",
                0,
                "Number of the pod with ready state",
            ),
            col(
                "Up-to-date",
                "integer",
                "",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "integer",
                "",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            age,
            containers.clone(),
            images.clone(),
            col(
                "Selector",
                "string",
                "",
                1,
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
            ),
        ],
        Resource::ReplicaSets => vec![
            name,
            col(
                "Desired",
                "integer",
                "",
                0,
                "Replicas is the number of desired replicas.",
            ),
            col(
                "Current",
                "integer",
                "",
                0,
                "Replicas is the most recently observed number of replicas.",
            ),
            col(
                "Ready",
                "integer",
                "",
                0,
                "The number of ready replicas for this replica set.",
            ),
            age,
            containers.clone(),
            images.clone(),
            col(
                "Selector",
                "string",
                "",
                1,
                "Selector is a label query over pods that should match the replica count.",
            ),
        ],
        Resource::Pods => vec![
            name,
            col(
                "Ready",
                "string",
                "",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            col(
                "Status",
                "string",
                "",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            col(
                "Restarts",
                "string",
                "",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age,
            col(
                "IP",
                "string",
                "",
                1,
                "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            col(
                "Node",
                "string",
                "",
                1,
                "NodeName is a request to schedule this pod onto a specific node.",
            ),
            col(
                "Nominated Node",
                "string",
                "",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            col(
                "Readiness Gates",
                "string",
                "",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        Resource::Namespaces => vec![
            name,
            col("Status", "string", "", 0, "The status of the namespace"),
            age,
        ],
        Resource::Services | Resource::Endpoints => network_columns(r, name, age),
        Resource::Events => vec![
            col(
                "Last Seen",
                "string",
                "",
                0,
                "Deprecated field assigned to last observed time.",
            ),
            col(
                "Type",
                "string",
                "",
                0,
                "Type of this event (Normal, Warning), new types could be added in the future.",
            ),
            col(
                "Reason",
                "string",
                "",
                0,
                "Reason is why the action was taken.",
            ),
            col(
                "Object",
                "string",
                "",
                0,
                "The object that this event is about.",
            ),
            col(
                "Subobject",
                "string",
                "",
                1,
                "The subobject that this event is about.",
            ),
            col(
                "Source",
                "string",
                "",
                1,
                "The component reporting this event.",
            ),
            col(
                "Message",
                "string",
                "",
                0,
                "A human-readable description of the status of this operation.",
            ),
            col(
                "First Seen",
                "string",
                "",
                1,
                "Deprecated field assigned to first observed time.",
            ),
            col(
                "Count",
                "integer",
                "",
                1,
                "The number of times this event has occurred.",
            ),
            col(
                "Name",
                "string",
                "",
                1,
                "Name must be unique within a namespace.",
            ),
        ],
    }
}

/// The columns of `kubectl get services` and `kubectl get endpoints`.
fn network_columns(r: Resource, name: Value, age: Value) -> Vec<Value> {
    if r == Resource::Endpoints {
        let eps = col("Endpoints", "string", "", 0, "Endpoints of the endpoints.");
        return vec![name, eps, age];
    }
    vec![
        name,
        col("Type", "string", "", 0, "The type of the service."),
        col(
            "Cluster-IP",
            "string",
            "",
            0,
            "The IP address of the service.",
        ),
        col(
            "External-IP",
            "string",
            "",
            0,
            "The external IP address of the service.",
        ),
        col("Port(s)", "string", "", 0, "The ports of the service."),
        age,
        col(
            "Selector",
            "string",
            "",
            1,
            "Route service traffic to pods with label keys and values matching this selector.",
        ),
    ]
}

/// A row of [`network_columns`]: ports as `80/TCP`, endpoints as `ip:port` (three, then
/// `+ N more...`), `<none>` for nothing.
fn network_cells(r: Resource, obj: &Value, age: Value) -> Vec<Value> {
    let name = json!(meta_str(obj, "name"));
    let or_none = |s: String| if s.is_empty() { "<none>".to_owned() } else { s };
    if r == Resource::Endpoints {
        let mut all = Vec::new();
        for subset in obj["subsets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let ports = subset["ports"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for a in subset["addresses"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let ip = a["ip"].as_str().unwrap_or_default();
                if ports.is_empty() {
                    all.push(ip.to_owned());
                }
                all.extend(ports.iter().map(|p| format!("{ip}:{}", num(p, "/port"))));
            }
        }
        let mut shown = all.iter().take(3).cloned().collect::<Vec<_>>().join(",");
        if all.len() > 3 {
            let _ = write!(shown, " + {} more...", all.len() - 3);
        }
        return vec![name, json!(or_none(shown)), age];
    }
    let spec = &obj["spec"];
    let ports = spec["ports"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    format!(
                        "{}/{}",
                        num(p, "/port"),
                        p["protocol"].as_str().unwrap_or("TCP")
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let selector = spec["selector"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    vec![
        name,
        json!(spec["type"].as_str().unwrap_or("ClusterIP")),
        json!(spec["clusterIP"].as_str().unwrap_or("<none>")),
        json!("<none>"),
        json!(or_none(ports)),
        age,
        json!(or_none(selector)),
    ]
}

fn age(ts: Option<&str>, now: time::OffsetDateTime) -> String {
    ts.and_then(parse_time).map_or_else(
        || "<unknown>".to_owned(),
        |t| human_age(Duration::try_from(now - t).unwrap_or_default()),
    )
}

fn num(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn joined(v: &Value, list: &str, field: &str) -> String {
    v.pointer(list)
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get(field).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn selector_string(sel: &Value) -> String {
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e["key"].as_str().unwrap_or_default();
            let vals = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            parts.push(match e["operator"].as_str().unwrap_or_default() {
                "In" => format!("{key} in ({vals})"),
                "NotIn" => format!("{key} notin ({vals})"),
                "Exists" => key.to_owned(),
                _ => format!("!{key}"),
            });
        }
    }
    parts.join(",")
}

/// The STATUS column of `kubectl get pods`.
pub fn pod_status_reason(pod: &Value) -> String {
    let mut reason = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
        .to_owned();
    if let Some(cs) = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for c in cs.iter().rev() {
            if let Some(r) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
                r.clone_into(&mut reason);
            } else if let Some(r) = c
                .pointer("/state/terminated/reason")
                .and_then(Value::as_str)
            {
                r.clone_into(&mut reason);
            }
        }
    }
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        "Terminating".clone_into(&mut reason);
    }
    reason
}

#[expect(clippy::too_many_lines, reason = "one row layout per kind")]
pub fn cells(r: Resource, obj: &Value, now: time::OffsetDateTime) -> Vec<Value> {
    let name = meta_str(obj, "name");
    let created = obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str);
    match r {
        Resource::Deployments => vec![
            json!(name),
            json!(format!(
                "{}/{}",
                num(obj, "/status/readyReplicas"),
                num(obj, "/spec/replicas")
            )),
            json!(num(obj, "/status/updatedReplicas")),
            json!(num(obj, "/status/availableReplicas")),
            json!(age(created, now)),
            json!(joined(obj, "/spec/template/spec/containers", "name")),
            json!(joined(obj, "/spec/template/spec/containers", "image")),
            json!(selector_string(&obj["spec"]["selector"])),
        ],
        Resource::ReplicaSets => vec![
            json!(name),
            json!(num(obj, "/spec/replicas")),
            json!(num(obj, "/status/replicas")),
            json!(num(obj, "/status/readyReplicas")),
            json!(age(created, now)),
            json!(joined(obj, "/spec/template/spec/containers", "name")),
            json!(joined(obj, "/spec/template/spec/containers", "image")),
            json!(selector_string(&obj["spec"]["selector"])),
        ],
        Resource::Pods => {
            let cs = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = cs.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = cs.iter().map(|c| num(c, "/restartCount")).sum();
            let last = cs
                .iter()
                .filter_map(|c| {
                    c.pointer("/lastState/terminated/finishedAt")
                        .and_then(Value::as_str)
                })
                .max();
            let restarts = match last {
                Some(t) if restarts > 0 => format!("{restarts} ({} ago)", age(Some(t), now)),
                _ => restarts.to_string(),
            };
            let ip = obj
                .pointer("/status/podIP")
                .and_then(Value::as_str)
                .unwrap_or("<none>");
            let node = obj
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or("<none>");
            vec![
                json!(name),
                json!(format!("{ready}/{total}")),
                json!(pod_status_reason(obj)),
                json!(restarts),
                json!(age(created, now)),
                json!(ip),
                json!(node),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        Resource::Namespaces => vec![
            json!(name),
            json!(
                obj.pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("Active")
            ),
            json!(age(created, now)),
        ],
        Resource::Services | Resource::Endpoints => network_cells(r, obj, json!(age(created, now))),
        Resource::Events => {
            let involved = &obj["involvedObject"];
            let kind = involved["kind"].as_str().unwrap_or_default().to_lowercase();
            let source = obj
                .pointer("/source/component")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let host = obj.pointer("/source/host").and_then(Value::as_str);
            let source = host.map_or_else(|| source.to_owned(), |h| format!("{source}, {h}"));
            vec![
                json!(age(obj.get("lastTimestamp").and_then(Value::as_str), now)),
                json!(obj["type"].as_str().unwrap_or_default()),
                json!(obj["reason"].as_str().unwrap_or_default()),
                json!(format!(
                    "{kind}/{}",
                    involved["name"].as_str().unwrap_or_default()
                )),
                json!(
                    involved
                        .get("fieldPath")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ),
                json!(source),
                json!(obj["message"].as_str().unwrap_or_default()),
                json!(age(obj.get("firstTimestamp").and_then(Value::as_str), now)),
                json!(num(obj, "/count")),
                json!(name),
            ]
        }
    }
}

/// How rows carry their object (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

fn row(r: Resource, obj: &Value, now: time::OffsetDateTime, include: IncludeObject) -> Value {
    let mut row = json!({"cells": cells(r, obj, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"].clone()});
        }
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
}

pub fn table(
    r: Resource,
    objs: &[&Value],
    rv: u64,
    now: time::OffsetDateTime,
    include: IncludeObject,
    headers: bool,
) -> Value {
    let mut t = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": if headers { Value::Array(columns(r)) } else { Value::Null },
        "rows": objs.iter().map(|o| row(r, o, now, include)).collect::<Vec<_>>(),
    });
    if !headers && let Value::Object(m) = &mut t {
        m.insert("columnDefinitions".to_owned(), Value::Null);
    }
    t
}

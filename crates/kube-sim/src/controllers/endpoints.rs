//! The endpoints controller: keeps one `Endpoints` object per Service with a selector, listing
//! the matching pods that have an IP (ready ones as `addresses`, the others as
//! `notReadyAddresses`), and removes it with its Service.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::resources::Resource;
use crate::selectors::LabelSelector;
use crate::store::{ObjKey, Store, meta_str};
use crate::world::World;

/// What a round of changes asks of the endpoints controller.
#[derive(Debug, Default)]
pub struct Changed {
    /// Namespaces where a Service or a Pod changed.
    namespaces: BTreeSet<String>,
    /// Services that are gone.
    removed: Vec<ObjKey>,
}

impl Changed {
    pub fn of(keys: &BTreeSet<ObjKey>, store: &Store) -> Self {
        let mut changed = Self::default();
        for k in keys {
            if matches!(k.resource, Resource::Services | Resource::Pods) {
                changed.namespaces.insert(k.namespace.clone());
            }
            if k.resource == Resource::Services && store.get(k).is_none() {
                changed.removed.push(k.clone());
            }
        }
        changed
    }
}

/// Brings the Endpoints of every Service in the changed namespaces up to date, and deletes
/// those of the Services that are gone.
pub fn sync(world: &mut World, changed: &Changed) {
    let Changed {
        namespaces,
        removed,
    } = changed;
    for key in removed {
        if world
            .get(Resource::Endpoints, &key.namespace, &key.name)
            .is_some()
            && let Err(e) =
                world.delete(Resource::Endpoints, &key.namespace, &key.name, false, false)
        {
            tracing::warn!(error = %e, service = %key.name, "endpoints controller: delete failed");
        }
    }
    for ns in namespaces {
        let services: Vec<Value> = world
            .store
            .list(Resource::Services, Some(ns))
            .into_iter()
            .filter(|s| s.pointer("/spec/selector").is_some_and(Value::is_object))
            .cloned()
            .collect();
        for svc in services {
            let desired = endpoints_for(world, &svc);
            let name = meta_str(&svc, "name").to_owned();
            let result = match world.get(Resource::Endpoints, ns, &name).cloned() {
                None => world.create(Resource::Endpoints, ns, desired, false),
                Some(mut current) => {
                    current["metadata"]["labels"] = desired["metadata"]["labels"].clone();
                    match desired.get("subsets") {
                        Some(s) => current["subsets"] = s.clone(),
                        None => {
                            if let Some(m) = current.as_object_mut() {
                                m.remove("subsets");
                            }
                        }
                    }
                    world.update(Resource::Endpoints, ns, &name, current, false, false)
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, service = %name, "endpoints controller: write failed");
            }
        }
    }
}

/// The Endpoints object `svc` should have, from the pods it selects now.
fn endpoints_for(world: &World, svc: &Value) -> Value {
    let ns = meta_str(svc, "namespace");
    let selector =
        LabelSelector::from_label_selector(&json!({"matchLabels": svc["spec"]["selector"]}));
    let service_ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    // (ports, ready addresses, not-ready addresses), one subset per distinct port list.
    let mut subsets: Vec<(Vec<Value>, Vec<Value>, Vec<Value>)> = Vec::new();
    for pod in world.store.list(Resource::Pods, Some(ns)) {
        if !selector.matches(pod) || !in_endpoints(pod) {
            continue;
        }
        let ports: Vec<Value> = service_ports
            .iter()
            .filter_map(|p| endpoint_port(p, pod))
            .collect();
        if ports.is_empty() && !service_ports.is_empty() {
            continue;
        }
        let address = json!({
            "ip": pod.pointer("/status/podIP").cloned().unwrap_or(Value::Null),
            "nodeName": pod.pointer("/spec/nodeName").cloned().unwrap_or(Value::Null),
            "targetRef": {
                "kind": "Pod",
                "namespace": ns,
                "name": meta_str(pod, "name"),
                "uid": meta_str(pod, "uid"),
            },
        });
        let entry = match subsets.iter().position(|(p, _, _)| *p == ports) {
            Some(i) => &mut subsets[i],
            None => {
                subsets.push((ports, Vec::new(), Vec::new()));
                subsets.last_mut().expect("just pushed")
            }
        };
        if ready(pod) {
            entry.1.push(address);
        } else {
            entry.2.push(address);
        }
    }
    let mut out = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": meta_str(svc, "name"), "namespace": ns},
    });
    if let Some(labels) = svc.pointer("/metadata/labels") {
        out["metadata"]["labels"] = labels.clone();
    }
    if !subsets.is_empty() {
        let subsets: Vec<Value> = subsets
            .into_iter()
            .map(|(ports, ready, not_ready)| {
                let mut s = Map::new();
                if !ready.is_empty() {
                    s.insert("addresses".to_owned(), sorted_by_ip(ready));
                }
                if !not_ready.is_empty() {
                    s.insert("notReadyAddresses".to_owned(), sorted_by_ip(not_ready));
                }
                if !ports.is_empty() {
                    s.insert("ports".to_owned(), json!(ports));
                }
                Value::Object(s)
            })
            .collect();
        out["subsets"] = json!(subsets);
    }
    out
}

/// `ShouldPodBeInEndpoints` without terminating pods: an IP, not finished, not being deleted.
fn in_endpoints(pod: &Value) -> bool {
    let has_ip = pod
        .pointer("/status/podIP")
        .and_then(Value::as_str)
        .is_some_and(|ip| !ip.is_empty());
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    let deleting = pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    has_ip && !matches!(phase, Some("Failed" | "Succeeded")) && !deleting
}

fn ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// The endpoint port of service port `p` on `pod`: a number as given, a name looked up among the
/// pod's container ports (none when the pod has no port of that name).
fn endpoint_port(p: &Value, pod: &Value) -> Option<Value> {
    let protocol = p["protocol"].as_str().unwrap_or("TCP");
    let number = match &p["targetPort"] {
        Value::Number(n) => n.as_i64()?,
        Value::String(name) => pod
            .pointer("/spec/containers")?
            .as_array()?
            .iter()
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .find(|cp| {
                cp["name"] == name.as_str() && cp["protocol"].as_str().unwrap_or("TCP") == protocol
            })?
            .get("containerPort")?
            .as_i64()?,
        _ => p["port"].as_i64()?,
    };
    let mut out = json!({"port": number, "protocol": protocol});
    if let Some(name) = p["name"].as_str().filter(|n| !n.is_empty()) {
        out["name"] = json!(name);
    }
    Some(out)
}

fn sorted_by_ip(mut addresses: Vec<Value>) -> Value {
    addresses.sort_by(|a, b| a["ip"].as_str().cmp(&b["ip"].as_str()));
    json!(addresses)
}

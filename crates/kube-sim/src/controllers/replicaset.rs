//! The ReplicaSet controller: creates and deletes Pods to match `spec.replicas` and reports
//! ready/available counts in the ReplicaSet's status.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::{int, owner_ref, set_count};
use crate::clock::parse_time;
use crate::resources::Resource;
use crate::store::{ObjKey, meta_str};
use crate::world::{World, controller_uid};

const COMPONENT: &str = "replicaset-controller";

fn pod_ready_since(pod: &Value) -> Option<time::OffsetDateTime> {
    let cond = pod
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")?;
    parse_time(cond["lastTransitionTime"].as_str()?)
}

/// Deletion preference, lowest first: unscheduled, pending, not ready, more restarts, newest.
fn deletion_rank(pod: &Value) -> (bool, bool, bool, i64, std::cmp::Reverse<String>) {
    let scheduled = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let running = pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running");
    let ready = pod_ready_since(pod).is_some();
    let restarts: i64 = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map_or(0, |cs| cs.iter().map(|c| int(c, "/restartCount")).sum());
    (
        scheduled,
        running,
        ready,
        -restarts,
        std::cmp::Reverse(meta_str(pod, "creationTimestamp").to_owned()),
    )
}

/// Reconciles one ReplicaSet.
#[expect(
    clippy::too_many_lines,
    reason = "create/delete, then status, as the real controller does in one sync"
)]
#[expect(
    clippy::implicit_hasher,
    reason = "an internal index built by the reconcile loop"
)]
pub fn sync(world: &mut World, key: &ObjKey, pods_by_owner: &HashMap<String, Vec<ObjKey>>) {
    let Some(rs) = world.store.get(key).cloned() else {
        return;
    };
    let uid = meta_str(&rs, "uid").to_owned();
    let mut pods: Vec<Value> = pods_by_owner
        .get(&uid)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| world.store.get(k))
                .filter(|p| controller_uid(p) == Some(uid.as_str()))
                .filter(|p| {
                    p.pointer("/metadata/deletionTimestamp")
                        .is_none_or(Value::is_null)
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let want = usize::try_from(int(&rs, "/spec/replicas").max(0)).unwrap_or(0);
    let mut failure: Option<String> = None;
    // A ReplicaSet being deleted (in the foreground) no longer manages its pods.
    let deleting = rs
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if !deleting && pods.len() < want {
        for _ in pods.len()..want {
            let template = &rs["spec"]["template"];
            let mut meta = template
                .get("metadata")
                .cloned()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            meta["generateName"] = json!(format!("{}-", key.name));
            meta["namespace"] = json!(key.namespace);
            meta["ownerReferences"] = json!([owner_ref(Resource::ReplicaSets, &rs)]);
            let pod = json!({"metadata": meta, "spec": template["spec"].clone()});
            match world.create(Resource::Pods, &key.namespace, pod, false) {
                Ok(p) => {
                    let msg = format!("Created pod: {}", meta_str(&p, "name"));
                    world.record_event(
                        Resource::ReplicaSets,
                        &rs,
                        false,
                        "SuccessfulCreate",
                        &msg,
                        COMPONENT,
                        None,
                    );
                    pods.push(p);
                }
                Err(e) => {
                    let msg = format!("Error creating: {}", e.message);
                    failure = Some(e.message.clone());
                    world.record_event(
                        Resource::ReplicaSets,
                        &rs,
                        true,
                        "FailedCreate",
                        &msg,
                        COMPONENT,
                        None,
                    );
                    break;
                }
            }
        }
    } else if !deleting && pods.len() > want {
        pods.sort_by_key(deletion_rank);
        let excess = pods.len() - want;
        for p in pods.drain(..excess) {
            let name = meta_str(&p, "name").to_owned();
            if world
                .delete(Resource::Pods, &key.namespace, &name, false, false)
                .is_ok()
            {
                world.record_event(
                    Resource::ReplicaSets,
                    &rs,
                    false,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {name}"),
                    COMPONENT,
                    None,
                );
            }
        }
    }
    let min_ready =
        Duration::from_secs(u64::try_from(int(&rs, "/spec/minReadySeconds").max(0)).unwrap_or(0));
    let now = world.clock.now();
    let mut ready = 0;
    let mut available = 0;
    let mut next_available: Option<time::OffsetDateTime> = None;
    for p in &pods {
        if let Some(since) = pod_ready_since(p) {
            ready += 1;
            let at = since + min_ready;
            if at <= now {
                available += 1;
            } else {
                next_available = Some(next_available.map_or(at, |n| n.min(at)));
            }
        }
    }
    if let Some(at) = next_available {
        let wait = Duration::try_from(at - now).unwrap_or_default();
        let sim_at = world.clock.elapsed() + wait + Duration::from_millis(10);
        world.schedule_wakeup(key.clone(), sim_at);
    }
    let mut status = rs
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let count = i64::try_from(pods.len()).unwrap_or(0);
    status["replicas"] = json!(count);
    set_count(&mut status, "fullyLabeledReplicas", count);
    set_count(&mut status, "readyReplicas", ready);
    set_count(&mut status, "availableReplicas", available);
    status["observedGeneration"] = json!(int(&rs, "/metadata/generation"));
    set_replica_failure(world, &mut status, failure.as_deref());
    if failure.is_some() {
        // The real controller retries with backoff; retry after 10 simulated seconds.
        let at = world.clock.elapsed() + Duration::from_secs(10);
        world.schedule_wakeup(key.clone(), at);
    }
    if status != rs["status"] {
        let mut new = rs.clone();
        new["status"] = status;
        if let Err(e) = world.update(
            Resource::ReplicaSets,
            &key.namespace,
            &key.name,
            new,
            true,
            false,
        ) {
            tracing::debug!(error = %e, "replicaset status update failed");
        }
    }
}

/// The `ReplicaFailure` condition: set (reason FailedCreate) while pods cannot be created,
/// removed once they can.
fn set_replica_failure(world: &World, status: &mut Value, failure: Option<&str>) {
    let existing = status
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure").cloned());
    let mut conds: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| c["type"] != "ReplicaFailure")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(msg) = failure {
        let ltt = existing
            .as_ref()
            .filter(|c| c["status"] == "True")
            .map_or_else(
                || json!(world.now_str()),
                |c| c["lastTransitionTime"].clone(),
            );
        conds.push(json!({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": msg, "lastTransitionTime": ltt}));
    }
    if let Value::Object(m) = status {
        if conds.is_empty() {
            m.remove("conditions");
        } else {
            m.insert("conditions".to_owned(), Value::Array(conds));
        }
    }
}

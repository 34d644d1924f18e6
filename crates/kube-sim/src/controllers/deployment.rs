//! The deployment controller, after kubernetes/pkg/controller/deployment: one ReplicaSet per pod
//! template, revisions, RollingUpdate and Recreate, pause, history cleanup, and the status and
//! conditions that `kubectl rollout status` reads.

use std::time::Duration;

use serde_json::{Value, json};

use super::{int, owner_ref, scaling, set_count};
use crate::clock::parse_time;
use crate::resources::Resource;
use crate::store::{ObjKey, meta_str};
use crate::world::{World, controller_uid};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const HASH_LABEL: &str = "pod-template-hash";
const COMPONENT: &str = "deployment-controller";

/// Annotations never copied from a Deployment onto its ReplicaSets.
const SKIP_ANNOTATIONS: [&str; 5] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
];

fn fnv32a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The `pod-template-hash`: fnv32a over the template, encoded with the API machinery's safe
/// alphabet (as `rand.SafeEncodeString(fmt.Sprint(hash))` does).
pub fn template_hash(template: &Value, collision_count: Option<i64>) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    let mut bytes = serde_json::to_vec(&t).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(c.to_string().as_bytes());
    }
    fnv32a(&bytes)
        .to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

fn strip_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    t
}

pub fn equal_ignore_hash(a: &Value, b: &Value) -> bool {
    strip_hash(a) == strip_hash(b)
}

pub fn revision_of(obj: &Value) -> i64 {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// An IntOrString against `total`: percentages round up for surge, down for unavailable.
fn int_or_percent(v: &Value, total: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) => {
                let x = p * total;
                if round_up { (x + 99) / 100 } else { x / 100 }
            }
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// (maxSurge, maxUnavailable) resolved against the desired replicas.
pub fn fenceposts(d: &Value) -> (i64, i64) {
    if d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        return (0, 0);
    }
    let replicas = int(d, "/spec/replicas");
    let ru = d
        .pointer("/spec/strategy/rollingUpdate")
        .cloned()
        .unwrap_or(Value::Null);
    let surge = int_or_percent(ru.get("maxSurge").unwrap_or(&json!("25%")), replicas, true);
    let mut unavailable = int_or_percent(
        ru.get("maxUnavailable").unwrap_or(&json!("25%")),
        replicas,
        false,
    );
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

fn condition<'a>(status: &'a Value, kind: &str) -> Option<&'a Value> {
    status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn new_condition(kind: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message, "lastUpdateTime": now, "lastTransitionTime": now})
}

/// `SetDeploymentCondition`: no-op for the same status and reason; keeps lastTransitionTime for
/// the same status.
fn set_condition(status: &mut Value, mut cond: Value) {
    let kind = cond["type"].as_str().unwrap_or_default().to_owned();
    if let Some(cur) = condition(status, &kind) {
        if cur["status"] == cond["status"] && cur["reason"] == cond["reason"] {
            return;
        }
        if cur["status"] == cond["status"] {
            cond["lastTransitionTime"] = cur["lastTransitionTime"].clone();
        }
    }
    remove_condition(status, &kind);
    if !status.get("conditions").is_some_and(Value::is_array) {
        status["conditions"] = json!([]);
    }
    if let Some(a) = status["conditions"].as_array_mut() {
        a.push(cond);
    }
}

fn remove_condition(status: &mut Value, kind: &str) {
    if let Some(a) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        a.retain(|c| c["type"] != kind);
        if a.is_empty()
            && let Value::Object(m) = status
        {
            m.remove("conditions");
        }
    }
}

fn owned_replicasets(world: &World, d: &Value) -> Vec<Value> {
    let uid = meta_str(d, "uid");
    let mut rss: Vec<Value> = world
        .store
        .list(Resource::ReplicaSets, Some(meta_str(d, "namespace")))
        .into_iter()
        .filter(|rs| controller_uid(rs) == Some(uid))
        .cloned()
        .collect();
    rss.sort_by(|a, b| {
        meta_str(a, "creationTimestamp")
            .cmp(meta_str(b, "creationTimestamp"))
            .then_with(|| meta_str(a, "name").cmp(meta_str(b, "name")))
    });
    rss
}

fn has_deadline(d: &Value) -> bool {
    d.pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s > 0 && s < i64::from(i32::MAX))
}

fn write_status(world: &mut World, d: &Value) -> Option<Value> {
    let (ns, name) = (
        meta_str(d, "namespace").to_owned(),
        meta_str(d, "name").to_owned(),
    );
    match world.update(Resource::Deployments, &ns, &name, d.clone(), true, false) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::debug!(error = %e, "deployment status update failed");
            None
        }
    }
}

pub(crate) fn scale_rs(world: &mut World, d: &Value, rs: &Value, to: i64) -> Option<Value> {
    let from = int(rs, "/spec/replicas");
    let (surge, _) = fenceposts(d);
    let desired = int(d, "/spec/replicas");
    let mut new = rs.clone();
    new["spec"]["replicas"] = json!(to);
    if !new["metadata"]["annotations"].is_object() {
        new["metadata"]["annotations"] = json!({});
    }
    new["metadata"]["annotations"][DESIRED_REPLICAS] = json!(desired.to_string());
    new["metadata"]["annotations"][MAX_REPLICAS] = json!((desired + surge).to_string());
    let out = world
        .update(
            Resource::ReplicaSets,
            meta_str(rs, "namespace"),
            meta_str(rs, "name"),
            new,
            false,
            false,
        )
        .ok()?;
    if from != to {
        let dir = if to > from { "up" } else { "down" };
        let msg = format!(
            "Scaled {dir} replica set {} from {from} to {to}",
            meta_str(rs, "name")
        );
        world.record_event(
            Resource::Deployments,
            d,
            false,
            "ScalingReplicaSet",
            &msg,
            COMPONENT,
            None,
        );
    }
    Some(out)
}

fn deployment_annotations_for_rs(d: &Value, rs_annotations: &mut serde_json::Map<String, Value>) {
    if let Some(a) = d
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in a {
            if !SKIP_ANNOTATIONS.contains(&k.as_str()) {
                rs_annotations.insert(k.clone(), v.clone());
            }
        }
    }
}

fn set_revision(d: &mut Value, revision: i64) -> bool {
    if !d["metadata"]["annotations"].is_object() {
        d["metadata"]["annotations"] = json!({});
    }
    let want = json!(revision.to_string());
    if d["metadata"]["annotations"][REVISION] == want {
        return false;
    }
    d["metadata"]["annotations"][REVISION] = want;
    true
}

/// `getAllReplicaSetsAndSyncRevision`: returns (new RS if any, old RSs), creating the new one
/// when `create` and syncing revision annotations.
#[expect(
    clippy::too_many_lines,
    reason = "mirrors getAllReplicaSetsAndSyncRevision + getNewReplicaSet step by step"
)]
fn sync_revision(world: &mut World, d: &mut Value, create: bool) -> (Option<Value>, Vec<Value>) {
    let rss = owned_replicasets(world, d);
    let template = d["spec"]["template"].clone();
    let new_idx = rss
        .iter()
        .position(|rs| equal_ignore_hash(&rs["spec"]["template"], &template));
    let old: Vec<Value> = rss
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_idx)
        .map(|(_, rs)| rs.clone())
        .collect();
    let max_old = old.iter().map(revision_of).max().unwrap_or(0);
    let new_revision = max_old + 1;
    let now = world.now_str();
    let ns = meta_str(d, "namespace").to_owned();
    if let Some(i) = new_idx {
        let mut rs = rss[i].clone();
        let mut changed = false;
        {
            if !rs["metadata"]["annotations"].is_object() {
                rs["metadata"]["annotations"] = json!({});
            }
            let ann = rs["metadata"]["annotations"]
                .as_object_mut()
                .expect("annotations object");
            let before = ann.clone();
            deployment_annotations_for_rs(d, ann);
            let old_rev = ann
                .get(REVISION)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            if old_rev < new_revision {
                if old_rev > 0 {
                    let hist = ann
                        .get(REVISION_HISTORY)
                        .and_then(Value::as_str)
                        .map_or_else(|| old_rev.to_string(), |h| format!("{h},{old_rev}"));
                    ann.insert(REVISION_HISTORY.to_owned(), json!(hist));
                }
                ann.insert(REVISION.to_owned(), json!(new_revision.to_string()));
            }
            changed |= *ann != before;
        }
        if changed
            && let Ok(updated) = world.update(
                Resource::ReplicaSets,
                &ns,
                meta_str(&rs, "name"),
                rs.clone(),
                false,
                false,
            )
        {
            rs = updated;
        }
        let mut needs_update = set_revision(d, revision_of(&rs));
        if has_deadline(d) && condition(&d["status"], "Progressing").is_none() {
            let msg = format!("Found new replica set \"{}\"", meta_str(&rs, "name"));
            set_condition(
                &mut d["status"],
                new_condition("Progressing", "True", "FoundNewReplicaSet", &msg, &now),
            );
            needs_update = true;
        }
        if needs_update && let Some(updated) = write_status(world, d) {
            *d = updated;
        }
        return (Some(rs), old);
    }
    if !create {
        return (None, old);
    }
    let collision = d.pointer("/status/collisionCount").and_then(Value::as_i64);
    let hash = template_hash(&template, collision);
    let name = format!("{}-{hash}", meta_str(d, "name"));
    let mut rs_template = template.clone();
    if !rs_template["metadata"]["labels"].is_object() {
        rs_template["metadata"]["labels"] = json!({});
    }
    rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let replicas = int(d, "/spec/replicas");
    let (surge, _) = fenceposts(d);
    let all_count: i64 = old.iter().map(|rs| int(rs, "/spec/replicas")).sum();
    let initial = if d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        replicas
    } else {
        let max_total = replicas + surge;
        if all_count >= max_total {
            0
        } else {
            (max_total - all_count).min(replicas)
        }
    };
    let mut annotations = serde_json::Map::new();
    deployment_annotations_for_rs(d, &mut annotations);
    annotations.insert(DESIRED_REPLICAS.to_owned(), json!(replicas.to_string()));
    annotations.insert(
        MAX_REPLICAS.to_owned(),
        json!((replicas + surge).to_string()),
    );
    annotations.insert(REVISION.to_owned(), json!(new_revision.to_string()));
    let mut spec = json!({"replicas": initial, "selector": selector, "template": rs_template});
    if let Some(m) = d.pointer("/spec/minReadySeconds") {
        spec["minReadySeconds"] = m.clone();
    }
    let rs = json!({
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": rs_template["metadata"]["labels"].clone(),
            "annotations": annotations,
            "ownerReferences": [owner_ref(Resource::Deployments, d)],
        },
        "spec": spec,
    });
    let created = match world.create(Resource::ReplicaSets, &ns, rs, false) {
        Ok(rs) => rs,
        Err(e) if e.code == 409 => {
            // Hash collision with an RS we do not own: bump collisionCount and retry next round.
            d["status"]["collisionCount"] = json!(collision.unwrap_or(0) + 1);
            if let Some(updated) = write_status(world, d) {
                *d = updated;
            }
            return (None, old);
        }
        Err(e) => {
            tracing::warn!(error = %e, "creating ReplicaSet failed");
            return (None, old);
        }
    };
    if initial > 0 {
        let msg = format!("Scaled up replica set {name} from 0 to {initial}");
        world.record_event(
            Resource::Deployments,
            d,
            false,
            "ScalingReplicaSet",
            &msg,
            COMPONENT,
            None,
        );
    }
    set_revision(d, new_revision);
    if has_deadline(d) {
        let msg = format!("Created new replica set \"{name}\"");
        set_condition(
            &mut d["status"],
            new_condition("Progressing", "True", "NewReplicaSetCreated", &msg, &now),
        );
    }
    if let Some(updated) = write_status(world, d) {
        *d = updated;
    }
    (Some(created), old)
}

fn reload(world: &World, rs: &[Value]) -> Vec<Value> {
    rs.iter()
        .filter_map(|r| {
            world
                .get(
                    Resource::ReplicaSets,
                    meta_str(r, "namespace"),
                    meta_str(r, "name"),
                )
                .cloned()
        })
        .collect()
}

fn reconcile_new_rs(world: &mut World, d: &Value, all: &[Value], new: &Value) -> bool {
    let replicas = int(d, "/spec/replicas");
    let cur = int(new, "/spec/replicas");
    if cur == replicas {
        return false;
    }
    if cur > replicas {
        return scale_rs(world, d, new, replicas).is_some();
    }
    let (surge, _) = fenceposts(d);
    let current: i64 = all.iter().map(|rs| int(rs, "/spec/replicas")).sum();
    let max_total = replicas + surge;
    if current >= max_total {
        return false;
    }
    let up = (max_total - current).min(replicas - cur);
    scale_rs(world, d, new, cur + up).is_some()
}

fn reconcile_old_rss(
    world: &mut World,
    d: &Value,
    all: &[Value],
    old: &[Value],
    new: &Value,
) -> bool {
    let old_count: i64 = old.iter().map(|rs| int(rs, "/spec/replicas")).sum();
    if old_count == 0 {
        return false;
    }
    let replicas = int(d, "/spec/replicas");
    let all_count: i64 = all.iter().map(|rs| int(rs, "/spec/replicas")).sum();
    let (_, max_unavailable) = fenceposts(d);
    let min_available = replicas - max_unavailable;
    let new_unavailable = int(new, "/spec/replicas") - int(new, "/status/availableReplicas");
    let max_scaled_down = all_count - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return false;
    }
    // cleanupUnhealthyReplicas: old RSs' unavailable pods go first.
    let mut scaled = 0;
    let mut old: Vec<Value> = old.to_vec();
    for rs in &mut old {
        if scaled >= max_scaled_down {
            break;
        }
        let spec = int(rs, "/spec/replicas");
        let unhealthy = spec - int(rs, "/status/availableReplicas");
        if spec == 0 || unhealthy <= 0 {
            continue;
        }
        let down = unhealthy.min(max_scaled_down - scaled).min(spec);
        if let Some(updated) = scale_rs(world, d, rs, spec - down) {
            *rs = updated;
            scaled += down;
        }
    }
    // scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable available.
    let all_now = reload(world, all);
    let available: i64 = all_now
        .iter()
        .map(|rs| int(rs, "/status/availableReplicas"))
        .sum();
    if available > min_available {
        let mut budget = available - min_available;
        for rs in &old {
            if budget <= 0 {
                break;
            }
            let spec = int(rs, "/spec/replicas");
            if spec == 0 {
                continue;
            }
            let down = spec.min(budget);
            if scale_rs(world, d, rs, spec - down).is_some() {
                budget -= down;
                scaled += down;
            }
        }
    }
    scaled > 0
}

fn cleanup(world: &mut World, d: &Value, old: &[Value]) {
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10);
    let mut dead: Vec<&Value> = old
        .iter()
        .filter(|rs| int(rs, "/spec/replicas") == 0 && int(rs, "/status/replicas") == 0)
        .collect();
    if i64::try_from(dead.len()).unwrap_or(0) <= limit {
        return;
    }
    dead.sort_by_key(|rs| revision_of(rs));
    let excess = dead.len() - usize::try_from(limit.max(0)).unwrap_or(0);
    for rs in dead.into_iter().take(excess) {
        let _ = world.delete(
            Resource::ReplicaSets,
            meta_str(rs, "namespace"),
            meta_str(rs, "name"),
            false,
            false,
        );
    }
}

fn complete(d: &Value, status: &Value) -> bool {
    let replicas = int(d, "/spec/replicas");
    int(status, "/updatedReplicas") == replicas
        && int(status, "/replicas") == replicas
        && int(status, "/availableReplicas") == replicas
        && int(status, "/observedGeneration") >= int(d, "/metadata/generation")
}

fn calculate_status(world: &World, d: &Value, all: &[Value], new: Option<&Value>) -> Value {
    let available: i64 = all
        .iter()
        .map(|rs| int(rs, "/status/availableReplicas"))
        .sum();
    let total: i64 = all.iter().map(|rs| int(rs, "/spec/replicas")).sum();
    let mut status = d
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    status["observedGeneration"] = json!(int(d, "/metadata/generation"));
    set_count(
        &mut status,
        "replicas",
        all.iter().map(|rs| int(rs, "/status/replicas")).sum(),
    );
    set_count(
        &mut status,
        "updatedReplicas",
        new.map_or(0, |rs| int(rs, "/status/replicas")),
    );
    set_count(
        &mut status,
        "readyReplicas",
        all.iter().map(|rs| int(rs, "/status/readyReplicas")).sum(),
    );
    set_count(&mut status, "availableReplicas", available);
    set_count(
        &mut status,
        "unavailableReplicas",
        (total - available).max(0),
    );
    let (_, max_unavailable) = fenceposts(d);
    let now = world.now_str();
    if available >= int(d, "/spec/replicas") - max_unavailable {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &now,
            ),
        );
    } else {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &now,
            ),
        );
    }
    status
}

fn progressing(d: &Value, new_status: &Value) -> bool {
    let old = &d["status"];
    let old_old = int(old, "/replicas") - int(old, "/updatedReplicas");
    let new_old = int(new_status, "/replicas") - int(new_status, "/updatedReplicas");
    int(new_status, "/updatedReplicas") > int(old, "/updatedReplicas")
        || new_old < old_old
        || int(new_status, "/readyReplicas") > int(old, "/readyReplicas")
        || int(new_status, "/availableReplicas") > int(old, "/availableReplicas")
}

fn deadline_at(d: &Value, status: &Value) -> Option<time::OffsetDateTime> {
    let cond = condition(status, "Progressing")?;
    if cond["reason"] == "NewReplicaSetAvailable" || cond["reason"] == "ProgressDeadlineExceeded" {
        return None;
    }
    let from = parse_time(cond["lastUpdateTime"].as_str()?)?;
    let secs = d
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)?;
    Some(from + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[expect(
    clippy::too_many_lines,
    reason = "mirrors syncRolloutStatus case by case"
)]
fn sync_rollout_status(world: &mut World, d: &Value, all: &[Value], new: Option<&Value>) {
    let all = reload(world, all);
    let new = new.and_then(|n| {
        world
            .get(
                Resource::ReplicaSets,
                meta_str(n, "namespace"),
                meta_str(n, "name"),
            )
            .cloned()
    });
    let mut status = calculate_status(world, d, &all, new.as_ref());
    let now = world.now_str();
    if has_deadline(d) {
        let cur = condition(&d["status"], "Progressing").cloned();
        let is_complete = int(&status, "/replicas") == int(&status, "/updatedReplicas")
            && cur
                .as_ref()
                .is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
        if !is_complete {
            let rs_name = new.as_ref().map(|n| meta_str(n, "name").to_owned());
            if complete(d, &status) {
                let msg = rs_name.map_or_else(
                    || {
                        format!(
                            "Deployment \"{}\" has successfully progressed.",
                            meta_str(d, "name")
                        )
                    },
                    |n| format!("ReplicaSet \"{n}\" has successfully progressed."),
                );
                set_condition(
                    &mut status,
                    new_condition("Progressing", "True", "NewReplicaSetAvailable", &msg, &now),
                );
            } else if progressing(d, &status) {
                let msg = rs_name.map_or_else(
                    || format!("Deployment \"{}\" is progressing.", meta_str(d, "name")),
                    |n| format!("ReplicaSet \"{n}\" is progressing."),
                );
                let mut cond =
                    new_condition("Progressing", "True", "ReplicaSetUpdated", &msg, &now);
                if let Some(c) = &cur
                    && c["status"] == "True"
                {
                    cond["lastTransitionTime"] = c["lastTransitionTime"].clone();
                }
                remove_condition(&mut status, "Progressing");
                set_condition(&mut status, cond);
            } else if let Some(at) = deadline_at(d, &status)
                && at < world.clock.now()
            {
                let msg = rs_name.map_or_else(
                    || {
                        format!(
                            "Deployment \"{}\" has timed out progressing.",
                            meta_str(d, "name")
                        )
                    },
                    |n| format!("ReplicaSet \"{n}\" has timed out progressing."),
                );
                // The real controller only sets the condition; it records no Event for it.
                set_condition(
                    &mut status,
                    new_condition(
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &msg,
                        &now,
                    ),
                );
            }
        }
    } else {
        remove_condition(&mut status, "Progressing");
    }
    // ReplicaFailure mirrors the first failure condition of the ReplicaSets.
    let failure = new.iter().chain(all.iter()).find_map(|rs| {
        condition(&rs["status"], "ReplicaFailure")
            .filter(|c| c["status"] == "True")
            .cloned()
    });
    match failure {
        Some(f) => set_condition(
            &mut status,
            new_condition(
                "ReplicaFailure",
                "True",
                f["reason"].as_str().unwrap_or("FailedCreate"),
                f["message"].as_str().unwrap_or(""),
                &now,
            ),
        ),
        None => remove_condition(&mut status, "ReplicaFailure"),
    }
    if let Some(at) = deadline_at(d, &status) {
        let wait = (at - world.clock.now()).max(time::Duration::ZERO);
        let sim_at = world.clock.elapsed()
            + Duration::try_from(wait).unwrap_or_default()
            + Duration::from_secs(1);
        world.schedule_wakeup(ObjKey::of(Resource::Deployments, d), sim_at);
    }
    if status != d["status"] {
        let mut nd = d.clone();
        nd["status"] = status;
        write_status(world, &nd);
    }
}

fn check_paused_conditions(world: &mut World, d: &mut Value) {
    if !has_deadline(d) {
        return;
    }
    let paused = d
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let reason = condition(&d["status"], "Progressing")
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("")
        .to_owned();
    let now = world.now_str();
    let cond = if paused && reason != "DeploymentPaused" {
        new_condition(
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            &now,
        )
    } else if !paused && reason == "DeploymentPaused" {
        new_condition(
            "Progressing",
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed",
            &now,
        )
    } else {
        return;
    };
    set_condition(&mut d["status"], cond);
    if let Some(updated) = write_status(world, d) {
        *d = updated;
    }
}

/// `dc.sync`: a paused Deployment or a scaling event resizes the existing ReplicaSets (no new
/// one is created) and only the status follows.
fn sync_scale(world: &mut World, d: &mut Value, paused: bool) {
    let (new, old) = sync_revision(world, d, false);
    scaling::scale(world, d, new.as_ref(), &old);
    let old = reload(world, &old);
    if paused {
        cleanup(world, d, &old);
    }
    let mut all = old;
    all.extend(new.clone());
    let all = reload(world, &all);
    let new = new.and_then(|n| reload(world, &[n]).pop());
    let status = calculate_status(world, d, &all, new.as_ref());
    if status != d["status"] {
        d["status"] = status;
        write_status(world, d);
    }
}

/// Reconciles one Deployment.
pub fn sync(world: &mut World, key: &ObjKey) {
    let Some(mut d) = world.store.get(key).cloned() else {
        return;
    };
    if d.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return;
    }
    if !d["status"].is_object() {
        d["status"] = json!({});
    }
    super::adoption::adopt_orphans(world, Resource::Deployments, &d, Resource::ReplicaSets);
    check_paused_conditions(world, &mut d);
    let paused = d
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if paused || scaling::is_scaling_event(&d, &owned_replicasets(world, &d)) {
        return sync_scale(world, &mut d, paused);
    }
    let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
    if recreate {
        let (mut new, mut old) = sync_revision(world, &mut d, false);
        let mut all = old.clone();
        all.extend(new.clone());
        let mut scaled = false;
        for rs in old.iter().filter(|rs| int(rs, "/spec/replicas") > 0) {
            scaled |= scale_rs(world, &d, rs, 0).is_some();
        }
        if scaled {
            return sync_rollout_status(world, &d, &all, new.as_ref());
        }
        let old_uids: Vec<String> = old
            .iter()
            .map(|rs| meta_str(rs, "uid").to_owned())
            .collect();
        let old_pods = world
            .store
            .list(Resource::Pods, Some(&key.namespace))
            .into_iter()
            .any(|p| controller_uid(p).is_some_and(|u| old_uids.iter().any(|o| o == u)));
        if old_pods {
            return sync_rollout_status(world, &d, &all, new.as_ref());
        }
        if new.is_none() {
            (new, old) = sync_revision(world, &mut d, true);
            all.clone_from(&old);
            all.extend(new.clone());
        }
        if let Some(n) = &new
            && int(n, "/spec/replicas") != int(&d, "/spec/replicas")
        {
            scale_rs(world, &d, n, int(&d, "/spec/replicas"));
        }
        if complete(&d, &d["status"]) {
            cleanup(world, &d, &old);
        }
        return sync_rollout_status(world, &d, &all, new.as_ref());
    }
    let (new, old) = sync_revision(world, &mut d, true);
    let Some(new) = new else { return };
    let mut all = old.clone();
    all.push(new.clone());
    if reconcile_new_rs(world, &d, &all, &new) {
        return sync_rollout_status(world, &d, &all, Some(&new));
    }
    let all = reload(world, &all);
    let old = reload(world, &old);
    let new = world
        .get(
            Resource::ReplicaSets,
            &key.namespace,
            meta_str(&new, "name"),
        )
        .cloned()
        .unwrap_or(new);
    if reconcile_old_rss(world, &d, &all, &old, &new) {
        return sync_rollout_status(world, &d, &all, Some(&new));
    }
    if complete(&d, &d["status"]) {
        cleanup(world, &d, &old);
    }
    sync_rollout_status(world, &d, &all, Some(&new));
}

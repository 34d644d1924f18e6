//! Scaling events, after kubernetes/pkg/controller/deployment `sync.go`: when a Deployment's
//! `spec.replicas` changes (or it is paused) the controller resizes the ReplicaSets it has instead
//! of rolling: the only active one takes the new size, and during a rollout every active
//! ReplicaSet grows or shrinks in proportion to its share (`deployment.kubernetes.io/max-replicas`).

use serde_json::Value;

use super::deployment::{DESIRED_REPLICAS, MAX_REPLICAS, fenceposts, scale_rs};
use super::int;
use crate::store::meta_str;
use crate::world::World;

fn annotation(rs: &Value, key: &str) -> Option<i64> {
    rs.pointer("/metadata/annotations")?
        .get(key)?
        .as_str()?
        .parse()
        .ok()
}

fn active(rss: &[Value]) -> Vec<Value> {
    rss.iter()
        .filter(|rs| int(rs, "/spec/replicas") > 0)
        .cloned()
        .collect()
}

/// `isScalingEvent`: an active ReplicaSet was sized for a different `spec.replicas`.
pub fn is_scaling_event(d: &Value, all: &[Value]) -> bool {
    let replicas = int(d, "/spec/replicas");
    active(all)
        .iter()
        .filter_map(|rs| annotation(rs, DESIRED_REPLICAS))
        .any(|desired| desired != replicas)
}

/// `FindActiveOrLatest`: the one active ReplicaSet, or the newest when none is active.
fn active_or_latest(new: Option<&Value>, old: &[Value]) -> Option<Value> {
    let mut all: Vec<Value> = old.to_vec();
    all.extend(new.cloned());
    let live = active(&all);
    match live.len() {
        0 => new.cloned().or_else(|| {
            old.iter()
                .max_by(|a, b| {
                    meta_str(a, "creationTimestamp").cmp(meta_str(b, "creationTimestamp"))
                })
                .cloned()
        }),
        1 => live.into_iter().next(),
        _ => None,
    }
}

fn saturated(d: &Value, rs: &Value) -> bool {
    let replicas = int(d, "/spec/replicas");
    annotation(rs, DESIRED_REPLICAS) == Some(replicas)
        && int(rs, "/spec/replicas") == replicas
        && int(rs, "/status/availableReplicas") == replicas
}

/// `getReplicaSetFraction`: how many replicas `rs` gains (or loses) for its share.
fn fraction(d: &Value, rs: &Value) -> i64 {
    let replicas = int(d, "/spec/replicas");
    let size = int(rs, "/spec/replicas");
    if replicas == 0 {
        return -size;
    }
    let max_now = replicas + fenceposts(d).0;
    let max_before = annotation(rs, MAX_REPLICAS)
        .filter(|m| *m != 0)
        .unwrap_or_else(|| int(d, "/status/replicas"));
    if max_before == 0 {
        return 0;
    }
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "replica counts are small; Go rounds the same float64 half away from zero"
    )]
    let scaled = ((size * max_now) as f64 / max_before as f64).round() as i64;
    scaled - size
}

/// `DeploymentController.scale`.
pub fn scale(world: &mut World, d: &Value, new: Option<&Value>, old: &[Value]) {
    let replicas = int(d, "/spec/replicas");
    if let Some(rs) = active_or_latest(new, old) {
        if int(&rs, "/spec/replicas") != replicas {
            scale_rs(world, d, &rs, replicas);
        }
        return;
    }
    if new.is_some_and(|n| saturated(d, n)) {
        for rs in active(old) {
            scale_rs(world, d, &rs, 0);
        }
        return;
    }
    if d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        return;
    }
    let mut all: Vec<Value> = old.to_vec();
    all.extend(new.cloned());
    let mut all = active(&all);
    let allowed = if replicas > 0 {
        replicas + fenceposts(d).0
    } else {
        0
    };
    let to_add = allowed - all.iter().map(|rs| int(rs, "/spec/replicas")).sum::<i64>();
    // Largest first; ties go to the newer when growing, to the older when shrinking.
    all.sort_by(|a, b| {
        let by_age = meta_str(a, "creationTimestamp").cmp(meta_str(b, "creationTimestamp"));
        int(b, "/spec/replicas")
            .cmp(&int(a, "/spec/replicas"))
            .then(if to_add > 0 { by_age.reverse() } else { by_age })
    });
    let mut added = 0;
    let mut sizes: Vec<i64> = all
        .iter()
        .map(|rs| {
            let size = int(rs, "/spec/replicas");
            if to_add == 0 || size == 0 || added == to_add {
                return size;
            }
            let allowed = to_add - added;
            let share = fraction(d, rs);
            let share = if to_add > 0 {
                share.min(allowed)
            } else {
                share.max(allowed)
            };
            added += share;
            size + share
        })
        .collect();
    if let Some(first) = sizes.first_mut() {
        *first = (*first + to_add - added).max(0);
    }
    for (rs, size) in all.iter().zip(sizes) {
        scale_rs(world, d, rs, size);
    }
}

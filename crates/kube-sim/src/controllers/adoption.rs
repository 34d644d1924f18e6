//! Adoption, after `ControllerRefManager.Claim*`: a controller takes as its own the orphans in
//! its namespace that its selector matches (a ReplicaSet left by `kubectl delete
//! --cascade=orphan` is adopted by the Deployment created again, not duplicated).

use serde_json::Value;

use super::owner_ref;
use crate::resources::Resource;
use crate::selectors::{LabelSelector, labels_of};
use crate::store::meta_str;
use crate::world::{World, controller_uid};

pub(super) fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// Sets `owner` (of `owner_resource`) as the controller of every orphan `dependent` it selects.
pub fn adopt_orphans(
    world: &mut World,
    owner_resource: Resource,
    owner: &Value,
    dependent: Resource,
) {
    if deleting(owner) {
        return;
    }
    let selector = owner
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(Value::Null);
    let selector = LabelSelector::from_label_selector(&selector);
    if selector.is_empty() {
        return;
    }
    let namespace = meta_str(owner, "namespace").to_owned();
    let orphans: Vec<Value> = world
        .store
        .list(dependent, Some(&namespace))
        .into_iter()
        .filter(|o| {
            controller_uid(o).is_none() && !deleting(o) && selector.matches_labels(&labels_of(o))
        })
        .cloned()
        .collect();
    for mut orphan in orphans {
        let mut refs = orphan
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        refs.push(owner_ref(owner_resource, owner));
        orphan["metadata"]["ownerReferences"] = Value::Array(refs);
        let name = meta_str(&orphan, "name").to_owned();
        if let Err(e) = world.update(dependent, &namespace, &name, orphan, false, false) {
            tracing::debug!(error = %e, "adopting an orphan failed");
        }
    }
}

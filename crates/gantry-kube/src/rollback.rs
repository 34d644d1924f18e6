//! Rolling back to a recorded revision as a compare-and-swap: the pod template of the ReplicaSet
//! with that revision (without `pod-template-hash`) replaces the Deployment's, only while the
//! Deployment's pod template is still the one our write left (a scale is not someone else's
//! deploy), in a JSON patch whose `test` on `resourceVersion` fails if anything moved since the
//! read it was decided on. Only `spec.template` is replaced, so the scale is kept.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::deployment::{FIELD_MANAGER, image_of, read, revision as deployment_revision, selector};
use crate::error::Error;
use crate::rollout::{POD_TEMPLATE_HASH, REVISION_ANNOTATION};
use crate::target::Target;
use crate::watch::Expectation;

/// The annotation `kubectl rollout history` shows.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// What the rollback did.
#[derive(Debug, Clone)]
pub enum Rollback {
    /// The template of `revision` is back; `deployment` is the patched object.
    Applied { deployment: Box<Deployment> },
    /// Someone else changed the Deployment after our write; their change is kept.
    Refused { reason: String },
}

/// A revision to roll back to, and the image it runs in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    pub revision: i64,
    pub image: String,
}

/// Restores the pod template of `revision`, unless the Deployment's pod template is no longer the
/// one our write left (`ours.template`).
pub async fn rollback(
    client: &kube::Client,
    target: &Target,
    revision: i64,
    ours: &Expectation,
    change_cause: &str,
) -> Result<Rollback, Error> {
    let container = ours.container.as_str();
    let template = recorded_template(client, target, revision).await?;
    let api = target.api(client);
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let mut attempts = 0;
    loop {
        let current = read(client, target).await?;
        // An attempt whose answer was lost (a 5xx after the write) already rolled back.
        if attempts > 0
            && current.annotations().get(CHANGE_CAUSE).map(String::as_str) == Some(change_cause)
        {
            return Ok(Rollback::Applied {
                deployment: Box::new(current),
            });
        }
        if !ours.template_is_ours(&current) {
            let image = image_of(&current, container).unwrap_or_default();
            let cause = current
                .annotations()
                .get(CHANGE_CAUSE)
                .map(|cause| format!(", change-cause: {cause}"))
                .unwrap_or_default();
            return Ok(Rollback::Refused {
                reason: format!(
                    "someone else changed the deployment's pod template after our patch (container {container} runs {image}{cause})"
                ),
            });
        }
        let mut annotations = current.annotations().clone();
        annotations.insert(CHANGE_CAUSE.to_owned(), change_cause.to_owned());
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": current.metadata.resource_version},
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "add", "path": "/metadata/annotations", "value": annotations},
        ]))
        .expect("a valid JSON patch");
        match api
            .patch(&target.name, &params, &Patch::<()>::Json(patch))
            .await
        {
            Err(error) if crate::retry::is_transient(&error) && attempts < 3 => attempts += 1,
            Ok(deployment) => {
                return Ok(Rollback::Applied {
                    deployment: Box::new(deployment),
                });
            }
            // The object moved between our read and the patch: read again and decide again.
            Err(kube::Error::Api(status)) if matches!(status.code, 409 | 422) && attempts < 3 => {
                attempts += 1;
            }
            Err(source) => return Err(Error::api("roll back", target, source)),
        }
    }
}

/// The revision before the Deployment's current one that runs another image than `bad` in
/// `container`: what a re-run rolls back to after an interrupted deploy of `bad` (never the bad
/// revision itself, nor an older revision of the same image). `None` when the history has none.
pub async fn previous_revision(
    client: &kube::Client,
    target: &Target,
    container: &str,
    bad: &str,
) -> Result<Option<Restore>, Error> {
    let (deployment, replica_sets) = owned_replica_sets(client, target).await?;
    let current = deployment_revision(&deployment).unwrap_or(i64::MAX);
    Ok(replica_sets
        .iter()
        .filter_map(|rs| {
            let revision: i64 = rs.annotations().get(REVISION_ANNOTATION)?.parse().ok()?;
            let image = rs
                .spec
                .as_ref()?
                .template
                .as_ref()?
                .spec
                .as_ref()?
                .containers
                .iter()
                .find(|c| c.name == container)?
                .image
                .clone()?;
            (revision < current && image != bad).then_some(Restore { revision, image })
        })
        .max_by_key(|restore| restore.revision))
}

/// The Deployment and the ReplicaSets it owns (its revision history).
async fn owned_replica_sets(
    client: &kube::Client,
    target: &Target,
) -> Result<(Deployment, Vec<ReplicaSet>), Error> {
    let deployment = read(client, target).await?;
    let uid = deployment.metadata.uid.clone();
    let selector = selector(&deployment);
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &target.namespace);
    let params = ListParams::default().labels(&selector);
    let list = crate::retry::transient(|| api.list(&params))
        .await
        .map_err(|source| Error::api("list the replica sets of", target, source))?;
    let owned = list
        .items
        .into_iter()
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|owner| Some(&owner.uid) == uid.as_ref())
        })
        .collect();
    Ok((deployment, owned))
}

/// The pod template of the Deployment's ReplicaSet whose revision is `revision`, without the
/// `pod-template-hash` label (as `kubectl rollout undo` does).
async fn recorded_template(
    client: &kube::Client,
    target: &Target,
    revision: i64,
) -> Result<serde_json::Value, Error> {
    let (_, replica_sets) = owned_replica_sets(client, target).await?;
    let wanted = revision.to_string();
    let replica_set = replica_sets
        .into_iter()
        .find(|rs| rs.annotations().get(REVISION_ANNOTATION) == Some(&wanted))
        .ok_or_else(|| Error::RevisionGone {
            target: target.clone(),
            revision,
        })?;
    let mut template = replica_set
        .spec
        .and_then(|spec| spec.template)
        .ok_or_else(|| Error::RevisionGone {
            target: target.clone(),
            revision,
        })?;
    if let Some(labels) = template
        .metadata
        .as_mut()
        .and_then(|metadata| metadata.labels.as_mut())
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    Ok(serde_json::to_value(template).expect("a pod template serialises"))
}

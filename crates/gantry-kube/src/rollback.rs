//! Rolling back to a recorded revision as a compare-and-swap: the pod template of the ReplicaSet
//! with that revision (without `pod-template-hash`) replaces the Deployment's, in a JSON patch
//! whose `test` operations fail if anyone changed the Deployment since our own write.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::deployment::{FIELD_MANAGER, Target, image_of, read, selector};
use crate::error::Error;
use crate::rollout::{POD_TEMPLATE_HASH, REVISION_ANNOTATION};

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

/// Restores the pod template of `revision`, unless the Deployment's spec moved past
/// `our_generation` (the generation our own write produced).
pub async fn rollback(
    client: &kube::Client,
    target: &Target,
    revision: i64,
    our_generation: i64,
    container: &str,
    change_cause: &str,
) -> Result<Rollback, Error> {
    let template = recorded_template(client, target, revision).await?;
    let api = target.api(client);
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let mut attempts = 0;
    loop {
        let current = read(client, target).await?;
        let generation = current.metadata.generation.unwrap_or(0);
        // An attempt whose answer was lost (a 5xx after the write) already rolled back.
        if attempts > 0
            && current.annotations().get(CHANGE_CAUSE).map(String::as_str) == Some(change_cause)
        {
            return Ok(Rollback::Applied {
                deployment: Box::new(current),
            });
        }
        if generation != our_generation {
            let image = image_of(&current, container).unwrap_or_default();
            let cause = current
                .annotations()
                .get(CHANGE_CAUSE)
                .map(|cause| format!(", change-cause: {cause}"))
                .unwrap_or_default();
            return Ok(Rollback::Refused {
                reason: format!(
                    "someone else changed the deployment after our patch (generation {our_generation} is now {generation}; container {container} runs {image}{cause})"
                ),
            });
        }
        let mut annotations = current.annotations().clone();
        annotations.insert(CHANGE_CAUSE.to_owned(), change_cause.to_owned());
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": current.metadata.resource_version},
            {"op": "test", "path": "/metadata/generation", "value": our_generation},
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
            Err(source) => return Err(target.api_error("roll back", source)),
        }
    }
}

/// The pod template of the Deployment's ReplicaSet whose revision is `revision`, without the
/// `pod-template-hash` label (as `kubectl rollout undo` does).
async fn recorded_template(
    client: &kube::Client,
    target: &Target,
    revision: i64,
) -> Result<serde_json::Value, Error> {
    let deployment = read(client, target).await?;
    let uid = deployment.metadata.uid.clone();
    let selector = selector(&deployment);
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &target.namespace);
    let params = ListParams::default().labels(&selector);
    let list = crate::retry::transient(|| api.list(&params))
        .await
        .map_err(|source| target.api_error("list the replica sets of", source))?;
    let wanted = revision.to_string();
    let replica_set = list
        .items
        .into_iter()
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|owner| Some(&owner.uid) == uid.as_ref())
        })
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

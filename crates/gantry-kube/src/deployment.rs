//! One Deployment: reading it, its revision and containers, choosing the container to update, and
//! the one patch that sets the image and the annotations (or a server-side dry-run of it, or the
//! same change applied locally for a client-side dry-run).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::error::Error;
use crate::rollout::REVISION_ANNOTATION;
use crate::source::Source;
use crate::target::Target;

/// The field manager named in every write.
pub const FIELD_MANAGER: &str = "gantry-k8s-deploy";

/// Reads the Deployment; a missing one is [`Error::NotFound`].
pub async fn read(client: &kube::Client, target: &Target) -> Result<Deployment, Error> {
    let api = target.api(client);
    match crate::retry::transient(|| api.get_opt(&target.name)).await {
        Ok(Some(deployment)) => Ok(deployment),
        Ok(None) => Err(Error::NotFound {
            target: target.clone(),
        }),
        Err(source) => Err(Error::api("read", target, source)),
    }
}

/// Reads the Deployment and refuses a paused one.
pub async fn read_unpaused(client: &kube::Client, target: &Target) -> Result<Deployment, Error> {
    let deployment = read(client, target).await?;
    if deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.paused)
        .unwrap_or(false)
    {
        return Err(Error::Paused {
            target: target.clone(),
        });
    }
    Ok(deployment)
}

/// The `deployment.kubernetes.io/revision` annotation.
pub fn revision(deployment: &Deployment) -> Option<i64> {
    deployment
        .metadata
        .annotations
        .as_ref()?
        .get(REVISION_ANNOTATION)?
        .parse()
        .ok()
}

/// `(name, image)` of each container of the pod template, in order.
pub fn containers(deployment: &Deployment) -> Vec<(String, String)> {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .map(|pod| {
            pod.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// The Deployment's pod selector as a label selector string (`app=web,tier=front`).
pub fn selector(deployment: &Deployment) -> String {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.match_labels.as_ref())
        .map(|labels| {
            labels
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The image of one container.
pub fn image_of(deployment: &Deployment, container: &str) -> Option<String> {
    containers(deployment)
        .into_iter()
        .find(|(name, _)| name == container)
        .map(|(_, image)| image)
}

/// The repository part of an image reference: without `@digest` and without `:tag`.
pub fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// The container to update: the named one; else the only one; else the only one whose image
/// repository matches the target image's.
pub fn choose_container(
    deployment: &Deployment,
    target: &Target,
    wanted: Option<&str>,
    image: &str,
) -> Result<String, Error> {
    let all = containers(deployment);
    let available = all
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(wanted) = wanted {
        return all
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(name, _)| name.clone())
            .ok_or_else(|| Error::NoSuchContainer {
                target: target.clone(),
                container: wanted.to_owned(),
                available,
            });
    }
    if let [(only, _)] = all.as_slice() {
        return Ok(only.clone());
    }
    let repository = image_repository(image);
    let matching: Vec<&String> = all
        .iter()
        .filter(|(_, current)| image_repository(current) == repository)
        .map(|(name, _)| name)
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(Error::AmbiguousContainer {
            target: target.clone(),
            available,
            repository: repository.to_owned(),
            matching: matching.len(),
        }),
    }
}

/// The image change: one container, its new image, and annotations for the Deployment.
#[derive(Debug, Clone)]
pub struct ImageChange {
    pub container: String,
    pub image: String,
    pub annotations: BTreeMap<String, String>,
    /// The source of the change: recorded with it, and the write yields to a newer one.
    pub source: Option<Source>,
}

impl ImageChange {
    /// Every annotation the write sets: `annotations` and the source's.
    fn all_annotations(&self) -> BTreeMap<String, String> {
        let mut all = self.annotations.clone();
        if let Some(source) = &self.source {
            all.extend(source.annotations());
        }
        all
    }
}

/// What [`set_image`] did.
#[derive(Debug, Clone)]
pub enum Written {
    /// The Deployment as the server stored it (with `dry_run`: as it would store it).
    Applied(Box<Deployment>),
    /// The Deployment records a newer source than the change's; nothing was written.
    Superseded { live: Source },
}

/// Applies the change in one strategic-merge patch, guarded by the `resourceVersion` of `read`:
/// when only the status or the scale moved since, the patch is retried on the fresh version; when
/// the pod template moved, it is refused with [`Error::Changed`]. A Deployment that records a
/// newer source than the change's (read before each attempt, so a writer racing between our read
/// and our write is seen on the re-read its 409 causes) is left alone: [`Written::Superseded`].
/// With `dry_run`, the server only validates the patch.
pub async fn set_image(
    client: &kube::Client,
    target: &Target,
    read: &Deployment,
    change: &ImageChange,
    dry_run: bool,
) -> Result<Written, Error> {
    let api = target.api(client);
    let params = PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let annotations = change.all_annotations();
    let mut current = read.clone();
    let mut attempts = 0;
    loop {
        if let Some(ours) = &change.source
            && let Some(live) = ours.newer_on(&current, target)?
        {
            return Ok(Written::Superseded { live });
        }
        // A scale moves the generation, not the template: only a template change is someone
        // else's deploy.
        if template(&current) != template(read) {
            return Err(Error::Changed {
                target: target.clone(),
                detail: format!(
                    "its pod template changed (container {} now runs {})",
                    change.container,
                    image_of(&current, &change.container).unwrap_or_default()
                ),
            });
        }
        let patch = json!({
            "metadata": {
                "resourceVersion": current.metadata.resource_version,
                "annotations": annotations,
            },
            "spec": {"template": {"spec": {"containers": [
                {"name": change.container, "image": change.image}
            ]}}},
        });
        // Repeating the patch is safe: its resourceVersion makes a second application a 409.
        let patch = Patch::Strategic(&patch);
        let result = crate::retry::transient(|| api.patch(&target.name, &params, &patch)).await;
        match result {
            Ok(patched) => return Ok(Written::Applied(Box::new(patched))),
            Err(kube::Error::Api(status)) if status.code == 409 && attempts < 3 => {
                attempts += 1;
                let fresh = read_unpaused(client, target).await?;
                // An attempt whose answer was lost (a 5xx after the write) already applied it.
                if !dry_run && applied(&fresh, change) {
                    return Ok(Written::Applied(Box::new(fresh)));
                }
                current = fresh;
            }
            Err(source) => {
                let action = if dry_run {
                    "dry-run the patch of"
                } else {
                    "patch"
                };
                return Err(Error::api(action, target, source));
            }
        }
    }
}

fn template(deployment: &Deployment) -> Option<&PodTemplateSpec> {
    deployment.spec.as_ref().map(|spec| &spec.template)
}

/// The Deployment as [`set_image`]'s patch would leave it, computed locally (for a client-side
/// dry-run): the container's image and the annotations set, nothing else. What the server would
/// add (admission, defaulting, validation) is not in it.
pub fn with_change(deployment: &Deployment, change: &ImageChange) -> Deployment {
    let mut changed = deployment.clone();
    if let Some(pod) = changed
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        for container in &mut pod.containers {
            if container.name == change.container {
                container.image = Some(change.image.clone());
            }
        }
    }
    changed
        .metadata
        .annotations
        .get_or_insert_default()
        .extend(change.all_annotations());
    changed
}

/// Whether the Deployment already carries the change (image and annotations).
fn applied(deployment: &Deployment, change: &ImageChange) -> bool {
    image_of(deployment, &change.container).as_ref() == Some(&change.image)
        && with_change(deployment, change).metadata.annotations == deployment.metadata.annotations
}

/// One field that a patch changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The container images and Deployment annotations that differ between two versions.
pub fn changes(before: &Deployment, after: &Deployment) -> Vec<Change> {
    let mut changes = Vec::new();
    let old = containers(before);
    for (name, image) in containers(after) {
        let previous = old.iter().find(|(n, _)| *n == name).map(|(_, i)| i.clone());
        if previous.as_ref() != Some(&image) {
            changes.push(Change {
                field: format!("spec.template.spec.containers[{name}].image"),
                before: previous,
                after: Some(image),
            });
        }
    }
    let empty = BTreeMap::new();
    let old = before.metadata.annotations.as_ref().unwrap_or(&empty);
    let new = after.metadata.annotations.as_ref().unwrap_or(&empty);
    for key in old
        .keys()
        .chain(new.keys().filter(|key| !old.contains_key(*key)))
    {
        if old.get(key) != new.get(key) {
            changes.push(Change {
                field: format!("metadata.annotations[{key}]"),
                before: old.get(key).cloned(),
                after: new.get(key).cloned(),
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(containers: &[(&str, &str)]) -> Deployment {
        let containers: Vec<_> = containers
            .iter()
            .map(|(name, image)| json!({"name": name, "image": image}))
            .collect();
        serde_json::from_value(json!({
            "metadata": {"name": "web", "annotations": {REVISION_ANNOTATION: "4"}},
            "spec": {"selector": {}, "template": {"spec": {"containers": containers}}},
        }))
        .unwrap()
    }

    fn target() -> Target {
        Target {
            namespace: "prod".to_owned(),
            name: "web".to_owned(),
        }
    }

    #[test]
    fn repositories_ignore_tags_digests_and_registry_ports() {
        assert_eq!(
            image_repository("registry:5000/team/app:1.2"),
            "registry:5000/team/app"
        );
        assert_eq!(
            image_repository("registry:5000/team/app"),
            "registry:5000/team/app"
        );
        assert_eq!(image_repository("app@sha256:abc"), "app");
        assert_eq!(image_repository("app:1@sha256:abc"), "app");
    }

    #[test]
    fn the_container_is_named_single_or_matched_by_repository() {
        let one = deployment(&[("app", "r/app:1")]);
        assert_eq!(
            choose_container(&one, &target(), None, "x/y:2").unwrap(),
            "app"
        );
        let two = deployment(&[("app", "r/app:1"), ("proxy", "r/envoy:1")]);
        assert_eq!(
            choose_container(&two, &target(), None, "r/app:2").unwrap(),
            "app"
        );
        assert_eq!(
            choose_container(&two, &target(), Some("proxy"), "r/app:2").unwrap(),
            "proxy"
        );
        let error = choose_container(&two, &target(), None, "r/other:2").unwrap_err();
        assert_eq!(
            error.to_string(),
            "deployment prod/web has several containers (app, proxy) and 0 of them run `r/other`; set `container`"
        );
        let error = choose_container(&two, &target(), Some("nope"), "r/app:2").unwrap_err();
        assert_eq!(
            error.to_string(),
            "deployment prod/web has no container named `nope` (it has: app, proxy)"
        );
        assert_eq!(revision(&two), Some(4));
    }

    #[test]
    fn changes_list_images_and_annotations() {
        let before = deployment(&[("app", "r/app:1"), ("proxy", "r/envoy:1")]);
        let mut after = deployment(&[("app", "r/app:2"), ("proxy", "r/envoy:1")]);
        after
            .metadata
            .annotations
            .get_or_insert_default()
            .insert("kubernetes.io/change-cause".to_owned(), "deploy".to_owned());
        let fields: Vec<_> = changes(&before, &after)
            .into_iter()
            .map(|change| change.field)
            .collect();
        assert_eq!(
            fields,
            [
                "spec.template.spec.containers[app].image",
                "metadata.annotations[kubernetes.io/change-cause]"
            ]
        );
    }
}

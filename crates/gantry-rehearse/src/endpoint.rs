//! The deployed service as auto-deploy's verification sees it: a small HTTP endpoint that answers
//! `{"version": …}` with the image tag the Deployment's ready pods run, read from kube-sim, so the
//! verification checks the cluster and not the landing zone. While the ready pods disagree (a
//! rollout in progress) or none is ready it answers 503, which auto-deploy retries.

use std::sync::Arc;

use axum::http::StatusCode;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube_sim::KubeSim;

/// A running endpoint; stops with its runtime.
pub struct Endpoint {
    pub url: String,
}

impl Endpoint {
    /// Serves `/version` for `namespace/deployment` of `cluster` on `runtime`.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        cluster: Arc<kube_sim::SimHandle>,
        namespace: &str,
        deployment: &str,
    ) -> anyhow::Result<Endpoint> {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}/version", listener.local_addr()?);
        let (namespace, deployment) = (namespace.to_owned(), deployment.to_owned());
        let app = axum::Router::new().route(
            "/version",
            axum::routing::get(move || {
                let answer = match served_version(&cluster, &namespace, &deployment) {
                    Ok(version) => (
                        StatusCode::OK,
                        serde_json::json!({ "version": version }).to_string(),
                    ),
                    Err(why) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        serde_json::json!({ "message": why }).to_string(),
                    ),
                };
                async move { answer }
            }),
        );
        runtime.spawn(async move { axum::serve(listener, app).await });
        Ok(Endpoint { url })
    }
}

/// The tag of the image every ready, not terminating pod of the Deployment runs.
pub fn served_version(
    cluster: &KubeSim,
    namespace: &str,
    deployment: &str,
) -> Result<String, String> {
    let selector = cluster
        .get::<Deployment>(namespace, deployment)
        .and_then(|d| d.spec)
        .and_then(|spec| spec.selector.match_labels)
        .ok_or_else(|| format!("no Deployment {namespace}/{deployment}"))?;
    let mut images: Vec<String> = cluster
        .list::<Pod>(Some(namespace))
        .into_iter()
        .filter(|pod| {
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            pod.metadata.deletion_timestamp.is_none()
                && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                && is_ready(pod)
        })
        .filter_map(|pod| {
            pod.spec
                .and_then(|spec| spec.containers.into_iter().next())
                .and_then(|container| container.image)
        })
        .collect();
    images.sort();
    images.dedup();
    match images.as_slice() {
        [] => Err("no ready pod".to_owned()),
        [image] => Ok(tag_of(image).to_owned()),
        several => Err(format!("ready pods run {}", several.join(", "))),
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// `registry:5000/app:1.4.0` → `1.4.0`; an image without a tag → the whole reference.
pub fn tag_of(image: &str) -> &str {
    let name_start = image.rfind('/').map_or(0, |slash| slash + 1);
    image[name_start..]
        .split_once(':')
        .map_or(image, |(_, tag)| tag)
}

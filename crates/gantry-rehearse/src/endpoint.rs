//! The deployed service as auto-deploy's verification sees it: a small HTTP endpoint that answers
//! `{"version": …}` with the image tag the Deployment's ready pods run, read from kube-sim, so the
//! verification checks the cluster and not the landing zone. While the ready pods disagree (a
//! rollout in progress) or none is ready it answers 503, which auto-deploy retries. It also
//! answers `/error-ratio/{namespace}/{deployment}` with the share of 5xx among what that
//! Deployment's pods have served (kube-sim's per-pod traffic, the exporter's data), which the
//! canary's HTTP-probe analysis measures without a Prometheus.

use std::sync::Arc;

use axum::http::StatusCode;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube_sim::KubeSim;

/// A running endpoint; stops with its runtime.
pub struct Endpoint {
    /// The `/version` URL auto-deploy verifies.
    pub url: String,
    /// `http://127.0.0.1:PORT`, the root of every route.
    pub base: String,
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
        let base = format!("http://{}", listener.local_addr()?);
        let (namespace, deployment) = (namespace.to_owned(), deployment.to_owned());
        let traffic = Arc::clone(&cluster);
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
        )
        .route(
            "/error-ratio/{namespace}/{deployment}",
            axum::routing::get(
                move |axum::extract::Path((namespace, deployment)): axum::extract::Path<(
                    String,
                    String,
                )>| {
                    let answer = match error_ratio(&traffic, &namespace, &deployment) {
                        Some(served) => (StatusCode::OK, served.to_string()),
                        None => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            serde_json::json!({ "message": format!("{namespace}/{deployment} has served nothing") })
                                .to_string(),
                        ),
                    };
                    async move { answer }
                },
            ),
        );
        runtime.spawn(async move { axum::serve(listener, app).await });
        Ok(Endpoint {
            url: format!("{base}/version"),
            base,
        })
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

/// `{"error_ratio", "errors", "requests"}` over every pod of `namespace/deployment` kube-sim has
/// seen serve; `None` before its first request.
pub fn error_ratio(
    cluster: &KubeSim,
    namespace: &str,
    deployment: &str,
) -> Option<serde_json::Value> {
    let (errors, requests) = cluster
        .with_world(kube_sim::world::World::traffic)
        .into_iter()
        .filter(|pod| pod.identity.namespace == namespace && pod.identity.deployment == deployment)
        .fold((0_u64, 0_u64), |(errors, requests), pod| {
            (errors + pod.errors, requests + pod.ok + pod.errors)
        });
    #[expect(
        clippy::cast_precision_loss,
        reason = "request counts are far below 2^52"
    )]
    let ratio = errors as f64 / requests as f64;
    (requests > 0).then(
        || serde_json::json!({ "error_ratio": ratio, "errors": errors, "requests": requests }),
    )
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

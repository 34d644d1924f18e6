//! kube-rs clients against the in-process simulator: typed CRUD, conflicts, patches, dry-run,
//! and `kube::runtime::watcher` (including recovery from closed streams and 410 Gone).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::Condition as _;
use kube::runtime::watcher;
use kube_sim::{Fault, KubeSim, Resource, Verb};

use crate::common::{deployment_yaml, start};

async fn client(sim: &KubeSim) -> kube::Client {
    let kc = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

fn image(d: &Deployment) -> String {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers[0].image.clone())
        .unwrap_or_default()
}

async fn rolled_out(sim: &KubeSim, ns: &str, name: &str) -> bool {
    sim.wait_until(Duration::from_secs(20), |s| {
        s.get::<Deployment>(ns, name).is_some_and(|d| {
            let st = d.status.unwrap_or_default();
            let want = d.spec.and_then(|s| s.replicas).unwrap_or(1);
            d.metadata.generation == st.observed_generation
                && st.updated_replicas == Some(want)
                && st.available_replicas == Some(want)
                && st.replicas == Some(want)
        })
    })
    .await
}

#[tokio::test]
async fn typed_crud_conflict_patch_and_dry_run() {
    let sim = start(
        50.0,
        &deployment_yaml("prod", "web", 2, "registry.example/app:1.0", ""),
    )
    .await;
    let client = client(&sim).await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "prod");
    let d = api.get("web").await.expect("get");
    assert_eq!(image(&d), "registry.example/app:1.0");
    assert_eq!(d.metadata.generation, Some(1));
    assert!(d.metadata.uid.is_some() && d.metadata.creation_timestamp.is_some());
    assert!(rolled_out(&sim, "prod", "web").await);

    let list = api
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    assert!(
        api.list(&ListParams::default().labels("app=other"))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    let by_field = api
        .list(&ListParams::default().fields("metadata.name=web"))
        .await
        .expect("list");
    assert_eq!(by_field.items.len(), 1);

    // A stale resourceVersion gets 409 Conflict.
    let stale = api.get("web").await.expect("get");
    let mut fresh = stale.clone();
    fresh.spec.as_mut().expect("spec").replicas = Some(3);
    let replaced = api
        .replace("web", &PostParams::default(), &fresh)
        .await
        .expect("replace");
    assert_eq!(
        replaced.metadata.generation,
        Some(2),
        "spec change bumps generation"
    );
    let mut old = stale;
    old.spec.as_mut().expect("spec").replicas = Some(4);
    let err = api
        .replace("web", &PostParams::default(), &old)
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
            assert!(
                s.message.contains("the object has been modified"),
                "{}",
                s.message
            );
        }
        other => panic!("expected a 409, got {other:?}"),
    }

    // Strategic merge (as `kubectl set image`), dry-run first.
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:1.1"}]}}}});
    let dry = api
        .patch(
            "web",
            &PatchParams {
                dry_run: true,
                ..PatchParams::default()
            },
            &Patch::Strategic(&patch),
        )
        .await
        .expect("dry-run patch");
    assert_eq!(image(&dry), "registry.example/app:1.1");
    assert_eq!(
        image(&api.get("web").await.expect("get")),
        "registry.example/app:1.0",
        "dry-run stores nothing"
    );
    let done = api
        .patch("web", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    assert_eq!(image(&done), "registry.example/app:1.1");
    assert!(rolled_out(&sim, "prod", "web").await);
    let rs: Api<ReplicaSet> = Api::namespaced(client.clone(), "prod");
    let mut revisions: Vec<String> = rs
        .list(&ListParams::default())
        .await
        .expect("rs list")
        .items
        .iter()
        .filter_map(|r| {
            r.metadata
                .annotations
                .as_ref()?
                .get("deployment.kubernetes.io/revision")
                .cloned()
        })
        .collect();
    revisions.sort();
    assert_eq!(revisions, vec!["1", "2"]);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "prod");
    let mut pods = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("pods");
    // Old pods may still be Terminating right after the rollout, as on a real cluster.
    pods.items
        .retain(|p| p.metadata.deletion_timestamp.is_none());
    assert_eq!(pods.items.len(), 3);
    for p in &pods.items {
        let cs = &p
            .status
            .as_ref()
            .expect("status")
            .container_statuses
            .as_ref()
            .expect("container statuses")[0];
        assert!(cs.ready);
        assert!(cs.image_id.contains("@sha256:"), "{}", cs.image_id);
    }
    let events: Api<Event> = Api::namespaced(client, "prod");
    let events = events.list(&ListParams::default()).await.expect("events");
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
    );
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Started"))
    );
}

#[tokio::test]
async fn watcher_sees_rollouts_and_survives_closed_streams_and_410() {
    let sim = start(
        50.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    )
    .await;
    let client = client(&sim).await;
    let api: Api<Deployment> = Api::namespaced(client, "prod");
    // Every watch closes after two events, and the first resume is told 410 Gone.
    sim.add_fault(Fault::watch_close_after(2).times(3));
    sim.add_fault(Fault::watch_gone().times(1));
    let stream = watcher(api.clone(), watcher::Config::default()).boxed();
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:1.5"}]}}}});
    api.patch("web", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        let mut stream = stream;
        while let Some(ev) = stream.try_next().await.transpose() {
            if let Ok(watcher::Event::Apply(d) | watcher::Event::InitApply(d)) = ev {
                let st = d.status.clone().unwrap_or_default();
                if image(&d) == "registry.example/app:1.5"
                    && st.updated_replicas == Some(1)
                    && st.available_replicas == Some(1)
                    && st.replicas == Some(1)
                {
                    return true;
                }
            }
        }
        false
    })
    .await
    .expect("watcher reaches the rolled-out state in time");
    assert!(seen);
    assert!(
        sim.count_requests(Verb::Watch, Some(Resource::Deployments)) >= 2,
        "the watcher had to re-watch"
    );
    assert!(sim.count_requests(Verb::List, Some(Resource::Deployments)) >= 1);
}

#[tokio::test]
async fn kube_runtime_await_condition_agrees_on_completion() {
    let sim = start(
        50.0,
        &deployment_yaml("prod", "web", 3, "registry.example/app:1.0", ""),
    )
    .await;
    let api: Api<Deployment> = Api::namespaced(client(&sim).await, "prod");
    let done = kube::runtime::wait::await_condition(
        api.clone(),
        "web",
        kube::runtime::wait::conditions::is_deployment_completed(),
    );
    let d = tokio::time::timeout(Duration::from_secs(20), done)
        .await
        .expect("completes in time")
        .expect("watch works")
        .expect("exists");
    assert_eq!(d.status.and_then(|s| s.available_replicas), Some(3));
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:nope"}]}}}});
    api.patch("web", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    let d = api.get("web").await.expect("get");
    assert!(
        !kube::runtime::wait::conditions::is_deployment_completed().matches_object(Some(&d)),
        "a bad image never completes"
    );
}

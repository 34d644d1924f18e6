//! Rollback goes to the recorded revision (not "the previous one") and never overwrites a change
//! made by someone else after our own write.

use std::time::Duration;

use gantry_kube::Target;
use gantry_kube::deployment::{self, ImageChange};
use gantry_kube::rollback::{Restore, Rollback, previous_revision, rollback};
use gantry_kube::watch::Expectation;
use k8s_openapi::api::apps::v1::Deployment;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_sim::{Config, ImageCatalogue, ImageSpec, KubeSim};

const MANIFESTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: 'app:1.0'}]
";

fn target() -> Target {
    Target {
        namespace: "default".to_owned(),
        name: "web".to_owned(),
    }
}

async fn start() -> (KubeSim, kube::Client) {
    let sim = KubeSim::start(Config {
        time_scale: 50.0,
        images: ImageCatalogue::new(vec![ImageSpec::ok("app:*")]),
        manifests: MANIFESTS.to_owned(),
        ..Config::default()
    })
    .await
    .expect("simulator starts");
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = gantry_kube::client(config).unwrap();
    (sim, client)
}

/// Sets the image as we would and waits until the controller has given it a revision.
async fn deploy(sim: &KubeSim, client: &kube::Client, image: &str) -> Deployment {
    let read = deployment::read_unpaused(client, &target()).await.unwrap();
    let change = ImageChange {
        container: "app".to_owned(),
        image: image.to_owned(),
        annotations: std::collections::BTreeMap::new(),
    };
    let written = deployment::set_image(client, &target(), &read, &change, false)
        .await
        .unwrap();
    let generation = written.metadata.generation;
    assert!(
        sim.wait_until(Duration::from_secs(10), |sim| {
            sim.get::<Deployment>("default", "web")
                .is_some_and(|d| d.status.and_then(|s| s.observed_generation) == generation)
        })
        .await
    );
    written
}

fn image(sim: &KubeSim) -> String {
    let d = sim.get::<Deployment>("default", "web").unwrap();
    deployment::image_of(&d, "app").unwrap()
}

#[tokio::test]
async fn the_recorded_revision_is_restored_not_the_previous_one() {
    let (sim, client) = start().await;
    deploy(&sim, &client, "app:1.1").await;
    let ours = deploy(&sim, &client, "app:1.2").await;
    // `kubectl rollout undo` would go to revision 2 (app:1.1); we recorded revision 1.
    let result = rollback(
        &client,
        &target(),
        1,
        &Expectation::after(&ours, "app", "unused"),
        "test rollback",
    )
    .await
    .unwrap();
    let Rollback::Applied { deployment } = result else {
        panic!("not applied: {result:?}");
    };
    assert_eq!(deployment::image_of(&deployment, "app").unwrap(), "app:1.0");
    assert_eq!(image(&sim), "app:1.0");
    let labels = deployment
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .labels
        .unwrap();
    assert!(!labels.contains_key("pod-template-hash"), "{labels:?}");
}

#[tokio::test]
async fn someone_elses_later_change_is_kept() {
    let (sim, client) = start().await;
    let ours = deploy(&sim, &client, "app:1.1").await;
    // Someone else deploys after us.
    deploy(&sim, &client, "app:1.3").await;
    let result = rollback(
        &client,
        &target(),
        1,
        &Expectation::after(&ours, "app", "unused"),
        "test rollback",
    )
    .await
    .unwrap();
    let Rollback::Refused { reason } = result else {
        panic!("rolled back over someone else's change");
    };
    assert_eq!(
        reason,
        "someone else changed the deployment's pod template after our patch (container app runs app:1.3)"
    );
    assert_eq!(image(&sim), "app:1.3");
}

#[tokio::test]
async fn a_revision_that_no_longer_exists_is_an_error() {
    let (sim, client) = start().await;
    let ours = deploy(&sim, &client, "app:1.1").await;
    let error = rollback(
        &client,
        &target(),
        7,
        &Expectation::after(&ours, "app", "unused"),
        "test rollback",
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "deployment default/web has no ReplicaSet for revision 7 to roll back to"
    );
    assert_eq!(image(&sim), "app:1.1");
}

#[tokio::test]
async fn a_scale_after_our_patch_is_not_someone_elses_deploy_and_is_kept() {
    let (sim, client) = start().await;
    let ours = deploy(&sim, &client, "app:1.1").await;
    // `kubectl scale`: the generation moves, the pod template does not.
    let api = target().api(&client);
    let scale = serde_json::json!({"spec": {"replicas": 5}});
    api.patch(
        "web",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&scale),
    )
    .await
    .unwrap();
    let result = rollback(
        &client,
        &target(),
        1,
        &Expectation::after(&ours, "app", "app:1.1"),
        "test rollback",
    )
    .await
    .unwrap();
    let Rollback::Applied { deployment } = result else {
        panic!("a scale stopped the rollback: {result:?}");
    };
    assert_eq!(deployment::image_of(&deployment, "app").unwrap(), "app:1.0");
    assert_eq!(deployment.spec.unwrap().replicas, Some(5));
}

#[tokio::test]
async fn the_previous_revision_skips_the_bad_image() {
    let (sim, client) = start().await;
    deploy(&sim, &client, "app:1.1").await;
    deploy(&sim, &client, "app:1.2").await;
    let previous = previous_revision(&client, &target(), "app", "app:1.2")
        .await
        .unwrap();
    assert_eq!(
        previous,
        Some(Restore {
            revision: 2,
            image: "app:1.1".to_owned()
        })
    );
    // Not the current (bad) revision, and nothing older than the first.
    let (_fresh, fresh_client) = start().await;
    assert_eq!(
        previous_revision(&fresh_client, &target(), "app", "app:1.0")
            .await
            .unwrap(),
        None
    );
}

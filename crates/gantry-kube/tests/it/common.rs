//! A simulated cluster with one Deployment `default/web` (image `app:1.0`), a client for it, and
//! the image write as k8s-deploy makes it.

use std::time::Duration;

use gantry_kube::deployment::{self, ImageChange, Written};
use gantry_kube::rollback::{Rollback, rollback};
use gantry_kube::source::Source;
use gantry_kube::watch::Expectation;
use gantry_kube::{Error, Target};
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

pub fn target() -> Target {
    Target {
        namespace: "default".to_owned(),
        name: "web".to_owned(),
    }
}

pub async fn start() -> (KubeSim, kube::Client) {
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
pub async fn deploy(sim: &KubeSim, client: &kube::Client, image: &str) -> Deployment {
    deploy_from(sim, client, image, None).await
}

/// As [`deploy`], recording `source`.
pub async fn deploy_from(
    sim: &KubeSim,
    client: &kube::Client,
    image: &str,
    source: Option<Source>,
) -> Deployment {
    let read = deployment::read_unpaused(client, &target()).await.unwrap();
    let change = ImageChange {
        container: "app".to_owned(),
        image: image.to_owned(),
        annotations: std::collections::BTreeMap::new(),
        source,
    };
    let written = deployment::set_image(client, &target(), &read, &change, false).await;
    let Ok(Written::Applied(written)) = written else {
        panic!("not written: {written:?}");
    };
    let generation = written.metadata.generation;
    assert!(
        sim.wait_until(Duration::from_secs(10), |sim| {
            sim.get::<Deployment>("default", "web")
                .is_some_and(|d| d.status.and_then(|s| s.observed_generation) == generation)
        })
        .await
    );
    *written
}

pub fn image(sim: &KubeSim) -> String {
    let d = sim.get::<Deployment>("default", "web").unwrap();
    deployment::image_of(&d, "app").unwrap()
}

/// Rolls back to `revision` as k8s-deploy does after its write `ours` of `image`.
pub async fn roll_back(
    client: &kube::Client,
    revision: i64,
    ours: &Deployment,
    image: &str,
) -> Result<Rollback, Error> {
    let expect = Expectation::after(ours, "app", image);
    rollback(client, &target(), revision, &expect, "test rollback").await
}

//! A simulated cluster with one rolled-out Deployment, and a way to run the action against it.

use std::time::Duration;

use gantry_testkit::{ActionRun, Transcript};
use k8s_openapi::api::apps::v1::Deployment;
use kube_sim::{Action, Config, ImageCatalogue, ImageSpec, KubeSim, Resource, SimHandle, Trigger};

pub const NAMESPACE: &str = "prod";
pub const DEPLOYMENT: &str = "web";
pub const GOOD: &str = "registry.example/app:1.0";
pub const NEXT: &str = "registry.example/app:1.1";
pub const OTHER: &str = "registry.example/app:1.2";
pub const UNPULLABLE: &str = "registry.example/app:missing";
pub const CRASHING: &str = "registry.example/app:crash";
pub const NEVER_READY: &str = "registry.example/app:never-ready";
/// The kubeconfig's bearer token; a canary that must never appear in what the step shows.
pub const TOKEN: &str = "kube-CANARY-token-5f3c9a";

/// Simulated seconds per real second: a 2 s image start takes 50 ms, a 100 s deadline 2.5 s.
const TIME_SCALE: f64 = 40.0;

pub fn manifests(extra_spec: &str, extra_container: &str) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {DEPLOYMENT}
  namespace: {NAMESPACE}
  labels: {{app: {DEPLOYMENT}}}
spec:
  replicas: 2
  progressDeadlineSeconds: 100
{extra_spec}  selector:
    matchLabels: {{app: {DEPLOYMENT}}}
  template:
    metadata:
      labels: {{app: {DEPLOYMENT}}}
    spec:
      containers:
      - name: app
        image: {GOOD}
{extra_container}"
    )
}

pub fn images() -> ImageCatalogue {
    ImageCatalogue::new(vec![
        ImageSpec::crashing(CRASHING),
        ImageSpec::ok(NEVER_READY).ready_after(Duration::from_secs(100_000)),
        ImageSpec::ok("registry.example/app:1.*"),
    ])
}

/// A simulator whose Deployment `prod/web` has rolled out `GOOD` (revision 1).
pub fn sim() -> SimHandle {
    sim_with("", "")
}

/// As [`sim`], with extra lines in the Deployment's spec (indented by two spaces) and in its
/// container (indented by eight).
pub fn sim_with(extra_spec: &str, extra_container: &str) -> SimHandle {
    sim_of(
        manifests(extra_spec, extra_container),
        !extra_spec.contains("paused"),
    )
}

/// A simulator holding `manifests` (which define `prod/web`), once `web` has rolled out when
/// `wait` says so.
pub fn sim_of(manifests: String, wait: bool) -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: TIME_SCALE,
        images: images(),
        manifests,
        token: TOKEN.to_owned(),
        ..Config::default()
    })
    .expect("simulator starts");
    if wait {
        assert!(
            sim.wait_until_blocking(Duration::from_secs(20), rolled_out),
            "the initial rollout finishes"
        );
    }
    sim
}

pub fn rolled_out(sim: &KubeSim) -> bool {
    deployment(sim).status.is_some_and(|status| {
        status.available_replicas == Some(2) && status.updated_replicas == Some(2)
    })
}

pub fn deployment(sim: &KubeSim) -> Deployment {
    sim.get::<Deployment>(NAMESPACE, DEPLOYMENT)
        .expect("the deployment exists")
}

/// The image of the Deployment's container.
pub fn image(sim: &KubeSim) -> String {
    deployment(sim)
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers[0]
        .image
        .clone()
        .unwrap()
}

/// The action deploying `image` to `prod/web`, on a push.
pub fn action(sim: &KubeSim, image: &str) -> ActionRun {
    ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .env("GITHUB_REPOSITORY", "acme/service")
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_REF_NAME", "v1.1.0")
        .event("push", &serde_json::json!({}))
        .input("kubeconfig", sim.kubeconfig_yaml())
        .input("namespace", NAMESPACE)
        .input("deployment", DEPLOYMENT)
        .input("image", image)
        .input("timeout", "60s")
        // Recording is tested in record.rs, with a GitHub.
        .input("record-deployment", "false")
}

/// Asserts the exit code and that the token never shows.
pub fn assert_exit(run: &Transcript, code: i32) {
    assert_eq!(run.code, code, "{}", run.render());
    run.assert_never_shows(TOKEN);
}

/// Someone else's (or an interrupted run's) write: a JSON merge patch to the Deployment, now.
pub fn patch_deployment(sim: &KubeSim, patch: serde_json::Value) {
    sim.schedule(
        Trigger::After(Duration::ZERO),
        Action::MergePatch {
            resource: Resource::Deployments,
            namespace: NAMESPACE.to_owned(),
            name: DEPLOYMENT.to_owned(),
            patch,
        },
    );
    sim.settle();
}

/// `kubectl scale deployment/web --replicas=<replicas>`.
pub fn scale(sim: &KubeSim, replicas: i32) {
    patch_deployment(sim, serde_json::json!({"spec": {"replicas": replicas}}));
}

pub fn replicas(sim: &KubeSim) -> Option<i32> {
    deployment(sim).spec.and_then(|spec| spec.replicas)
}

/// The `run:` line of the generated `action.yml`.
pub fn generated_run_line() -> String {
    gantry_testkit::generated_run_line("k8s-deploy")
}

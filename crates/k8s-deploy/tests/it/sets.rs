//! Several Deployments sharing one image, rolled out as one set: named in the env file (without
//! `export`, with its own version key) or the `deployment` input, each with its container; a
//! multi-container Deployment changes only its app container, never the init container or the
//! sidecar; a failure of one rolls every Deployment back; a newer source on one leaves the whole
//! set alone; a dry-run covers every Deployment.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube_sim::{
    Action, Config, ImageCatalogue, ImageSpec, KubeSim, Resource, SimHandle, Trigger, Verb,
};
use serde_json::{Value, json};

use crate::common::{GOOD, NEXT, TOKEN, UNPULLABLE, assert_exit};

const ENVOY: &str = "registry.example/envoy:1.30";

/// `prod/api-web` (init container `migrate` and sidecar `proxy` around `app`) and `prod/api-grpc`
/// (container `server`, with `grpc_extra` lines in it), both rolled out with `GOOD`.
fn set(grpc_extra: &str) -> SimHandle {
    let manifests = format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: prod}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api-web, namespace: prod}}
spec:
  replicas: 2
  progressDeadlineSeconds: 100
  selector: {{matchLabels: {{app: api-web}}}}
  template:
    metadata: {{labels: {{app: api-web}}}}
    spec:
      initContainers:
      - {{name: migrate, image: \"{GOOD}\"}}
      containers:
      - {{name: proxy, image: \"{ENVOY}\"}}
      - {{name: app, image: \"{GOOD}\"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api-grpc, namespace: prod}}
spec:
  replicas: 2
  progressDeadlineSeconds: 100
  strategy: {{rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}
  selector: {{matchLabels: {{app: api-grpc}}}}
  template:
    metadata: {{labels: {{app: api-grpc}}}}
    spec:
      containers:
      - name: server
        image: \"{GOOD}\"
{grpc_extra}"
    );
    let sim = KubeSim::spawn(Config {
        time_scale: 40.0,
        images: ImageCatalogue::new(vec![
            ImageSpec::ok("registry.example/app:1.*"),
            ImageSpec::ok("registry.example/envoy:*"),
        ]),
        manifests,
        token: TOKEN.to_owned(),
        ..Config::default()
    })
    .expect("simulator starts");
    let rolled_out = |sim: &KubeSim| {
        ["api-web", "api-grpc"].iter().all(|name| {
            sim.get::<Deployment>("prod", name)
                .and_then(|d| d.status)
                .is_some_and(|s| s.available_replicas == Some(2) && s.updated_replicas == Some(2))
        })
    };
    assert!(sim.wait_until_blocking(Duration::from_secs(20), rolled_out));
    sim
}

/// `(init containers, containers)` of a Deployment as `name=image`.
fn images_of(sim: &KubeSim, name: &str) -> (Vec<String>, Vec<String>) {
    let pod = sim
        .get::<Deployment>("prod", name)
        .unwrap()
        .spec
        .unwrap()
        .template
        .spec
        .unwrap();
    let list = |containers: &[k8s_openapi::api::core::v1::Container]| {
        containers
            .iter()
            .map(|c| format!("{}={}", c.name, c.image.clone().unwrap_or_default()))
            .collect()
    };
    (
        list(pod.init_containers.as_deref().unwrap_or_default()),
        list(&pod.containers),
    )
}

fn env_file(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("prod.env");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The action with a kubeconfig only; the rest from `with`.
fn action(sim: &KubeSim) -> gantry_testkit::ActionRun {
    gantry_testkit::ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .env("GITHUB_REPOSITORY", "acme/service")
        .env("GITHUB_RUN_ID", "4242")
        .event("push", &json!({}))
        .input("kubeconfig", sim.kubeconfig_yaml())
        .input("timeout", "60s")
        // Recording is tested in record.rs, with a GitHub.
        .input("record-deployment", "false")
}

fn deployments(run: &gantry_testkit::Transcript) -> Vec<Value> {
    serde_json::from_str::<Value>(run.output("deployments"))
        .expect("deployments is JSON")
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn an_env_file_rolls_one_image_out_to_several_deployments_and_only_their_app_containers() {
    let sim = set("");
    let dir = tempfile::tempdir().unwrap();
    // No `export`, the version under IMAGE_TAG, the namespace and the set in the file.
    let path = env_file(
        &dir,
        "# prod\nIMAGE_NAME=registry.example/app\nIMAGE_TAG=1.1\nNAMESPACE=prod\nDEPLOYMENTS=api-web, api-grpc:server\n",
    );
    let run = action(&sim)
        .input("env-file", &path)
        .input("version-key", "IMAGE_TAG")
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(run.output("image"), NEXT);
    assert_eq!(run.output("previous-image"), GOOD);
    assert_eq!(
        images_of(&sim, "api-web"),
        (
            vec![format!("migrate={GOOD}")],
            vec![format!("proxy={ENVOY}"), format!("app={NEXT}")]
        ),
        "the init container and the sidecar are untouched"
    );
    assert_eq!(
        images_of(&sim, "api-grpc"),
        (vec![], vec![format!("server={NEXT}")])
    );
    let results = deployments(&run);
    assert_eq!(
        results
            .iter()
            .map(|d| (
                d["name"].clone(),
                d["container"].clone(),
                d["result"].clone()
            ))
            .collect::<Vec<_>>(),
        [
            (json!("api-web"), json!("app"), json!("deployed")),
            (json!("api-grpc"), json!("server"), json!("deployed")),
        ]
    );
    assert!(
        results
            .iter()
            .all(|d| d["image-digest"].as_str().unwrap().starts_with("sha256:")),
        "{results:?}"
    );
    assert!(
        run.stdout.contains("Deployment prod/api-web: revision 1, resourceVersion ") && run.stdout.contains(&format!(
            "container app runs {GOOD} (left unchanged: init container migrate, container proxy)"
        )),
        "{}",
        run.render()
    );
    assert!(run.summary.contains("### Deployments\n"), "{}", run.summary);
    assert!(
        run.summary
            .contains("| prod/api-web | app | deployed | `registry.example/app:1.0` | 2 |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| prod/api-grpc | server | deployed | `registry.example/app:1.0` | 2 |"),
        "{}",
        run.summary
    );
}

#[test]
fn a_failure_of_one_deployment_rolls_the_whole_set_back() {
    // api-grpc's surge pod does not fit on the node: 3 × 1500m > 4000m.
    let sim = set("        resources: {requests: {cpu: 1500m}}\n");
    let run = action(&sim)
        .input("namespace", "prod")
        .input("deployment", "api-web:app,api-grpc")
        .input("image", NEXT)
        .input("unschedulable-grace", "300ms")
        .run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(
        images_of(&sim, "api-web").1,
        [format!("proxy={ENVOY}"), format!("app={GOOD}")]
    );
    assert_eq!(images_of(&sim, "api-grpc").1, [format!("server={GOOD}")]);
    let results = deployments(&run);
    assert_eq!(results[0]["result"], "rolled-back", "{results:?}");
    assert_eq!(results[1]["result"], "rolled-back", "{results:?}");
    assert_eq!(results[1]["rollback-revision"], 1, "{results:?}");
    let reason = run.output("failure-reason");
    assert!(
        reason.contains("prod/api-web: prod/api-grpc failed, so the set is rolled back; rolled back to revision 1")
            && reason.contains("prod/api-grpc: pod ")
            && reason.contains("Insufficient cpu"),
        "{reason}"
    );
    // Each rollback is its own guarded patch.
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        4
    );
}

#[test]
fn a_newer_source_on_one_deployment_leaves_the_whole_set_alone() {
    let sim = set("");
    sim.schedule(
        Trigger::After(Duration::ZERO),
        Action::MergePatch {
            resource: Resource::Deployments,
            namespace: "prod".to_owned(),
            name: "api-grpc".to_owned(),
            patch: json!({"metadata": {"annotations": {
                "gantry.dev/source-sequence": "12",
                "gantry.dev/source-revision": "1111111111111111111111111111111111111111",
            }}}),
        },
    );
    sim.settle();
    let run = action(&sim)
        .input("namespace", "prod")
        .input("deployment", "api-web,api-grpc")
        .input("container", "app")
        .input("image", UNPULLABLE)
        .input("source-sequence", "11")
        .input(
            "source-revision",
            "2222222222222222222222222222222222222222",
        )
        .run();
    // `container: app` would not even fit api-grpc: nothing gets that far.
    assert_exit(&run, 2);
    let run = action(&sim)
        .input("namespace", "prod")
        .input("deployment", "api-web:app,api-grpc")
        .input("image", UNPULLABLE)
        .input("source-sequence", "11")
        .input(
            "source-revision",
            "2222222222222222222222222222222222222222",
        )
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "superseded", "{}", run.render());
    let results = deployments(&run);
    assert!(
        results.iter().all(|d| d["result"] == "superseded"),
        "{results:?}"
    );
    assert!(
        run.stdout.contains(
            "not deployed to prod/api-grpc: it records source sequence 12 (revision 1111111"
        ),
        "{}",
        run.render()
    );
    assert!(
        run.stdout
            .contains("nothing was changed in any of prod/api-web, prod/api-grpc"),
        "{}",
        run.render()
    );
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        0
    );
    assert_eq!(images_of(&sim, "api-web").1[1], format!("app={GOOD}"));
}

#[test]
fn a_dry_run_covers_every_deployment_and_changes_none() {
    let sim = set("");
    for mode in ["server", "client"] {
        let run = action(&sim)
            .input("namespace", "prod")
            .input("deployment", "api-web,api-grpc")
            .input("image", NEXT)
            .input("dry-run", mode)
            .run();
        assert_exit(&run, 0);
        assert_eq!(run.output("result"), "dry-run", "{}", run.render());
        let results = deployments(&run);
        assert!(
            results.iter().all(|d| d["result"] == "dry-run"),
            "{results:?}"
        );
        for (name, container) in [("api-web", "app"), ("api-grpc", "server")] {
            assert!(
                run.summary.contains(&format!(
                    "### What the deploy would change of prod/{name} ("
                )),
                "{}",
                run.summary
            );
            assert!(
                run.stdout.contains(&format!(
                    "  spec.template.spec.containers[{container}].image: {GOOD} -> {NEXT}\n"
                )),
                "{}",
                run.render()
            );
        }
    }
    assert_eq!(images_of(&sim, "api-grpc").1, [format!("server={GOOD}")]);
}

#[test]
fn a_bad_list_is_bad_input_naming_where_it_came_from() {
    let sim = set("");
    for (list, message) in [
        ("api-web,,api-grpc", "has an empty item"),
        ("api-web,api-web:app", "names `api-web` twice"),
        (
            "api-web:App",
            "`App` (after `api-web:`) is not a container name",
        ),
        ("Api", "`Api` is not a Deployment name"),
    ] {
        let run = action(&sim)
            .input("deployment", list)
            .input("image", NEXT)
            .run();
        assert_exit(&run, 2);
        assert!(
            run.errors()[0].starts_with("input `deployment`: "),
            "{}",
            run.render()
        );
        assert!(
            run.errors()[0].contains(message),
            "{list}: {}",
            run.render()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = env_file(
        &dir,
        "IMAGE_NAME=registry.example/app\nIMAGE_VERSION=1.1\nDEPLOYMENTS=api-web:\n",
    );
    let run = action(&sim).input("env-file", &path).run();
    assert_exit(&run, 2);
    assert!(
        run.errors()[0].starts_with(
            "input `env-file`: DEPLOYMENTS `` (after `api-web:`) is not a container name"
        ),
        "{}",
        run.render()
    );
    assert!(
        sim.requests().is_empty()
            || sim.count_requests(Verb::Patch, Some(Resource::Deployments)) == 0
    );
}

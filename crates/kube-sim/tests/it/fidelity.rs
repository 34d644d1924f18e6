//! Fidelity against recorded real objects: the references deserialise into the k8s-openapi types,
//! the `kubectl rollout status` vectors hold for our reading of the status fields, and the
//! simulator's objects for the same states carry the same fields as the recorded ones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube_sim::Resource;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::{deployment_yaml, rollout_status, start};

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/kubernetes")
}

fn docs(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).expect("yaml"))
        .filter(|v| !v.is_null())
        .collect()
}

fn typed(v: &Value) -> Result<(), String> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    fn de<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    match v["kind"].as_str().unwrap_or_default() {
        "Deployment" => de::<apps::Deployment>(v),
        "ReplicaSet" => de::<apps::ReplicaSet>(v),
        "StatefulSet" => de::<apps::StatefulSet>(v),
        "DaemonSet" => de::<apps::DaemonSet>(v),
        "Pod" => de::<core::Pod>(v),
        "Job" => de::<batch::Job>(v),
        other => Err(format!("unexpected kind {other}")),
    }
}

#[test]
fn recorded_objects_deserialise_into_the_real_types() {
    let root = reference();
    assert!(root.exists(), "reference data at {}", root.display());
    let mut count = 0;
    // krane/deployment_test.yml is a hand-written fixture (YAML booleans for condition statuses,
    // "2018-01-09 22:56:45 UTC" timestamps) that only Go's type-directed YAML decoding accepts;
    // it is not a recorded object, so it is not held to the typed round trip.
    for dir in ["gitops-engine-health", "kubectl"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            if !matches!(ext, "yaml" | "yml" | "json")
                || path.file_name().is_some_and(|n| {
                    n == "EXPECTED_HEALTH.json" || n == "rollout-status-test-vectors.json"
                })
            {
                continue;
            }
            for doc in docs(&path) {
                if let Err(e) = typed(&doc) {
                    panic!("{}: {e}", path.display());
                }
                count += 1;
            }
        }
    }
    assert!(count >= 24, "{count} recorded objects");
}

#[test]
fn rollout_status_vectors() {
    let text =
        std::fs::read_to_string(reference().join("kubectl/rollout-status-test-vectors.json"))
            .expect("vectors");
    let vectors: Value = serde_json::from_str(&text).expect("json");
    for case in vectors["cases"].as_array().expect("cases") {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "foo", "namespace": "bar", "generation": case["generation"]},
            "spec": {"replicas": case["specReplicas"], "selector": {}, "template": {}},
            "status": case["status"],
        });
        serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(d.clone()).expect("typed");
        let (msg, done) = rollout_status(&d).expect("no error");
        assert_eq!(
            (msg.as_str(), done),
            (
                case["msg"].as_str().expect("msg"),
                case["done"].as_bool().expect("done")
            ),
            "{}",
            case["name"]
        );
    }
}

/// Field paths of an object; label-like maps count as leaves, array elements collapse to `[]`.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{prefix}.{k}");
                if matches!(
                    k.as_str(),
                    "labels" | "annotations" | "matchLabels" | "nodeSelector" | "managedFields"
                ) {
                    out.insert(p);
                } else {
                    paths(x, &p, out);
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

fn field_set(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    paths(v, "", &mut out);
    out
}

fn missing(recorded: &Value, sim: &Value, tolerated: &[&str]) -> Vec<String> {
    let have = field_set(sim);
    field_set(recorded)
        .into_iter()
        .filter(|p| !have.contains(p) && !tolerated.iter().any(|t| p.starts_with(t)))
        .collect()
}

#[tokio::test]
async fn simulated_objects_carry_the_recorded_fields() {
    let sim = start(
        1.0,
        &deployment_yaml("prod", "web", 3, "registry.example/app:1.0", ""),
    )
    .await;
    for _ in 0..10 {
        sim.advance(Duration::from_secs(1));
    }
    let d = sim
        .get_json(Resource::Deployments, "prod", "web")
        .expect("deployment");
    assert!(rollout_status(&d).is_ok_and(|(_, done)| done), "{d}");
    let recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(reference().join("kubectl/deployment-complete-recorded.json"))
            .expect("read"),
    )
    .expect("json");
    assert_eq!(
        missing(&recorded, &d, &[]),
        Vec::<String>::new(),
        "complete Deployment"
    );
    let extra: Vec<String> = field_set(&d)
        .difference(&field_set(&recorded))
        .cloned()
        .collect();
    assert_eq!(
        extra,
        Vec::<String>::new(),
        "the simulator adds no fields a real complete Deployment lacks"
    );

    // Pods: the recorded ones come from older clusters (docker, token volumes, selfLink); those
    // parts are tolerated, everything else must be there.
    let tolerated = [
        ".metadata.selfLink",
        ".spec.volumes",
        ".spec.containers[].volumeMounts",
        ".spec.containers[].command",
        ".spec.containers[].args",
        ".spec.containers[].ports",
        ".spec.containers[].resources.",
    ];
    let pod = sim
        .list::<k8s_openapi::api::core::v1::Pod>(Some("prod"))
        .into_iter()
        .next()
        .expect("pod");
    let pod = sim
        .get_json(
            Resource::Pods,
            "prod",
            pod.metadata.name.as_deref().expect("name"),
        )
        .expect("raw pod");
    let running =
        &docs(&reference().join("gitops-engine-health/pod-running-restart-always.yaml"))[0];
    assert_eq!(
        missing(running, &pod, &tolerated),
        Vec::<String>::new(),
        "running Pod"
    );
}

#[tokio::test]
async fn failing_pods_carry_the_recorded_fields() {
    let manifests = format!(
        "{}---\n{}",
        deployment_yaml("prod", "pull", 1, "registry.example/app:missing", ""),
        deployment_yaml("prod", "crash", 1, "registry.example/app:crash", "")
            .split("---\n")
            .nth(1)
            .expect("deployment doc")
    );
    let sim = start(1.0, &manifests).await;
    for _ in 0..30 {
        sim.advance(Duration::from_secs(1));
    }
    let pod_of = |app: &str| {
        let p = sim
            .list::<k8s_openapi::api::core::v1::Pod>(Some("prod"))
            .into_iter()
            .find(|p| p.metadata.labels.as_ref().is_some_and(|l| l["app"] == app))
            .expect("pod");
        sim.get_json(
            Resource::Pods,
            "prod",
            p.metadata.name.as_deref().expect("name"),
        )
        .expect("raw pod")
    };
    // Recorded with docker-era kubelets: token volumes, selfLink and the like are tolerated.
    let tolerated = [
        ".metadata.selfLink",
        ".spec.volumes",
        ".spec.containers[].volumeMounts",
        ".spec.containers[].command",
        ".spec.containers[].args",
        ".spec.containers[].ports",
        ".spec.containers[].resources.",
    ];
    let pull = pod_of("pull");
    assert_eq!(
        pull.pointer("/status/containerStatuses/0/state/waiting/reason")
            .and_then(Value::as_str)
            .map(|r| r.ends_with("ImagePullBackOff") || r == "ErrImagePull"),
        Some(true),
        "{pull}"
    );
    let recorded = &docs(&reference().join("gitops-engine-health/pod-imagepullbackoff.yaml"))[0];
    assert_eq!(
        missing(recorded, &pull, &tolerated),
        Vec::<String>::new(),
        "ImagePullBackOff Pod"
    );
    let crash = pod_of("crash");
    assert!(
        crash
            .pointer("/status/containerStatuses/0/restartCount")
            .and_then(Value::as_i64)
            .is_some_and(|n| n >= 1),
        "{crash}"
    );
    let recorded = &docs(&reference().join("gitops-engine-health/pod-crashloop.yaml"))[0];
    // The crash-loop state depends on the instant: it is waiting in CrashLoopBackOff or running.
    let tolerated_crash: Vec<&str> = tolerated
        .iter()
        .copied()
        .chain([".status.containerStatuses[].state."])
        .collect();
    assert_eq!(
        missing(recorded, &crash, &tolerated_crash),
        Vec::<String>::new(),
        "CrashLoopBackOff Pod"
    );
}

#[tokio::test]
async fn degraded_and_progressing_deployments_carry_the_recorded_fields() {
    let sim = start(
        1.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    )
    .await;
    for _ in 0..5 {
        sim.advance(Duration::from_secs(1));
    }
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:slow"}]}}}});
    sim.with_world(|w| {
        w.patch(
            Resource::Deployments,
            "prod",
            "web",
            kube_sim::patch::PatchType::Strategic,
            &patch,
            false,
            false,
        )
    })
    .expect("patch");
    sim.advance(Duration::from_secs(5));
    let progressing = sim
        .get_json(Resource::Deployments, "prod", "web")
        .expect("deployment");
    let recorded = &docs(&reference().join("gitops-engine-health/deployment-progressing.yaml"))[0];
    let tolerated = [
        ".metadata.selfLink",
        ".spec.template.spec.containers[].ports",
        ".spec.template.metadata.creationTimestamp",
    ];
    assert_eq!(
        missing(recorded, &progressing, &tolerated),
        Vec::<String>::new(),
        "progressing Deployment: {progressing}"
    );

    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:gone"}]}}}});
    sim.with_world(|w| {
        w.patch(
            Resource::Deployments,
            "prod",
            "web",
            kube_sim::patch::PatchType::Strategic,
            &patch,
            false,
            false,
        )
    })
    .expect("patch");
    sim.advance(Duration::from_secs(601));
    sim.advance(Duration::from_secs(2));
    let degraded = sim
        .get_json(Resource::Deployments, "prod", "web")
        .expect("deployment");
    assert!(rollout_status(&degraded).is_err(), "{degraded}");
    let recorded = &docs(&reference().join("gitops-engine-health/deployment-degraded.yaml"))[0];
    assert_eq!(
        missing(recorded, &degraded, &tolerated),
        Vec::<String>::new(),
        "degraded Deployment: {degraded}"
    );
}

//! The simulated control plane, driven deterministically: simulated time is frozen (a tiny time
//! scale) and moved with `advance`, so each test reads as a timeline.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube_sim::{KubeSim, Resource};
use serde_json::{Value, json};

use crate::common::{deployment_yaml, rollout_status, start};

const FROZEN: f64 = 0.000_001;

async fn frozen(manifests: &str) -> KubeSim {
    let sim = start(FROZEN, manifests).await;
    sim.settle();
    sim
}

fn deploy(sim: &KubeSim) -> Value {
    sim.get_json(Resource::Deployments, "prod", "web")
        .expect("deployment")
}

fn set_image(sim: &KubeSim, image: &str) {
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
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
    sim.settle();
}

/// Pods that are not Terminating.
fn pods(sim: &KubeSim) -> Vec<Pod> {
    sim.list::<Pod>(Some("prod"))
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| cs.iter().all(|c| c.ready))
}

fn image(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.containers[0].image.clone())
        .unwrap_or_default()
}

fn condition(d: &Value, kind: &str) -> Value {
    d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind).cloned())
        .unwrap_or(Value::Null)
}

/// Advances in steps until `rollout status` says done (or fails), checking `each` at every step.
fn run_rollout(
    sim: &KubeSim,
    step: Duration,
    max_steps: usize,
    mut each: impl FnMut(&KubeSim),
) -> Result<(String, bool), String> {
    for _ in 0..max_steps {
        sim.advance(step);
        each(sim);
        match rollout_status(&deploy(sim)) {
            Ok((_, true)) => return rollout_status(&deploy(sim)),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
    rollout_status(&deploy(sim))
}

#[tokio::test]
async fn rolling_update_keeps_within_surge_and_unavailable() {
    let strategy = "  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n";
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        4,
        "registry.example/app:1.0",
        strategy,
    ))
    .await;
    assert_eq!(
        run_rollout(&sim, Duration::from_secs(1), 30, |_| {}),
        Ok((
            "deployment \"web\" successfully rolled out\n".to_owned(),
            true
        ))
    );
    let d = deploy(&sim);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(condition(&d, "Available")["status"], "True");

    set_image(&sim, "registry.example/app:1.1");
    let mut max_pods = 0;
    let mut min_ready = usize::MAX;
    let result = run_rollout(&sim, Duration::from_millis(500), 100, |s| {
        let ps = pods(s);
        max_pods = max_pods.max(ps.len());
        min_ready = min_ready.min(ps.iter().filter(|p| ready(p)).count());
    });
    assert_eq!(
        result,
        Ok((
            "deployment \"web\" successfully rolled out\n".to_owned(),
            true
        ))
    );
    assert_eq!(max_pods, 5, "maxSurge 1 over 4 replicas");
    assert_eq!(min_ready, 4, "maxUnavailable 0");
    assert!(
        pods(&sim)
            .iter()
            .all(|p| image(p) == "registry.example/app:1.1")
    );
    let d = deploy(&sim);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    let rss = sim.list::<ReplicaSet>(Some("prod"));
    assert_eq!(rss.len(), 2);
    let old = rss
        .iter()
        .find(|r| r.spec.as_ref().and_then(|s| s.replicas) == Some(0))
        .expect("old RS scaled to 0");
    assert_eq!(
        old.metadata.annotations.as_ref().expect("annotations")["deployment.kubernetes.io/revision"],
        "1"
    );
    let hash =
        |r: &ReplicaSet| r.metadata.labels.as_ref().expect("labels")["pod-template-hash"].clone();
    assert!(
        rss.iter()
            .all(|r| r.metadata.name.as_deref() == Some(&format!("web-{}", hash(r))))
    );
    let scaling: Vec<String> = sim
        .events("prod")
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        .filter_map(|e| e.message)
        .collect();
    assert!(
        scaling
            .iter()
            .any(|m| m.starts_with("Scaled up replica set web-") && m.ends_with(" from 0 to 1")),
        "{scaling:?}"
    );
    assert!(
        scaling
            .iter()
            .any(|m| m.starts_with("Scaled down replica set web-") && m.ends_with(" from 4 to 3")),
        "{scaling:?}"
    );
}

#[tokio::test]
async fn recreate_never_runs_old_and_new_together() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        3,
        "registry.example/app:1.0",
        "  strategy: {type: Recreate}\n",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    set_image(&sim, "registry.example/app:1.1");
    let mut mixed = false;
    let result = run_rollout(&sim, Duration::from_millis(500), 100, |s| {
        let images: std::collections::BTreeSet<String> = pods(s).iter().map(image).collect();
        mixed |= images.len() > 1;
    });
    assert!(result.is_ok_and(|(_, done)| done));
    assert!(!mixed, "Recreate kills old pods before starting new ones");
}

#[tokio::test]
async fn bad_image_backs_off_and_exceeds_the_progress_deadline() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        4,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    set_image(&sim, "registry.example/app:nope");
    sim.advance(Duration::from_secs(30));
    let bad: Vec<Pod> = pods(&sim)
        .into_iter()
        .filter(|p| image(p) == "registry.example/app:nope")
        .collect();
    assert_eq!(
        bad.len(),
        2,
        "25% surge + 25% unavailable of 4: two new pods"
    );
    let waiting = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs[0].state.as_ref())
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone())
    };
    assert!(
        bad.iter().all(|p| matches!(
            waiting(p).as_deref(),
            Some("ImagePullBackOff" | "ErrImagePull")
        )),
        "{bad:?}"
    );
    assert_eq!(
        bad[0].status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
    let (msg, done) = rollout_status(&deploy(&sim)).expect("still waiting");
    assert!(!done);
    assert_eq!(
        msg,
        "Waiting for deployment \"web\" rollout to finish: 2 out of 4 new replicas have been updated...\n"
    );
    let reasons: Vec<(String, String)> = sim
        .events("prod")
        .into_iter()
        .filter_map(|e| Some((e.reason?, e.message?)))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|(r, m)| r == "Failed" && m == "Error: ErrImagePull"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(r, m)| r == "BackOff"
                && m == "Back-off pulling image \"registry.example/app:nope\""),
        "{reasons:?}"
    );

    sim.advance(Duration::from_secs(600));
    sim.advance(Duration::from_secs(2));
    let d = deploy(&sim);
    let progressing = condition(&d, "Progressing");
    assert_eq!(
        (
            progressing["status"].as_str(),
            progressing["reason"].as_str()
        ),
        (Some("False"), Some("ProgressDeadlineExceeded")),
        "{d}"
    );
    assert!(progressing["message"].as_str().is_some_and(
        |m| m.starts_with("ReplicaSet \"web-") && m.ends_with("\" has timed out progressing.")
    ));
    assert_eq!(
        condition(&d, "Available")["status"],
        "True",
        "old pods keep minimum availability"
    );
    assert_eq!(
        rollout_status(&d),
        Err("deployment \"web\" exceeded its progress deadline".to_owned())
    );
    assert!(
        sim.events("prod")
            .iter()
            .all(|e| e.reason.as_deref() != Some("ProgressDeadlineExceeded")),
        "the real controller only sets the condition; it records no Event"
    );
}

#[tokio::test]
async fn crashing_image_loops_with_growing_restart_count() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        1,
        "registry.example/app:crash",
        "",
    ))
    .await;
    sim.advance(Duration::from_secs(5));
    let p = &pods(&sim)[0];
    let cs = &p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .expect("statuses")[0];
    assert_eq!(cs.restart_count, 1);
    assert_eq!(
        cs.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref()),
        Some("CrashLoopBackOff")
    );
    assert_eq!(
        cs.last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code),
        Some(1)
    );
    assert!(
        cs.image_id.starts_with("registry.example/app@sha256:"),
        "{}",
        cs.image_id
    );
    assert_eq!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Running")
    );
    for _ in 0..20 {
        sim.advance(Duration::from_secs(10));
    }
    let cs = &pods(&sim)[0]
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .expect("statuses")[0];
    assert!(
        cs.restart_count >= 4,
        "restartCount grows: {}",
        cs.restart_count
    );
    let backoffs = sim
        .events("prod")
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("BackOff"))
        .map(|e| e.count.unwrap_or(0))
        .sum::<i32>();
    assert!(
        backoffs >= 4,
        "BackOff events aggregate into count: {backoffs}"
    );
    assert!(!rollout_status(&deploy(&sim)).is_ok_and(|(_, done)| done));
}

#[tokio::test]
async fn paused_deployments_do_not_roll_out_until_resumed() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        2,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    let patch = |v: Value| {
        sim.with_world(|w| {
            w.patch(
                Resource::Deployments,
                "prod",
                "web",
                kube_sim::patch::PatchType::Merge,
                &v,
                false,
                false,
            )
        })
        .expect("patch")
    };
    patch(json!({"spec": {"paused": true}}));
    sim.settle();
    set_image(&sim, "registry.example/app:1.1");
    sim.advance(Duration::from_secs(30));
    assert_eq!(
        sim.list::<ReplicaSet>(Some("prod")).len(),
        1,
        "no new ReplicaSet while paused"
    );
    assert_eq!(
        condition(&deploy(&sim), "Progressing")["reason"],
        "DeploymentPaused"
    );
    patch(json!({"spec": {"paused": false}}));
    sim.settle();
    assert!(run_rollout(&sim, Duration::from_secs(1), 60, |_| {}).is_ok_and(|(_, done)| done));
    assert!(
        pods(&sim)
            .iter()
            .all(|p| image(p) == "registry.example/app:1.1")
    );
}

#[tokio::test]
async fn rollback_reuses_the_old_replicaset_under_a_new_revision_and_history_is_limited() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        1,
        "registry.example/app:1.0",
        "  revisionHistoryLimit: 2\n",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    for v in ["1.1", "1.2", "1.3", "1.2"] {
        set_image(&sim, &format!("registry.example/app:{v}"));
        assert!(
            run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done),
            "{v}"
        );
    }
    let d = deploy(&sim);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "5"
    );
    let rss = sim.list::<ReplicaSet>(Some("prod"));
    assert_eq!(
        rss.len(),
        3,
        "the current ReplicaSet plus revisionHistoryLimit old ones"
    );
    let current = rss
        .iter()
        .find(|r| {
            r.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref())
                .and_then(|s| s.containers[0].image.as_deref())
                == Some("registry.example/app:1.2")
        })
        .expect("1.2 RS");
    let ann = current.metadata.annotations.as_ref().expect("annotations");
    assert_eq!(ann["deployment.kubernetes.io/revision"], "5");
    assert_eq!(ann["deployment.kubernetes.io/revision-history"], "3");
}

#[tokio::test]
async fn a_second_actor_changes_the_image_mid_rollout() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        2,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    sim.set_image_mid_rollout(
        "prod",
        "web",
        "app",
        "registry.example/app:1.9",
        Duration::from_secs(2),
    );
    set_image(&sim, "registry.example/app:1.1");
    assert!(run_rollout(&sim, Duration::from_millis(500), 100, |_| {}).is_ok_and(|(_, done)| done));
    let d = deploy(&sim);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/app:1.9"
    );
    assert_eq!(d["metadata"]["generation"], 3);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert!(
        pods(&sim)
            .iter()
            .all(|p| image(p) == "registry.example/app:1.9")
    );
}

#[test]
fn threaded_handle_serves_blocking_tests() {
    let sim = KubeSim::spawn(crate::common::config(
        100.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    ))
    .expect("spawn");
    assert!(sim.url().starts_with("http://127.0.0.1:"));
    assert!(sim.wait_until_blocking(Duration::from_secs(10), |s| {
        s.get::<Deployment>("prod", "web")
            .and_then(|d| d.status)
            .and_then(|s| s.available_replicas)
            == Some(1)
    }));
    let addr = sim.addr();
    drop(sim);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server stops on drop"
    );
}

fn waiting_reason(p: &Pod) -> Option<String> {
    p.status.as_ref()?.container_statuses.as_ref()?[0]
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .clone()
}

#[tokio::test]
async fn quota_exhaustion_surfaces_as_replica_failure() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        3,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    sim.set_pod_quota("prod", Some(3));
    set_image(&sim, "registry.example/app:1.1");
    sim.advance(Duration::from_secs(1));
    let d = deploy(&sim);
    let failure = condition(&d, "ReplicaFailure");
    assert_eq!(
        (failure["status"].as_str(), failure["reason"].as_str()),
        (Some("True"), Some("FailedCreate")),
        "{d}"
    );
    let msg = failure["message"].as_str().expect("message");
    assert!(msg.starts_with("pods \"web-") && msg.contains("-\" is forbidden: exceeded quota: kube-sim-quota, requested: pods=1, used: pods=3, limited: pods=3"), "{msg}");
    assert!(sim.events("prod").iter().any(|e| {
        e.reason.as_deref() == Some("FailedCreate")
            && e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("Error creating: pods \"web-"))
    }));
    sim.set_pod_quota("prod", None);
    assert!(run_rollout(&sim, Duration::from_secs(1), 60, |_| {}).is_ok_and(|(_, done)| done));
    assert!(
        condition(&deploy(&sim), "ReplicaFailure").is_null(),
        "cleared once pods can be created"
    );
}

#[tokio::test]
async fn missing_config_and_unschedulable_pods() {
    let extra = "apiVersion: apps/v1
kind: Deployment
metadata: {name: cfg, namespace: prod}
spec:
  replicas: 1
  selector: {matchLabels: {app: cfg}}
  template:
    metadata: {labels: {app: cfg}}
    spec:
      containers:
      - name: app
        image: registry.example/app:1.0
        env:
        - name: DB
          valueFrom: {secretKeyRef: {name: db-credentials, key: url}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: prod}
spec:
  replicas: 1
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec:
      containers:
      - name: app
        image: registry.example/app:1.0
        resources: {requests: {cpu: \"64\", memory: 1Gi}}
";
    let sim = frozen(&format!(
        "{}---\n{extra}",
        deployment_yaml("prod", "web", 1, "registry.example/app:1.0", "")
    ))
    .await;
    sim.advance(Duration::from_secs(5));
    let all = pods(&sim);
    let by_app = |app: &str| {
        all.iter()
            .find(|p| p.metadata.labels.as_ref().is_some_and(|l| l["app"] == app))
            .cloned()
            .expect("pod")
    };
    let cfg = by_app("cfg");
    assert_eq!(
        waiting_reason(&cfg).as_deref(),
        Some("CreateContainerConfigError")
    );
    let msg = cfg
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs[0].state.as_ref()?.waiting.as_ref()?.message.clone());
    assert_eq!(msg.as_deref(), Some("secret \"db-credentials\" not found"));
    assert!(
        sim.events("prod")
            .iter()
            .any(|e| e.reason.as_deref() == Some("Failed")
                && e.message.as_deref() == Some("Error: secret \"db-credentials\" not found"))
    );

    let big = by_app("big");
    let status = big.status.expect("status");
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    assert_eq!(status.qos_class.as_deref(), Some("Burstable"));
    let scheduled = status
        .conditions
        .expect("conditions")
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .expect("PodScheduled");
    assert_eq!(
        (scheduled.status.as_str(), scheduled.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
    assert!(
        scheduled
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("0/1 nodes are available: 1 Insufficient cpu."))
    );
    assert!(big.spec.and_then(|s| s.node_name).is_none());
    assert!(
        sim.events("prod")
            .iter()
            .any(|e| e.reason.as_deref() == Some("FailedScheduling"))
    );
    // More room on the node lets it schedule.
    sim.set_node_allocatable(128_000, 64 << 30);
    sim.advance(Duration::from_secs(11));
    sim.advance(Duration::from_secs(5));
    let big = pods(&sim)
        .into_iter()
        .find(|p| {
            p.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l["app"] == "big")
        })
        .expect("pod");
    assert!(ready(&big), "{big:?}");
}

#[tokio::test]
async fn deleted_pods_terminate_gracefully_and_are_replaced() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        2,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    sim.set_pod_termination(Duration::from_secs(5));
    let victim = pods(&sim)[0].metadata.name.clone().expect("name");
    let deleted = sim
        .with_world(|w| w.delete(Resource::Pods, "prod", &victim, false, false))
        .expect("delete");
    assert!(
        deleted.pointer("/metadata/deletionTimestamp").is_some(),
        "{deleted}"
    );
    assert_eq!(deleted["metadata"]["deletionGracePeriodSeconds"], 30);
    sim.settle();
    let all = sim.list::<Pod>(Some("prod"));
    assert_eq!(all.len(), 3, "the Terminating pod plus a replacement");
    let terminating = all
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(victim.as_str()))
        .expect("still there");
    assert!(!ready(terminating), "a Terminating pod is not ready");
    assert!(
        sim.events("prod")
            .iter()
            .any(|e| e.reason.as_deref() == Some("Killing")
                && e.message.as_deref() == Some("Stopping container app"))
    );
    sim.advance(Duration::from_secs(6));
    let all = sim.list::<Pod>(Some("prod"));
    assert_eq!(all.len(), 2, "gone once its containers stopped");
    assert!(
        all.iter()
            .all(|p| p.metadata.name.as_deref() != Some(victim.as_str()))
    );
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
}

fn merge_patch(sim: &KubeSim, v: &Value) {
    sim.with_world(|w| {
        w.patch(
            Resource::Deployments,
            "prod",
            "web",
            kube_sim::patch::PatchType::Merge,
            v,
            false,
            false,
        )
    })
    .expect("patch");
    sim.settle();
}

/// (image, `spec.replicas`) of every `ReplicaSet`, sorted.
fn replicaset_sizes(sim: &KubeSim) -> Vec<(String, i32)> {
    let mut sizes: Vec<(String, i32)> = sim
        .list::<ReplicaSet>(Some("prod"))
        .into_iter()
        .map(|rs| {
            let spec = rs.spec.expect("spec");
            let image = spec
                .template
                .and_then(|t| t.spec)
                .and_then(|s| s.containers[0].image.clone())
                .unwrap_or_default();
            (image, spec.replicas.unwrap_or(0))
        })
        .collect();
    sizes.sort();
    sizes
}

#[tokio::test]
async fn scaling_a_stuck_rollout_is_proportional() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        3,
        "registry.example/app:1.0",
        "  strategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    set_image(&sim, "registry.example/app:nope");
    sim.advance(Duration::from_secs(30));
    assert_eq!(
        replicaset_sizes(&sim),
        [
            ("registry.example/app:1.0".to_owned(), 3),
            ("registry.example/app:nope".to_owned(), 1)
        ]
    );
    merge_patch(&sim, &json!({"spec": {"replicas": 6}}));
    // 7 allowed (6 + maxSurge 1) over 4 sized for 4: old 3*7/4 -> 5, new 1*7/4 -> 2.
    assert_eq!(
        replicaset_sizes(&sim),
        [
            ("registry.example/app:1.0".to_owned(), 5),
            ("registry.example/app:nope".to_owned(), 2)
        ]
    );
    for rs in sim.list::<ReplicaSet>(Some("prod")) {
        let a = rs.metadata.annotations.expect("annotations");
        assert_eq!(a["deployment.kubernetes.io/desired-replicas"], "6");
        assert_eq!(a["deployment.kubernetes.io/max-replicas"], "7");
    }
    let scaled: Vec<String> = sim
        .events("prod")
        .into_iter()
        .filter_map(|e| e.message)
        .filter(|m| m.ends_with("from 3 to 5") || m.ends_with("from 1 to 2"))
        .collect();
    assert_eq!(scaled.len(), 2, "{scaled:?}");
    // Scaling back down shrinks both, largest first.
    merge_patch(&sim, &json!({"spec": {"replicas": 3}}));
    let sizes = replicaset_sizes(&sim);
    assert_eq!(sizes.iter().map(|(_, n)| n).sum::<i32>(), 4, "{sizes:?}");
}

#[tokio::test]
async fn scaling_a_paused_deployment_with_a_pending_change_scales_the_old_replicaset() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        3,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    merge_patch(&sim, &json!({"spec": {"paused": true}}));
    set_image(&sim, "registry.example/app:1.1");
    merge_patch(&sim, &json!({"spec": {"replicas": 5}}));
    sim.advance(Duration::from_secs(10));
    assert_eq!(
        replicaset_sizes(&sim),
        [("registry.example/app:1.0".to_owned(), 5)],
        "the old ReplicaSet takes the new size; no new one while paused"
    );
    assert_eq!(pods(&sim).len(), 5);
    let d = deploy(&sim);
    assert_eq!(d["status"]["replicas"], 5);
    assert_eq!(d["status"].get("updatedReplicas"), None);
}

#[tokio::test]
async fn failing_pulls_stay_in_back_off_and_bad_references_are_invalid_names() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        1,
        "registry.example/app:nope",
        "",
    ))
    .await;
    let mut seen = Vec::new();
    for _ in 0..120 {
        sim.advance(Duration::from_millis(500));
        if let Some(r) = pods(&sim).first().and_then(waiting_reason)
            && seen.last() != Some(&r)
        {
            seen.push(r);
        }
    }
    assert_eq!(seen[0], "ContainerCreating", "{seen:?}");
    assert!(
        seen[1..]
            .iter()
            .all(|r| r == "ErrImagePull" || r == "ImagePullBackOff"),
        "retries keep the pull error: {seen:?}"
    );
    assert!(seen.len() >= 4, "several retries in 60 s: {seen:?}");

    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        1,
        "registry.example/App:1.0",
        "",
    ))
    .await;
    sim.advance(Duration::from_secs(30));
    let pod = pods(&sim).pop().expect("pod");
    assert_eq!(waiting_reason(&pod).as_deref(), Some("InvalidImageName"));
    let messages: Vec<(String, String)> = sim
        .events("prod")
        .into_iter()
        .filter_map(|e| Some((e.reason?, e.message?)))
        .collect();
    assert!(
        messages.contains(&(
            "InspectFailed".to_owned(),
            "Failed to apply default image tag \"registry.example/App:1.0\": couldn't parse image name \"registry.example/App:1.0\": invalid reference format: repository name (App) must be lowercase".to_owned()
        )),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|(r, _)| r == "Pulling"),
        "an invalid name is never pulled: {messages:?}"
    );
}

#[tokio::test]
async fn orphaned_replicasets_are_adopted_by_a_recreated_deployment() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        3,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    let before: Vec<String> = pods(&sim)
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let old = deploy(&sim);
    sim.with_world(|w| w.delete(Resource::Deployments, "prod", "web", true, false))
        .expect("delete");
    sim.settle();
    let rs = sim.list::<ReplicaSet>(Some("prod"));
    assert_eq!(rs.len(), 1);
    assert!(
        rs[0]
            .metadata
            .owner_references
            .as_ref()
            .is_none_or(Vec::is_empty),
        "orphaned"
    );
    let mut again = old.clone();
    again["metadata"] = json!({"name": "web", "labels": {"app": "web"}});
    again.as_object_mut().expect("object").remove("status");
    sim.with_world(|w| w.create(Resource::Deployments, "prod", again, false))
        .expect("create");
    sim.advance(Duration::from_secs(5));
    let rs = sim.list::<ReplicaSet>(Some("prod"));
    assert_eq!(rs.len(), 1, "adopted, not duplicated");
    let new_uid = deploy(&sim)["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_owned();
    assert_ne!(new_uid, old["metadata"]["uid"].as_str().expect("uid"));
    assert_eq!(
        rs[0].metadata.owner_references.as_ref().expect("owner")[0].uid,
        new_uid
    );
    let after: Vec<String> = pods(&sim)
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert_eq!(after, before, "the same pods keep running");
    assert!(rollout_status(&deploy(&sim)).is_ok_and(|(_, done)| done));
}

#[tokio::test]
async fn deleting_a_deployment_leaves_its_pods_terminating() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        2,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    sim.set_pod_termination(Duration::from_secs(5));
    sim.with_world(|w| w.delete(Resource::Deployments, "prod", "web", false, false))
        .expect("delete");
    sim.settle();
    assert!(sim.list::<ReplicaSet>(Some("prod")).is_empty());
    let left = sim.list::<Pod>(Some("prod"));
    assert_eq!(left.len(), 2);
    assert!(
        left.iter().all(|p| p.metadata.deletion_timestamp.is_some()),
        "Terminating for their grace period"
    );
    sim.advance(Duration::from_secs(6));
    assert!(sim.list::<Pod>(Some("prod")).is_empty());
}

#[tokio::test]
async fn foreground_deletion_keeps_the_owner_until_its_dependents_are_gone() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        2,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    sim.set_pod_termination(Duration::from_secs(5));
    let marked = sim
        .with_world(|w| {
            w.delete_with_grace(
                Resource::Deployments,
                "prod",
                "web",
                kube_sim::world::Propagation::Foreground,
                false,
                None,
            )
        })
        .expect("delete");
    assert!(
        marked["metadata"]["deletionTimestamp"].is_string(),
        "{marked}"
    );
    assert_eq!(
        marked["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    sim.settle();
    let rs = sim.list::<ReplicaSet>(Some("prod"));
    assert_eq!(rs.len(), 1, "the ReplicaSet waits for its pods too");
    assert!(rs[0].metadata.deletion_timestamp.is_some());
    assert!(sim.get_json(Resource::Deployments, "prod", "web").is_some());
    assert_eq!(sim.list::<Pod>(Some("prod")).len(), 2, "no replacements");
    sim.advance(Duration::from_secs(6));
    assert!(sim.list::<Pod>(Some("prod")).is_empty());
    assert!(sim.list::<ReplicaSet>(Some("prod")).is_empty());
    assert!(
        sim.get_json(Resource::Deployments, "prod", "web").is_none(),
        "gone once its dependents are"
    );
}

#[tokio::test]
async fn a_replicaset_created_again_adopts_the_pods_it_left() {
    let sim = frozen(&deployment_yaml(
        "prod",
        "web",
        2,
        "registry.example/app:1.0",
        "",
    ))
    .await;
    assert!(run_rollout(&sim, Duration::from_secs(1), 30, |_| {}).is_ok_and(|(_, done)| done));
    let before: Vec<String> = pods(&sim)
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let rs = sim.list::<ReplicaSet>(Some("prod")).remove(0);
    let rs_name = rs.metadata.name.expect("name");
    sim.with_world(|w| w.delete(Resource::ReplicaSets, "prod", &rs_name, true, false))
        .expect("delete");
    // The deployment controller creates the ReplicaSet again (same template, same name), and
    // the new ReplicaSet adopts the orphaned pods instead of starting two more.
    sim.advance(Duration::from_secs(5));
    let again = sim.list::<ReplicaSet>(Some("prod"));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].metadata.name.as_deref(), Some(rs_name.as_str()));
    let new_uid = again[0].metadata.uid.clone().expect("uid");
    let after = pods(&sim);
    assert_eq!(
        after
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect::<Vec<_>>(),
        before
    );
    assert!(after.iter().all(|p| {
        p.metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o[0].uid == new_uid)
    }));
}

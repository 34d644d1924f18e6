//! Re-runs after an interrupted deploy: "unchanged" only for a complete, healthy rollout; an
//! unfinished one is watched, and a failed one rolled back to the revision before the bad image.

use std::time::Duration;

use kube_sim::{Resource, Verb};
use serde_json::json;

use crate::common::{
    GOOD, NEXT, UNPULLABLE, action, assert_exit, deployment, generated_run_line, image,
    patch_deployment, sim, sim_with,
};

/// The Deployment as a first run leaves it when it is killed right after its patch: the image
/// set, with the annotations the action writes, and the rollout still going.
fn interrupted_patch(sim: &kube_sim::KubeSim, image: &str) {
    interrupted_patch_of(sim, &json!({"name": "app", "image": image}));
}

/// As [`interrupted_patch`], with the whole container (a merge patch replaces the list).
fn interrupted_patch_of(sim: &kube_sim::KubeSim, container: &serde_json::Value) {
    let image = container["image"].as_str().unwrap().to_owned();
    patch_deployment(
        sim,
        json!({
            "metadata": {"annotations": {
                "kubernetes.io/change-cause": format!("k8s-deploy set {image} (https://github.com/acme/service/actions/runs/4242)"),
                "gantry.dev/image": image,
            }},
            "spec": {"template": {"spec": {"containers": [container]}}},
        }),
    );
}

#[test]
fn a_rerun_after_a_first_run_killed_with_an_unpullable_image_rolls_back() {
    let sim = sim();
    // A first run that is killed (SIGKILL: no handler runs) right after its patch.
    let first = action(&sim, UNPULLABLE)
        .input("timeout", "10m")
        .input("fail-fast", "false")
        .start_as_script(&generated_run_line());
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        deployment(sim).metadata.generation == Some(2)
    }));
    first.signal("KILL");
    let killed = first.finish();
    assert_ne!(killed.code, 0, "{}", killed.render());
    assert_eq!(image(&sim), UNPULLABLE);

    let rerun = action(&sim, UNPULLABLE).run();
    assert_exit(&rerun, 1);
    assert_eq!(rerun.output("result"), "rolled-back", "{}", rerun.render());
    assert_eq!(rerun.output("previous-image"), UNPULLABLE);
    assert_eq!(rerun.output("rollback-revision"), "1");
    assert_eq!(rerun.output("revision"), "3");
    let reason = rerun.output("failure-reason");
    assert!(
        reason.contains(": ErrImagePull") || reason.contains(": ImagePullBackOff"),
        "failed fast, not at a deadline: {reason}"
    );
    assert!(
        reason.ends_with("rolled back to revision 1 (registry.example/app:1.0) and verified"),
        "{reason}"
    );
    assert!(rerun.stdout.contains("its rollout is not complete"));
    assert_eq!(image(&sim), GOOD);
    assert_eq!(rerun.errors().len(), 1, "{}", rerun.render());
    // No second image patch: only the rollback.
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        2
    );
}

#[test]
fn a_rerun_restores_the_revision_before_the_bad_one_never_the_bad_one_itself() {
    let sim = sim();
    assert_exit(&action(&sim, NEXT).run(), 0);
    // Revision 3 is the interrupted deploy of a bad image; the one before it runs NEXT.
    interrupted_patch(&sim, UNPULLABLE);
    let rerun = action(&sim, UNPULLABLE).run();
    assert_exit(&rerun, 1);
    assert_eq!(rerun.output("result"), "rolled-back", "{}", rerun.render());
    assert_eq!(rerun.output("rollback-revision"), "2");
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn a_rerun_does_not_roll_back_an_image_k8s_deploy_did_not_set() {
    let sim = sim();
    // `kubectl set image` by someone else: no annotations of ours.
    patch_deployment(
        &sim,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": UNPULLABLE}]}}}}),
    );
    let run = action(&sim, UNPULLABLE).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    assert!(
        run.output("failure-reason")
            .contains("not rolled back: k8s-deploy did not set this image"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), UNPULLABLE);
}

#[test]
fn a_rerun_during_an_unfinished_good_rollout_waits_for_it_and_reports_deployed() {
    // Each pod asks for 1.5 CPUs of the node's 4: the surge pod of a rollout cannot be scheduled
    // until the node grows, so the rollout is reliably still going when the re-run reads it.
    let sim = sim_with("", "        resources: {requests: {cpu: 1500m}}\n");
    interrupted_patch_of(
        &sim,
        &json!({"name": "app", "image": NEXT, "resources": {"requests": {"cpu": "1500m"}}}),
    );
    let rerun = action(&sim, NEXT)
        .input("unschedulable-grace", "1h")
        .start_as_script(&generated_run_line());
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        sim.count_requests(Verb::Watch, Some(Resource::Pods)) > 0
    }));
    sim.set_node_allocatable(8000, 16 << 30);
    sim.settle();
    let rerun = rerun.finish();
    assert_exit(&rerun, 0);
    assert_eq!(rerun.output("result"), "deployed", "{}", rerun.render());
    assert_eq!(rerun.output("revision"), "2");
    assert!(rerun.stdout.contains("its rollout is not complete"));
    assert_eq!(image(&sim), NEXT);
    // Nothing was patched by the re-run.
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        0
    );
    let status = deployment(&sim).status.unwrap();
    assert_eq!(status.updated_replicas, Some(2));
}

#[test]
fn a_rerun_after_a_complete_rollout_verifies_it_and_reports_unchanged() {
    let sim = sim();
    assert_exit(&action(&sim, NEXT).run(), 0);
    let rerun = action(&sim, NEXT).run();
    assert_exit(&rerun, 0);
    assert_eq!(rerun.output("result"), "unchanged", "{}", rerun.render());
    assert_eq!(rerun.output("revision"), "2");
    assert!(!rerun.output("image-digest").is_empty());
    assert!(
        rerun
            .stdout
            .contains("verifying that its rollout is complete and healthy")
    );
}

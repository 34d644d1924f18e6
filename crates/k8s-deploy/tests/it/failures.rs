//! Failing rollouts: fail fast, roll back to the recorded revision, verify; never clobber someone
//! else's change.

use std::time::Duration;

use kube_sim::{Fault, Resource, Verb};

use crate::common::{
    CRASHING, DEPLOYMENT, GOOD, NAMESPACE, NEVER_READY, NEXT, OTHER, UNPULLABLE, action,
    assert_exit, deployment, image, sim, sim_with,
};

#[test]
fn an_unpullable_image_fails_fast_and_is_rolled_back_and_verified() {
    let sim = sim();
    let run = action(&sim, UNPULLABLE).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(run.output("previous-image"), GOOD);
    assert_eq!(run.output("image"), UNPULLABLE);
    assert_eq!(run.output("rollback-revision"), "1");
    // Kubernetes gives the restored template the next revision number.
    assert_eq!(run.output("revision"), "3");
    // The pod's reason, not the progress deadline: it failed fast.
    let reason = run.output("failure-reason");
    assert!(
        reason.contains(": ErrImagePull") || reason.contains(": ImagePullBackOff"),
        "{reason}"
    );
    assert!(
        reason.ends_with("rolled back to revision 1 (registry.example/app:1.0) and verified"),
        "{reason}"
    );
    assert_eq!(image(&sim), GOOD);
    let status = deployment(&sim).status.unwrap();
    assert_eq!(
        (status.available_replicas, status.updated_replicas),
        (Some(2), Some(2))
    );
    assert!(run.errors()[0].starts_with(
        "deploy of registry.example/app:missing to prod/web failed and was rolled back: pod web-"
    ));
    assert!(
        run.summary.contains("### Recent events of the failed pod"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("crit"), "{}", run.summary);
}

#[test]
fn a_crashing_image_is_rolled_back() {
    let sim = sim();
    let run = action(&sim, CRASHING).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert!(
        run.output("failure-reason").contains("CrashLoopBackOff"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_never_ready_image_fails_at_the_progress_deadline_and_is_rolled_back() {
    let sim = sim();
    let run = action(&sim, NEVER_READY).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert!(
        run.output("failure-reason").starts_with(
            "deployment \"web\" exceeded its progress deadline; rolled back to revision 1"
        ),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn without_rollback_a_failure_leaves_the_deployment_as_it_is() {
    let sim = sim();
    let run = action(&sim, UNPULLABLE).input("rollback", "false").run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed");
    assert!(
        run.output("failure-reason")
            .ends_with("; not rolled back: rollback is false")
    );
    assert_eq!(image(&sim), UNPULLABLE);
}

#[test]
fn someone_elses_change_during_the_rollout_is_never_overwritten() {
    let sim = sim();
    sim.set_image_mid_rollout(NAMESPACE, DEPLOYMENT, "app", OTHER, Duration::ZERO);
    let run = action(&sim, NEVER_READY).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    assert_eq!(run.output("rollback-revision"), "");
    let reason = run.output("failure-reason");
    assert!(
        reason.contains("someone else changed the deployment"),
        "{reason}"
    );
    assert!(reason.contains(OTHER), "{reason}");
    assert!(reason.contains("not rolled back"), "{reason}");
    assert_eq!(image(&sim), OTHER);
    // Our one patch, and no rollback.
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        1
    );
}

#[test]
fn a_status_only_change_before_the_rollback_is_retried_not_mistaken_for_a_new_deploy() {
    let sim = sim();
    let run = std::thread::scope(|scope| {
        let run = scope.spawn(|| action(&sim, NEVER_READY).run());
        assert!(sim.wait_until_blocking(Duration::from_secs(20), |sim| {
            deployment(sim).metadata.generation == Some(2)
        }));
        // Someone touches the Deployment (annotations only) just before our rollback patch.
        sim.add_fault(
            Fault::concurrent_write()
                .on(Verb::Patch)
                .resource(Resource::Deployments)
                .times(1),
        );
        run.join().unwrap()
    });
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(image(&sim), GOOD);
    let annotations = deployment(&sim).metadata.annotations.unwrap();
    assert_eq!(annotations["kube-sim/concurrent-writes"], "1");
    assert_eq!(
        annotations["kubernetes.io/change-cause"],
        "k8s-deploy rolled back to revision 1 (https://github.com/acme/service/actions/runs/4242)"
    );
    // Our patch, the rollback that met the other write, and the rollback that won.
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        3
    );
}

#[test]
fn without_fail_fast_only_kubectls_rules_apply_and_the_deadline_ends_the_wait() {
    let sim = sim();
    let run = action(&sim, UNPULLABLE).input("fail-fast", "false").run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert!(
        run.output("failure-reason")
            .starts_with("deployment \"web\" exceeded its progress deadline"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_pod_unschedulable_beyond_the_grace_fails_the_rollout() {
    // Two pods of 1.5 CPUs fit the simulated 4-CPU node; the rollout's surge pod does not.
    let sim = sim_with("", "        resources: {requests: {cpu: 1500m}}\n");
    let run = action(&sim, NEXT)
        .input("unschedulable-grace", "300ms")
        .run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert!(
        run.output("failure-reason")
            .contains("of the new replica set is unschedulable for over 300ms: 0/1 nodes are available: 1 Insufficient cpu"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
}

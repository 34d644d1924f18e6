//! Autoscaled Deployments: a scale (`kubectl scale`, an HPA) changes `spec.replicas` and the
//! generation, never the pod template; it is nobody's deploy, and the rollback keeps it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube_sim::{Action, Resource, Trigger};

use crate::common::{
    DEPLOYMENT, GOOD, NAMESPACE, NEVER_READY, NEXT, UNPULLABLE, action, assert_exit, image,
    replicas, scale, sim,
};

/// `kubectl scale` this long (simulated) after the next rollout starts.
fn scale_mid_rollout(sim: &kube_sim::KubeSim, replicas: i32, delay: Duration) {
    sim.schedule(
        Trigger::AfterRolloutStart {
            namespace: NAMESPACE.to_owned(),
            deployment: DEPLOYMENT.to_owned(),
            delay,
        },
        Action::MergePatch {
            resource: Resource::Deployments,
            namespace: NAMESPACE.to_owned(),
            name: DEPLOYMENT.to_owned(),
            patch: serde_json::json!({"spec": {"replicas": replicas}}),
        },
    );
}

#[test]
fn a_scale_before_the_deploy_is_kept() {
    let sim = sim();
    scale(&sim, 3);
    let run = action(&sim, NEXT).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(replicas(&sim), Some(3));
}

#[test]
fn a_scale_during_a_good_rollout_does_not_fail_it() {
    let sim = sim();
    scale_mid_rollout(&sim, 4, Duration::from_secs(1));
    let run = action(&sim, NEXT).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(image(&sim), NEXT);
    assert_eq!(replicas(&sim), Some(4));
}

#[test]
fn a_scale_during_a_failing_rollout_still_rolls_back_and_keeps_the_scale() {
    let sim = sim();
    scale_mid_rollout(&sim, 4, Duration::ZERO);
    let run = action(&sim, NEVER_READY).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(image(&sim), GOOD);
    assert_eq!(replicas(&sim), Some(4));
}

#[test]
fn a_scale_after_the_rollout_during_the_soak_does_not_fail_it() {
    let sim = sim();
    scale_mid_rollout(&sim, 3, Duration::from_secs(30));
    let run = action(&sim, NEXT).input("soak", "2s").run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(replicas(&sim), Some(3));
}

/// Runs `body` while an HPA-like writer scales the Deployment between 2 and 3 replicas every
/// two simulated seconds.
fn with_autoscaler<T>(sim: &kube_sim::KubeSim, body: impl FnOnce() -> T) -> (T, usize) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut writes = 0;
            while !stop.load(Ordering::Relaxed) {
                scale(sim, 2 + i32::try_from(writes % 2).unwrap());
                writes += 1;
                // Two simulated seconds at the tests' time scale of 40.
                std::thread::sleep(Duration::from_millis(50));
            }
            writes
        });
        let result = body();
        stop.store(true, Ordering::Relaxed);
        (result, writer.join().unwrap())
    })
}

#[test]
fn an_autoscaler_during_a_succeeding_rollout_does_not_fail_it() {
    let sim = sim();
    let (run, writes) = with_autoscaler(&sim, || action(&sim, NEXT).run());
    assert!(writes > 1, "the autoscaler scaled during the deploy");
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn an_autoscaler_during_a_failing_rollout_does_not_stop_the_rollback() {
    let sim = sim();
    let (run, writes) = with_autoscaler(&sim, || action(&sim, UNPULLABLE).run());
    assert!(writes > 1, "the autoscaler scaled during the deploy");
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(image(&sim), GOOD);
    assert!(matches!(replicas(&sim), Some(2 | 3)));
}

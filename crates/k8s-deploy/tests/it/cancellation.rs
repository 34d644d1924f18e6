//! Cancellation as the runner delivers it, to the step's entry process (bash running the
//! generated `run:` line): SIGINT, SIGTERM 7.5 s later, the kill 2.5 s after that.

use std::time::Duration;

use gantry_testkit::Transcript;
use kube_sim::{Fault, Resource, Verb};

use crate::common::{
    GOOD, NEVER_READY, action, assert_exit, deployment, generated_run_line, image, sim,
};

/// One `::error`, naming the signal, and a summary that says the step was cancelled.
fn assert_reported_cancellation(run: &Transcript, signals: &[&str]) {
    assert_eq!(
        signals,
        ["SIGINT"],
        "ended within the SIGINT grace\n{}",
        run.render()
    );
    assert_exit(run, 1);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("was cancelled (SIGINT)"),
        "{}",
        run.render()
    );
    assert!(run.summary.contains("cancelled by"), "{}", run.summary);
}

#[test]
fn a_deploy_cancelled_after_its_patch_is_rolled_back_and_verified() {
    let sim = sim();
    let step = action(&sim, NEVER_READY).start_as_script(&generated_run_line());
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        deployment(sim).metadata.generation == Some(2)
    }));
    let (run, signals) = step.cancel_as_runner();
    assert_reported_cancellation(&run, &signals);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(run.output("rollback-revision"), "1");
    assert!(
        run.output("failure-reason")
            .ends_with("rolled back to revision 1 (registry.example/app:1.0) and verified"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_deploy_cancelled_before_the_deployment_was_read_changes_nothing() {
    let sim = sim();
    sim.add_fault(
        Fault::latency(Duration::from_secs(60))
            .on(Verb::Get)
            .resource(Resource::Deployments)
            .times(1),
    );
    let step = action(&sim, NEVER_READY).start_as_script(&generated_run_line());
    // The fault has caught the first read: the step is waiting for its answer.
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        sim.with_world(|world| world.faults.iter().all(|fault| fault.remaining == Some(0)))
    }));
    let (run, signals) = step.cancel_as_runner();
    assert_reported_cancellation(&run, &signals);
    assert_eq!(run.output("result"), "cancelled", "{}", run.render());
    assert!(
        run.output("failure-reason")
            .ends_with("nothing was changed"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
    assert_eq!(sim.count_requests(Verb::Patch, None), 0);
}

#[test]
fn without_rollback_a_cancelled_deploy_says_exactly_what_it_left() {
    let sim = sim();
    let step = action(&sim, NEVER_READY)
        .input("rollback", "false")
        .start_as_script(&generated_run_line());
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        deployment(sim).metadata.generation == Some(2)
    }));
    let (run, signals) = step.cancel_as_runner();
    assert_reported_cancellation(&run, &signals);
    assert_eq!(run.output("result"), "cancelled", "{}", run.render());
    let reason = run.output("failure-reason");
    assert!(
        reason.starts_with(&format!(
            "our patch is applied and left in place (rollback is false): container app runs {NEVER_READY}, revision 2, rollout: "
        )),
        "{reason}"
    );
    assert_eq!(image(&sim), NEVER_READY);
}

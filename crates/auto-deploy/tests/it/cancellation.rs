//! Cancellation as the runner delivers it (SIGINT to the step's bash entry process, which `exec`s
//! the binary): the work in flight stops, the lock is released, and the pull request is left for a
//! re-run to resume.

use std::time::{Duration, Instant};

use crate::common::{BOT_TOKEN, PREPROD_FILE, PROD_FILE, action, lz_branches, pulls, sim_with};

/// Checks that take a simulated day: the deploy waits on them until it is cancelled.
const SLOW_CI: crate::common::Ci<'static> = &[
    ("lint", "success", 86_400_000),
    ("test", "success", 86_400_000),
];

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn holds_the_lock(sim: &github_sim::SimHandle) -> bool {
    lz_branches(sim)
        .iter()
        .any(|branch| branch.starts_with("gantry-lock/"))
}

fn a_deploy_cancelled_while_waiting_for_checks_releases_its_lock_and_resumes_on_a_rerun() {
    let sim = sim_with(PREPROD_FILE, PROD_FILE, SLOW_CI);
    let step =
        action(&sim, "v1.4.0").start_as_script(&gantry_testkit::generated_run_line("auto-deploy"));
    wait_until("the pull request", || {
        !pulls(&sim).is_empty() && holds_the_lock(&sim)
    });
    let (run, signals) = step.cancel_as_runner();
    assert_eq!(signals, ["SIGINT"], "{}", run.render());
    assert_eq!(run.code, 1, "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(errors[0].contains("cancelled (SIGINT)"), "{}", run.render());
    assert!(!run.summary.is_empty(), "{}", run.render());
    assert_eq!(run.output("result"), "failed");
    run.assert_never_shows(BOT_TOKEN);
    assert!(
        !holds_the_lock(&sim),
        "lock released: {:?}",
        lz_branches(&sim)
    );
    let open: Vec<_> = pulls(&sim).into_iter().filter(|pull| pull.1).collect();
    assert_eq!(open.len(), 1, "the pull request is left open for a re-run");

    // The checks finish; a re-run resumes the same pull request.
    sim.advance(Duration::from_secs(86_400));
    let rerun = action(&sim, "v1.4.0").run();
    assert_eq!(rerun.code, 0, "{}", rerun.render());
    assert_eq!(rerun.output("pr-number"), open[0].0.to_string());
    assert_eq!(pulls(&sim).len(), 1);
}

crate::stories!(
    a_deploy_cancelled_while_waiting_for_checks_releases_its_lock_and_resumes_on_a_rerun,
);

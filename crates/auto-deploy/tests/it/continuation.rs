//! Resumability: a run that fails at any step (a request GitHub refuses for good) is picked up by
//! the next run, which completes with exactly one pull request, one merge and one promotion.

use github_sim::{Fault, FaultAction};

use crate::common::{
    BOT_TOKEN, PREPROD, WORKFLOW_TOKEN, action, assert_deployed, assert_roles, concurrently,
    is_prerelease, lz_branches, lz_text, merges, mirrored, promotions, pulls, sim, story,
};

/// The first request of each step, as method and path pattern.
const STEPS: &[(&str, &str, &str)] = &[
    ("release", "GET", "/repos/acme/service/releases/tags/*"),
    ("lock branch", "POST", "/repos/acme/landing-zone/git/refs"),
    (
        "lock file",
        "PUT",
        "/repos/acme/landing-zone/contents/.gantry-lock.json",
    ),
    (
        "env file",
        "GET",
        "/repos/acme/landing-zone/contents/deploy/preprod.env",
    ),
    (
        "commit",
        "PUT",
        "/repos/acme/landing-zone/contents/deploy/preprod.env",
    ),
    ("pull request", "POST", "/repos/acme/landing-zone/pulls"),
    ("superseded", "GET", "/repos/acme/landing-zone/pulls"),
    (
        "checks",
        "GET",
        "/repos/acme/landing-zone/commits/*/check-runs",
    ),
    ("mirror", "POST", "/repos/acme/service/check-runs"),
    (
        "approve",
        "POST",
        "/repos/acme/landing-zone/pulls/*/reviews",
    ),
    ("merge", "PUT", "/repos/acme/landing-zone/pulls/*/merge"),
    (
        "branch delete",
        "DELETE",
        "/repos/acme/landing-zone/git/refs/heads/deploy/**",
    ),
    ("promotion", "PATCH", "/repos/acme/service/releases/*"),
    (
        "lock release",
        "DELETE",
        "/repos/acme/landing-zone/git/refs/heads/gantry-lock/**",
    ),
];

fn fail_then_resume(step: &str, method: &str, path: &str) {
    let sim = sim();
    sim.add_fault(Fault::new(method, path, FaultAction::Status { status: 403 }).times(1));
    let first = action(&sim, "v1.4.0").run();
    assert_eq!(first.code, 1, "{step}: {}", first.render());
    assert_eq!(first.output("result"), "failed", "{step}");
    first.assert_never_shows(BOT_TOKEN);
    first.assert_never_shows(WORKFLOW_TOKEN);
    assert_eq!(sim.faults().len(), 0, "{step}: the fault fired");
    // The re-run attempt of the same workflow run, as GitHub starts it.
    let second = action(&sim, "v1.4.0").env("GITHUB_RUN_ATTEMPT", "2").run();
    assert_deployed(&second);
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 1, "{step}: one pull request: {pulls:?}");
    assert!(pulls[0].2, "{step}: merged");
    assert_eq!(merges(&sim), 1, "{step}: one merge");
    let approvals = sim.world(|w| {
        w.repos[crate::common::LZ].pulls[0]
            .reviews
            .iter()
            .filter(|r| r.state == "APPROVED")
            .count()
    });
    assert_eq!(approvals, 1, "{step}: one approval");
    assert_eq!(promotions(&sim), 1, "{step}: one promotion");
    assert!(!is_prerelease(&sim, "v1.4.0"), "{step}");
    assert!(
        lz_text(&sim, PREPROD).contains("IMAGE_VERSION=v1.4.0 "),
        "{step}"
    );
    assert!(
        lz_branches(&sim).is_empty(),
        "{step}: {:?}",
        lz_branches(&sim)
    );
    assert_eq!(
        mirrored(&sim).len(),
        2,
        "{step}: mirrors updated, not duplicated"
    );
    assert_roles(&sim);
}

/// Every step in turn, all at once: each case has its own simulator.
#[test]
fn a_failure_at_any_step_is_picked_up_by_the_next_run() {
    concurrently(
        STEPS
            .iter()
            .map(|&(step, method, path)| story(step, move || fail_then_resume(step, method, path)))
            .collect(),
    );
}

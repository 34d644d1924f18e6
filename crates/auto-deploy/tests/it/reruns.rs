//! Re-runs that must not skip work: a run stopped after the merge leaves mirrors to finish, and a
//! run stopped between commenting on a superseded pull request and closing it leaves its comment.

use github_sim::{Fault, FaultAction};

use crate::common::{
    LZ, PREPROD_FILE, PROD_FILE, action, assert_deployed, is_prerelease, lz_branches, merges,
    mirrored, promotions, pulls, sim_with,
};

fn a_re_run_after_the_merge_brings_the_mirrors_up_to_date() {
    // Both checks finish together, so the only mirror updates are the final ones, after the merge.
    let sim = sim_with(
        PREPROD_FILE,
        PROD_FILE,
        &[("lint", "success", 20_000), ("test", "success", 20_000)],
    );
    sim.add_fault(Fault::new(
        "PATCH",
        "/repos/acme/service/check-runs/*",
        FaultAction::Status { status: 403 },
    ));
    let first = action(&sim, "v1.4.0").run();
    assert_eq!(first.code, 1, "{}", first.render());
    assert!(pulls(&sim)[0].2, "the first run merged");
    let in_progress = |name: &str| (name.to_owned(), "in_progress".to_owned(), None);
    assert_eq!(
        mirrored(&sim),
        [in_progress("lint"), in_progress("test")],
        "the final mirror sync failed"
    );
    sim.clear_faults();
    let second = action(&sim, "v1.4.0").run();
    assert_deployed(&second);
    assert!(
        second.stdout.contains("was merged by an earlier run"),
        "{}",
        second.stdout
    );
    let success = |name: &str| {
        (
            name.to_owned(),
            "completed".to_owned(),
            Some("success".to_owned()),
        )
    };
    assert_eq!(mirrored(&sim), [success("lint"), success("test")]);
    let checks: serde_json::Value = serde_json::from_str(second.output("checks")).unwrap();
    assert_eq!(checks.as_array().unwrap().len(), 2, "{checks}");
    assert_eq!(merges(&sim), 1);
    assert_eq!(promotions(&sim), 1);
    assert!(!is_prerelease(&sim, "v1.4.0"));
    assert!(lz_branches(&sim).is_empty(), "{:?}", lz_branches(&sim));
}

fn a_re_run_after_commenting_on_a_superseded_pull_request_does_not_comment_again() {
    let sim = sim_with(
        PREPROD_FILE,
        PROD_FILE,
        &[("lint", "success", 1000), ("test", "failure", 2000)],
    );
    let first = action(&sim, "v1.4.0").run();
    assert_eq!(first.code, 1, "{}", first.render());
    // The close of #1 is refused once: the run stops after its comment.
    sim.add_fault(
        Fault::new(
            "PATCH",
            "/repos/acme/landing-zone/pulls/*",
            FaultAction::Status { status: 403 },
        )
        .times(1),
    );
    let stopped = action(&sim, "v1.5.0").run();
    assert_eq!(stopped.code, 1, "{}", stopped.render());
    assert!(pulls(&sim)[0].1, "#1 still open");
    let again = action(&sim, "v1.5.0").run();
    assert!(
        again.stdout.contains("closed #1 as superseded"),
        "{}",
        again.render()
    );
    let pulls = pulls(&sim);
    assert!(!pulls[0].1 && !pulls[0].2, "#1 closed unmerged: {pulls:?}");
    let comments: Vec<String> = sim.world(|w| {
        w.repos[LZ]
            .comments
            .iter()
            .filter(|c| c.number == 1)
            .map(|c| c.body.clone())
            .collect()
    });
    assert_eq!(comments.len(), 1, "{comments:?}");
}

crate::stories!(
    a_re_run_after_the_merge_brings_the_mirrors_up_to_date,
    a_re_run_after_commenting_on_a_superseded_pull_request_does_not_comment_again,
);

//! Re-runs that must not skip work: a run stopped after the merge leaves mirrors to finish, and a
//! run stopped between commenting on a superseded pull request and closing it leaves its comment.
//! And re-runs that must not redo work people decided on: a pull request closed unmerged stays
//! closed, and one people merged leaves nothing to do.

use github_sim::world::PullState;
use github_sim::{Fault, FaultAction};

use crate::common::{
    LZ, PASSING, PERSON, PREPROD, PREPROD_FILE, PROD, PROD_FILE, action, assert_deployed,
    is_prerelease, lz_branches, merges, mirrored, promotions, pulls, sim_with,
    writes_beyond_the_lock,
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

/// Closes pull request #`number` of the landing zone as a person would on its page.
fn close_as_a_person(sim: &github_sim::SimHandle, number: u64) {
    sim.world(|w| {
        let now = w.clock.now_secs();
        let pull = w
            .repos
            .get_mut(LZ)
            .expect("landing zone")
            .pulls
            .iter_mut()
            .find(|p| p.number == number)
            .expect("pull request");
        pull.state = PullState::Closed;
        pull.closed_at = Some(now);
    });
}

fn a_pull_request_a_person_closed_is_not_opened_again() {
    for (env_file, skip_merge) in [(PREPROD, false), (PROD, true)] {
        let sim = sim_with(
            PREPROD_FILE,
            PROD_FILE,
            &[("lint", "success", 500), ("test", "failure", 1000)],
        );
        let deploy = || {
            let run = action(&sim, "v1.4.0");
            if skip_merge {
                run.input("skip-merge", "true").input("bot-token", "")
            } else {
                run
            }
            .run()
        };
        let first = deploy();
        assert_eq!(first.code, 1, "{env_file}: {}", first.render());
        assert_eq!(pulls(&sim).len(), 1, "{env_file}");
        close_as_a_person(&sim, 1);
        let branches = lz_branches(&sim);
        sim.clear_requests();
        // The same release again: an edited release, a re-run.
        let again = deploy();
        assert_eq!(again.code, 0, "{env_file}: {}", again.render());
        assert_eq!(again.output("result"), "closed", "{env_file}");
        assert_eq!(again.output("pr-number"), "1", "{env_file}");
        assert_eq!(again.output("deployed-version"), "", "{env_file}");
        let warnings: Vec<_> = again
            .commands()
            .into_iter()
            .filter(|c| c.command == "warning")
            .map(|c| c.data)
            .collect();
        assert_eq!(warnings.len(), 1, "{env_file}: {}", again.render());
        for part in [
            "#1 (",
            "was closed without a merge",
            "not opening it again",
            "reopen #1",
        ] {
            assert!(
                warnings[0].contains(part),
                "{part:?} not in {}",
                warnings[0]
            );
        }
        assert!(again.errors().is_empty(), "{}", again.render());
        let pulls = pulls(&sim);
        assert_eq!(pulls.len(), 1, "{env_file}: no new pull request: {pulls:?}");
        assert!(!pulls[0].1 && !pulls[0].2, "{env_file}: #1 stays closed");
        let writes = writes_beyond_the_lock(&sim);
        assert!(writes.is_empty(), "{env_file}: wrote {writes:?}");
        assert_eq!(
            lz_branches(&sim),
            branches,
            "{env_file}: no branch made or left"
        );
        assert!(is_prerelease(&sim, "v1.4.0"), "{env_file}: not promoted");
        assert!(
            again
                .summary
                .contains("its pull request was closed without a merge"),
            "{}",
            again.summary
        );
    }
}

/// deploy-release (skip-merge) runs again for the same release after a person merged its pull
/// request: nothing is left to do, and nothing is touched.
fn a_re_run_after_a_person_merged_the_pull_request_is_unchanged() {
    let sim = sim_with(PREPROD_FILE, PROD_FILE, PASSING);
    let deploy = || {
        action(&sim, "v1.4.0")
            .input("skip-merge", "true")
            .input("bot-token", "")
            .run()
    };
    let first = deploy();
    assert_eq!(first.code, 0, "{}", first.render());
    assert_eq!(first.output("result"), "pr-open");
    sim.world(|w| {
        let head = w.repos[LZ].pulls[0].head_sha;
        let file = *w.objects.commit_files(&head).get(PROD).expect("prod env");
        let text = String::from_utf8(w.objects.blob(&file).expect("blob").to_vec()).unwrap();
        let merge = w
            .push_files(
                LZ,
                "main",
                &[(PROD, Some(text.as_str()))],
                "Merge #1",
                Some(PERSON),
            )
            .expect("merged");
        let now = w.clock.now_secs();
        let pull = &mut w.repos.get_mut(LZ).expect("landing zone").pulls[0];
        pull.state = PullState::Closed;
        pull.merged = true;
        pull.merged_at = Some(now);
        pull.closed_at = Some(now);
        pull.merge_commit_sha = Some(merge);
    });
    let branches = lz_branches(&sim);
    sim.clear_requests();
    let again = deploy();
    assert_eq!(again.code, 0, "{}", again.render());
    assert_eq!(again.output("result"), "unchanged");
    assert_eq!(again.output("previous-version"), "v1.4.0");
    let writes = writes_beyond_the_lock(&sim);
    assert!(writes.is_empty(), "wrote {writes:?}");
    assert_eq!(lz_branches(&sim), branches, "no branch made or left");
    assert_eq!(pulls(&sim).len(), 1);
    assert!(is_prerelease(&sim, "v1.4.0"), "not promoted");
}

crate::stories!(
    a_re_run_after_the_merge_brings_the_mirrors_up_to_date,
    a_re_run_after_commenting_on_a_superseded_pull_request_does_not_comment_again,
    a_pull_request_a_person_closed_is_not_opened_again,
    a_re_run_after_a_person_merged_the_pull_request_is_unchanged,
);

//! What counts as made by the pipeline: a release authored by one of `release-authors`, carrying
//! create-prerelease's marker, whose tag commit is on the release branch. Anything else is
//! refused before the first write; a re-run that would resume earlier work checks it again.

use gantry_testkit::Transcript;

use crate::common::{
    PERSON, PREPROD, PREPROD_FILE, PROD_FILE, RELEASE_AUTHOR, SIDE, SOURCE, action,
    assert_deployed, assert_no_writes, is_prerelease, lz_branches, lz_text, prerelease,
    prerelease_by, pulls, sim, sim_with,
};

/// A refusal at step 1 with one `::error` holding every part, and nothing written anywhere.
fn assert_refused(sim: &github_sim::SimHandle, run: &Transcript, parts: &[&str]) {
    assert_eq!(run.code, 1, "{}", run.render());
    assert_eq!(run.output("result"), "failed");
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    for part in ["step 1. resolve the release"].iter().chain(parts) {
        assert!(errors[0].contains(part), "{part:?} not in {}", errors[0]);
    }
    assert_no_writes(sim);
    assert!(pulls(sim).is_empty());
    assert!(lz_branches(sim).is_empty(), "no lock, no branch");
}

fn a_release_with_the_marker_by_a_foreign_author_is_refused_without_a_write() {
    let sim = sim();
    prerelease_by(&sim, "v1.4.0", true, PERSON);
    let run = action(&sim, "v1.4.0").run();
    assert_refused(
        &sim,
        &run,
        &[
            &format!("authored by {PERSON}"),
            &format!("not one of release-authors ({RELEASE_AUTHOR})"),
        ],
    );
    assert!(is_prerelease(&sim, "v1.4.0"));
}

fn a_release_by_an_allowed_author_is_deployed() {
    let sim = sim();
    // A list with commas and newlines; logins match without case, as GitHub's do.
    let run = action(&sim, "v1.4.0")
        .input(
            "release-authors",
            "octo-machine, other-app[bot]\n  Release-Bot[bot]\n",
        )
        .run();
    assert_deployed(&run);
    assert!(lz_text(&sim, PREPROD).contains("IMAGE_VERSION=v1.4.0 "));
}

fn without_required_origin_a_hand_made_release_by_anyone_is_deployed() {
    let sim = sim();
    prerelease_by(&sim, "v1.4.0", false, PERSON);
    let run = action(&sim, "v1.4.0")
        .input("require-automated-origin", "false")
        .input("release-authors", "")
        .run();
    assert_deployed(&run);
}

fn a_tag_on_a_commit_off_the_default_branch_is_refused_without_a_write() {
    let sim = sim();
    prerelease(&sim, "v2.0.0", true);
    let run = action(&sim, "v2.0.0").run();
    assert_refused(
        &sim,
        &run,
        &[
            "the tag v2.0.0 points at",
            "which is not on branch main of acme/service (1 commit(s)",
            "release-branch",
        ],
    );
    let compare = sim
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/compare/"))
        .expect("a comparison");
    assert!(
        compare
            .path
            .starts_with("/repos/acme/service/compare/main..."),
        "{}",
        compare.path
    );
}

fn a_tag_behind_the_head_of_main_is_deployed() {
    let sim = sim();
    sim.world(|w| {
        w.push_files(
            SOURCE,
            "main",
            &[("CHANGELOG.md", Some("later"))],
            "A later commit",
            None,
        )
        .expect("pushed");
    });
    let run = action(&sim, "v1.4.0").run();
    assert_deployed(&run);
    assert!(run.stdout.contains("(on main)"), "{}", run.stdout);
}

fn release_branch_names_the_branch_the_tag_must_be_on() {
    let sim = sim();
    prerelease(&sim, "v2.0.0", true);
    let run = action(&sim, "v2.0.0").input("release-branch", SIDE).run();
    assert_deployed(&run);
    assert!(lz_text(&sim, PREPROD).contains("IMAGE_VERSION=v2.0.0 "));
    assert!(
        sim.requests()
            .iter()
            .all(|r| r.path != format!("/repos/{SOURCE}")),
        "the default branch is read only when release-branch is empty"
    );
}

fn an_empty_release_branch_is_the_repositorys_default_branch() {
    let sim = sim();
    prerelease(&sim, "v2.0.0", true);
    sim.world(|w| {
        SIDE.clone_into(&mut w.repos.get_mut(SOURCE).expect("source").default_branch);
    });
    let run = action(&sim, "v2.0.0").run();
    assert_deployed(&run);
    assert!(
        run.stdout.contains(&format!("(on {SIDE})")),
        "{}",
        run.stdout
    );
}

fn a_release_branch_that_does_not_exist_is_refused_without_a_write() {
    let sim = sim();
    let run = action(&sim, "v1.4.0")
        .input("release-branch", "no-such-branch")
        .run();
    assert_refused(
        &sim,
        &run,
        &["branch no-such-branch of acme/service, or that branch does not exist"],
    );
}

/// A re-run that would reuse the pull request of an earlier run checks the tag again: moved
/// onto an unreviewed commit in between, it is refused before the lock.
fn a_re_run_after_the_tag_moved_off_the_branch_is_refused_without_a_write() {
    let sim = sim_with(
        PREPROD_FILE,
        PROD_FILE,
        &[("lint", "success", 500), ("test", "failure", 1000)],
    );
    // Without the marker check, which would also notice the move.
    let deploy = || {
        action(&sim, "v1.4.0")
            .input("require-automated-origin", "false")
            .run()
    };
    let first = deploy();
    assert_eq!(first.code, 1, "{}", first.render());
    assert_eq!(
        pulls(&sim).len(),
        1,
        "the first run opened its pull request"
    );
    sim.world(|w| {
        let side = w.repos[SOURCE].branch(SIDE).expect("side branch");
        let actor = w.identity_by_login(PERSON).expect("person").id;
        w.set_ref(SOURCE, "refs/tags/v1.4.0", Some(side), actor);
    });
    sim.clear_requests();
    let again = deploy();
    assert_eq!(again.code, 1, "{}", again.render());
    let errors = again.errors();
    assert_eq!(errors.len(), 1, "{}", again.render());
    assert!(
        errors[0].contains("which is not on branch main"),
        "{}",
        errors[0]
    );
    assert_no_writes(&sim);
    assert_eq!(
        lz_branches(&sim),
        ["deploy/deploy-preprod.env/v1.4.0"],
        "no lock taken"
    );
}

fn empty_release_authors_with_required_origin_is_bad_input_before_any_request() {
    let sim = sim();
    for authors in ["", " ,\n, "] {
        let run = action(&sim, "v1.4.0")
            .input("release-authors", authors)
            .run();
        assert_eq!(run.code, 2, "{}", run.render());
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{}", run.render());
        for part in [
            "input `release-authors`: is empty while require-automated-origin is true",
            "slug[bot], like release-bot[bot]",
            "a machine user's login",
        ] {
            assert!(errors[0].contains(part), "{part:?} not in {}", errors[0]);
        }
        assert!(sim.requests().is_empty(), "{:#?}", sim.requests());
    }
}

crate::stories!(
    a_release_with_the_marker_by_a_foreign_author_is_refused_without_a_write,
    a_release_by_an_allowed_author_is_deployed,
    without_required_origin_a_hand_made_release_by_anyone_is_deployed,
    a_tag_on_a_commit_off_the_default_branch_is_refused_without_a_write,
    a_tag_behind_the_head_of_main_is_deployed,
    release_branch_names_the_branch_the_tag_must_be_on,
    an_empty_release_branch_is_the_repositorys_default_branch,
    a_release_branch_that_does_not_exist_is_refused_without_a_write,
    a_re_run_after_the_tag_moved_off_the_branch_is_refused_without_a_write,
    empty_release_authors_with_required_origin_is_bad_input_before_any_request,
);

//! What the bot approves: exactly the version bump. A commit someone else pushed to the deploy
//! branch, before the checks or between the approval and the merge, or another line of the env
//! file changed, fails the deploy and leaves the pull request to a person, unapproved; a merge
//! of the base into the branch is not a foreign change and still deploys.

use github_sim::SimHandle;

use crate::common::{
    BOT, Ci, LZ, PREPROD, PREPROD_FILE, PROD_FILE, action, assert_deployed, assert_roles,
    is_prerelease, lz_file, lz_text, pulls, sim_with,
};
use gantry_testkit::Transcript;

const BRANCH: &str = "deploy/deploy-preprod.env/v1.4.0";
/// Slow enough that a change lands while the checks run.
const SLOW: Ci<'static> = &[("lint", "success", 10_000), ("test", "success", 20_000)];

/// Runs the deploy of v1.4.0 and calls `meanwhile` once `ready` holds.
fn deploy_while(
    sim: &SimHandle,
    ready: impl Fn(&github_sim::World) -> bool,
    meanwhile: impl FnOnce(),
) -> Transcript {
    std::thread::scope(|scope| {
        let run = scope.spawn(|| action(sim, "v1.4.0").run());
        while !sim.world(|w| ready(w)) {
            assert!(!run.is_finished(), "the deploy ended before the change");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        meanwhile();
        run.join().unwrap()
    })
}

fn pull_opened(w: &github_sim::World) -> bool {
    !w.repos[LZ].pulls.is_empty()
}

fn approved(w: &github_sim::World) -> bool {
    w.repos[LZ]
        .pulls
        .first()
        .is_some_and(|p| p.reviews.iter().any(|r| r.state == "APPROVED"))
}

fn push_notes(sim: &SimHandle) {
    sim.world(|w| {
        w.push_files(
            LZ,
            BRANCH,
            &[("NOTES.md", Some("someone else's change\n"))],
            "someone else's change",
            None,
        )
    })
    .expect("pushed to the deploy branch");
}

/// The bot's latest verdict on #1, if any.
fn bot_verdict(sim: &SimHandle) -> Option<String> {
    sim.world(|w| {
        let bot = w.identity_by_login(BOT).unwrap().id;
        w.repos[LZ].pulls[0]
            .reviews
            .iter()
            .rfind(|r| r.user == bot && r.state != "COMMENTED")
            .map(|r| r.state.clone())
    })
}

/// The deploy failed, nothing was merged, the pull request is open for a person.
fn assert_left_for_a_person(sim: &SimHandle, run: &Transcript) {
    assert_eq!(run.code, 1, "{}", run.render());
    assert_eq!(run.output("result"), "failed");
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("holds changes gantry auto-deploy did not make")
            && errors[0].contains("a person must review it"),
        "{}",
        errors[0]
    );
    let pulls = pulls(sim);
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].1 && !pulls[0].2, "open and not merged: {pulls:?}");
    assert_eq!(lz_text(sim, PREPROD), PREPROD_FILE, "main untouched");
    assert_eq!(lz_file(sim, "main", "NOTES.md"), None);
    assert!(is_prerelease(sim, "v1.4.0"));
    assert_ne!(bot_verdict(sim).as_deref(), Some("APPROVED"));
    assert_roles(sim);
}

fn a_foreign_commit_pushed_before_the_checks_is_never_approved() {
    let sim = sim_with(PREPROD_FILE, PROD_FILE, SLOW);
    let run = deploy_while(&sim, pull_opened, || push_notes(&sim));
    assert_left_for_a_person(&sim, &run);
    let error = &run.errors()[0];
    assert!(
        error.contains("\"someone else's change\" by GitHub <noreply@github.com> (NOTES.md)")
            && error.contains("NOTES.md (added)"),
        "{error}"
    );
    assert_eq!(bot_verdict(&sim), None, "the bot never reviewed");
}

fn a_foreign_commit_pushed_between_approval_and_merge_withdraws_the_approval() {
    let sim = sim_with(PREPROD_FILE, PROD_FILE, SLOW);
    // The merge follows the approval at once (no fixed gap between writes): the first merge
    // request is held for a real second and a half, so the foreign push lands before it is served.
    sim.add_fault(
        github_sim::Fault::new(
            "PUT",
            "/repos/*/*/pulls/*/merge",
            github_sim::FaultAction::Latency { ms: 1500 },
        )
        .times(1),
    );
    let run = deploy_while(&sim, approved, || push_notes(&sim));
    assert_left_for_a_person(&sim, &run);
    assert!(
        run.errors()[0].contains("the bot's earlier approval was withdrawn"),
        "{}",
        run.render()
    );
    assert_eq!(bot_verdict(&sim).as_deref(), Some("CHANGES_REQUESTED"));
    let blocked = sim.world(|w| {
        let r = &w.repos[LZ];
        w.mergeability(r, &r.pulls[0]).blocked
    });
    assert!(
        blocked
            .iter()
            .any(|reason| reason.contains("Changes were requested")),
        "the earlier approval no longer lets anyone merge: {blocked:?}"
    );
}

fn another_line_of_the_env_file_is_refused_even_in_a_commit_that_looks_like_ours() {
    let sim = sim_with(PREPROD_FILE, PROD_FILE, SLOW);
    let tampered = PREPROD_FILE
        .replace("IMAGE_VERSION=v1.3.0", "IMAGE_VERSION=v1.4.0")
        .replace("IMAGE_NAME=acme/service", "IMAGE_NAME=evil/service");
    let run = deploy_while(&sim, pull_opened, || {
        sim.world(|w| {
            w.push_files(
                LZ,
                BRANCH,
                &[(PREPROD, Some(&tampered))],
                "Deploy v1.4.0 to deploy/preprod.env",
                Some("github-actions"),
            )
        })
        .expect("pushed");
    });
    assert_left_for_a_person(&sim, &run);
    let error = &run.errors()[0];
    assert!(
        error.contains(
            "deploy/preprod.env (differs from its base by more than the IMAGE_VERSION line)"
        ) && !error.contains("foreign commits"),
        "{error}"
    );
}

fn a_merge_of_the_base_into_the_branch_still_deploys() {
    let sim = sim_with(PREPROD_FILE, PROD_FILE, SLOW);
    let run = deploy_while(&sim, pull_opened, || {
        sim.world(|w| {
            w.push_files(
                LZ,
                "main",
                &[("README.md", Some("landing zone\n"))],
                "docs",
                None,
            )
            .expect("pushed to main");
            let (head, base) = (
                w.repos[LZ].branch(BRANCH).unwrap(),
                w.repos[LZ].branch("main").unwrap(),
            );
            let merge_base = w.objects.merge_base(&base, &head);
            let files = w
                .objects
                .merge_files(merge_base.as_ref(), &head, &base)
                .expect("no conflict");
            let sig = w.signature_of(None);
            let merge = w.commit_tree(
                &files,
                vec![head, base],
                &format!("Merge branch 'main' into {BRANCH}"),
                &sig,
            );
            w.set_ref(LZ, &format!("refs/heads/{BRANCH}"), Some(merge), 0);
        });
    });
    assert_deployed(&run);
    assert!(
        lz_text(&sim, PREPROD).contains("export IMAGE_VERSION=v1.4.0 "),
        "{}",
        lz_text(&sim, PREPROD)
    );
    assert_eq!(lz_text(&sim, "README.md"), "landing zone\n");
    assert_roles(&sim);
}

crate::stories!(
    a_foreign_commit_pushed_before_the_checks_is_never_approved,
    a_foreign_commit_pushed_between_approval_and_merge_withdraws_the_approval,
    another_line_of_the_env_file_is_refused_even_in_a_commit_that_looks_like_ours,
    a_merge_of_the_base_into_the_branch_still_deploys,
);

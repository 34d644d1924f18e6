//! Failures: failing and cancelled checks, downgrades, broken env files, a hand-made release, a
//! deployment that never shows the version. Each names its step and leaves nothing locked.

use gantry_testkit::Transcript;

use crate::common::{
    PASSING, PREPROD, PREPROD_FILE, PROD_FILE, action, assert_roles, is_prerelease, lz_branches,
    lz_text, never_verified, prerelease, pulls, sim, sim_with,
};

fn assert_failed(run: &Transcript, parts: &[&str]) {
    assert_eq!(run.code, 1, "{}", run.render());
    assert_eq!(run.output("result"), "failed");
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    for part in parts {
        assert!(errors[0].contains(part), "{part:?} not in {}", errors[0]);
    }
}

fn a_failing_check_fails_the_deploy_at_once_naming_it() {
    let sim = sim_with(
        PREPROD_FILE,
        PROD_FILE,
        &[
            ("lint", "success", 1000),
            ("test", "failure", 3000),
            ("slow", "success", 600_000),
        ],
    );
    let started = std::time::Instant::now();
    let run = action(&sim, "v1.4.0").run();
    assert_failed(
        &run,
        &[
            "deploy failed at step 6-7. mirror and wait for checks",
            "landing-zone pull request #1",
            "check `test` failure on #1",
            "/runs/",
        ],
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "did not wait for the slow check"
    );
    assert!(!pulls(&sim)[0].2, "not merged");
    assert_eq!(
        lz_branches(&sim),
        ["deploy/deploy-preprod.env/v1.4.0"],
        "lock released, branch kept"
    );
    assert!(run.summary.contains("failed at 6-7"), "{}", run.summary);
    assert_roles(&sim);
}

fn a_cancelled_check_fails_the_deploy() {
    let sim = sim_with(
        PREPROD_FILE,
        PROD_FILE,
        &[("lint", "cancelled", 1000), ("test", "success", 2000)],
    );
    let run = action(&sim, "v1.4.0").run();
    assert_failed(&run, &["check `lint` cancelled"]);
}

fn a_downgrade_is_refused_unless_allowed() {
    let sim = sim_with(
        &PREPROD_FILE.replace("v1.3.0", "v1.5.0"),
        PROD_FILE,
        PASSING,
    );
    let run = action(&sim, "v1.4.0").run();
    assert_failed(
        &run,
        &[
            "refusing to downgrade deploy/preprod.env in acme/landing-zone from v1.5.0 to v1.4.0",
            "allow-downgrade",
        ],
    );
    assert!(pulls(&sim).is_empty());
    assert!(lz_branches(&sim).is_empty());
}

fn a_missing_or_duplicated_key_is_an_error() {
    for (file, message) in [
        ("export OTHER=1\n", "no line sets IMAGE_VERSION"),
        (
            "export IMAGE_VERSION=v1\nIMAGE_VERSION=v1\n",
            "IMAGE_VERSION is set on lines [1, 2]",
        ),
    ] {
        let sim = sim_with(file, PROD_FILE, PASSING);
        let run = action(&sim, "v1.4.0").run();
        assert_failed(&run, &["step 4. edit the env file", message]);
        assert!(pulls(&sim).is_empty());
    }
}

fn a_hand_made_release_is_refused_when_origin_is_required() {
    let sim = sim();
    prerelease(&sim, "v1.4.0", false);
    let run = action(&sim, "v1.4.0").run();
    assert_failed(
        &run,
        &["step 1. resolve the release", "not made by the pipeline"],
    );
    assert!(lz_branches(&sim).is_empty(), "no lock taken");
}

fn a_deployment_that_never_shows_the_version_fails_at_the_verify_deadline() {
    let sim = sim();
    let run = never_verified(&sim, "v1.4.0");
    assert_failed(
        &run,
        &[
            "step 9. verify the deployment",
            "did not show version v1.4.0 2 times in a row within 3s",
            "it last showed version \"v1.3.0\"",
        ],
    );
    assert_eq!(run.output("verified"), "false");
    assert!(pulls(&sim)[0].2, "the merge happened");
    assert!(lz_text(&sim, PREPROD).contains("v1.4.0"));
    assert!(is_prerelease(&sim, "v1.4.0"), "not promoted");
}

crate::stories!(
    a_failing_check_fails_the_deploy_at_once_naming_it,
    a_cancelled_check_fails_the_deploy,
    a_downgrade_is_refused_unless_allowed,
    a_missing_or_duplicated_key_is_an_error,
    a_hand_made_release_is_refused_when_origin_is_required,
    a_deployment_that_never_shows_the_version_fails_at_the_verify_deadline,
);

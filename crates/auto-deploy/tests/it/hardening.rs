//! Hostile input: every input checked before the first request (paths that would leave the
//! repository, image versions outside the tag grammar, values that try to run workflow commands),
//! and the tokens never shown on any error path.

use gantry_testkit::Transcript;
use github_sim::{Fault, FaultAction};

use crate::common::{BOT_TOKEN, WORKFLOW_TOKEN, action, prerelease, sim};

/// Asserts the runner would obey nothing the values smuggled in, and masks only the tokens.
fn assert_no_injected_command(run: &Transcript) {
    run.assert_no_injected_command();
    run.assert_masks_only(&[WORKFLOW_TOKEN, BOT_TOKEN]);
}

fn assert_tokens_never_show(run: &Transcript) {
    run.assert_never_shows(WORKFLOW_TOKEN);
    run.assert_never_shows(BOT_TOKEN);
}

/// An input, its bad value, and other inputs the case needs.
type BadInput = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn every_bad_input_is_refused_with_exit_2_before_any_request() {
    let sim = sim();
    prerelease(&sim, "v1.4.0", true);
    let cases: &[BadInput] = &[
        ("env-file", "../../../acme/service/contents/README.md", &[]),
        ("env-file", "envs/../../../../../user", &[]),
        ("env-file", "/deploy/preprod.env", &[]),
        ("env-file", "deploy/./preprod.env", &[]),
        ("env-file", "deploy//preprod.env", &[]),
        ("env-file", "deploy\\preprod.env", &[]),
        (
            "env-file",
            "deploy/preprod.env\r::set-output name=pwned::yes",
            &[],
        ),
        ("prod-env-file", "../prod.env", &[("skip-merge", "true")]),
        ("image-version", "1.1##[add-mask]registry.example/app", &[]),
        ("image-version", "v1.4.0\r::set-output name=pwned::yes", &[]),
        ("image-version", "v1.4.0/../../user", &[]),
        ("tag", "v1.4.0\r::set-output name=pwned::yes", &[]),
        ("tag", "v1.4.0##[set-output name=x;]PWNED", &[]),
        ("tag", "../../../user", &[]),
        ("base-branch", "main/../../../user", &[]),
        ("landing-zone-repo", "../user", &[]),
        ("release-branch", "main/../../../user", &[]),
        ("deploy-branch-prefix", "../refs/tags/", &[]),
        (
            "deploy-branch-prefix",
            "deploy\r::set-output name=pwned::yes",
            &[],
        ),
        ("lock-branch-prefix", "locks.lock/", &[]),
        ("lock-branch-prefix", "deploy/locks/", &[]),
        ("release-authors", "", &[]),
        ("release-authors", "@mallory", &[]),
        ("release-authors", "bot\r::set-output name=pwned::yes", &[]),
        (
            "release-authors",
            "release-bot[bot]##[set-output name=x;]PWNED",
            &[],
        ),
    ];
    for (input, value, extra) in cases {
        let mut run = action(&sim, "v1.4.0").input(input, *value);
        for (name, extra_value) in *extra {
            run = run.input(name, *extra_value);
        }
        let run = run.run();
        assert_eq!(run.code, 2, "{input}={value:?}: {}", run.render());
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{}", run.render());
        assert!(
            errors[0].starts_with(&format!("input `{input}`: ")),
            "{input}={value:?}: {}",
            run.render()
        );
        assert!(
            sim.requests().is_empty(),
            "{input}={value:?} made requests: {:#?}",
            sim.requests()
        );
        assert_no_injected_command(&run);
        assert_tokens_never_show(&run);
    }
}

#[test]
fn tokens_never_show_on_any_error_path() {
    let sim = sim();
    prerelease(&sim, "v1.4.0", true);
    // Bad input, a refused token, an API that keeps failing, a missing release.
    let runs = [
        action(&sim, "v1.4.0")
            .input("merge-method", "fast-forward")
            .run(),
        action(&sim, "v1.4.0")
            .input("bot-token", WORKFLOW_TOKEN)
            .run(),
        action(&sim, "v9.9.9").run(),
    ];
    for run in &runs {
        assert_eq!(
            run.code,
            if run.errors()[0].starts_with("input") {
                2
            } else {
                1
            },
            "{}",
            run.render()
        );
        assert_tokens_never_show(run);
    }
    sim.add_fault(Fault::new(
        "GET",
        "/repos/**",
        FaultAction::Status { status: 401 },
    ));
    let run = action(&sim, "v1.4.0").input("timeout", "5s").run();
    assert_eq!(run.code, 1, "{}", run.render());
    assert_tokens_never_show(&run);
}

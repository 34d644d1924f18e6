//! Hostile input: tags that would leave `refs/tags`, values that try to run workflow commands, and
//! the token never shown on any error path.

use gantry_testkit::Transcript;
use github_sim::{Fault, FaultAction};

use crate::common::{BOT_TOKEN, action, api_requests, sim};

/// Asserts the runner would obey nothing the values smuggled in, and masks only the token.
fn assert_no_injected_command(run: &Transcript) {
    run.assert_no_injected_command();
    run.assert_masks_only(&[BOT_TOKEN]);
}

#[test]
fn a_tag_that_would_leave_refs_tags_is_refused_before_any_request() {
    let sim = sim();
    for tag in [
        "../../../user",
        "v1.2.3/../../x",
        "v1.2.3\r::set-output name=pwned::yes",
        "v1.2.3\\..\\x",
    ] {
        let run = action(&sim, "v1.2.3")
            .input("tag", tag)
            .input("tag-pattern", ".*")
            .run();
        assert_eq!(run.code, 2, "{tag:?}: {}", run.render());
        assert_eq!(run.errors().len(), 1, "{}", run.render());
        assert!(
            run.errors()[0].starts_with("input `tag`: "),
            "{}",
            run.render()
        );
        assert!(api_requests(&sim).is_empty(), "{:#?}", api_requests(&sim));
        assert_no_injected_command(&run);
        run.assert_never_shows(BOT_TOKEN);
    }
}

#[test]
fn a_release_name_cannot_run_workflow_commands() {
    let sim = sim();
    let run = action(&sim, "v1.2.3")
        .input("name", "Service {version} ##[set-output name=x;]PWNED")
        .run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert_no_injected_command(&run);
    run.assert_never_shows(BOT_TOKEN);
}

#[test]
fn the_token_never_shows_on_any_error_path() {
    let sim = sim();
    let bad_input = action(&sim, "v1.2.3").input("prerelease", "maybe").run();
    assert_eq!(bad_input.code, 2, "{}", bad_input.render());
    bad_input.assert_never_shows(BOT_TOKEN);
    sim.add_fault(Fault::new(
        "GET",
        "/repos/**",
        FaultAction::Status { status: 500 },
    ));
    let failing = action(&sim, "v1.2.3").input("timeout", "3s").run();
    assert_eq!(failing.code, 1, "{}", failing.render());
    failing.assert_never_shows(BOT_TOKEN);
}

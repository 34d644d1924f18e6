//! Stories: create, re-run, drift, update, bad input, the workflow-token warning.

use crate::common::{
    BOT_TOKEN, READ_TOKEN, WORKFLOW_TOKEN, action, api_requests, assert_success, releases, sim,
};

#[test]
fn a_tag_push_creates_one_prerelease_with_an_origin_marker() {
    let sim = sim();
    let run = action(&sim, "v1.2.3").run();
    assert_success(&run);
    let releases = releases(&sim);
    assert_eq!(releases.len(), 1);
    let release = &releases[0];
    assert!(release.prerelease && !release.draft);
    assert_eq!(release.tag_name, "v1.2.3");
    assert_eq!(release.name.as_deref(), Some("v1.2.3"));
    let origin =
        gantry_github::Origin::find(release.body.as_deref().unwrap()).expect("origin marker");
    assert_eq!(
        (origin.tool.as_str(), origin.repository.as_str()),
        ("create-prerelease", "acme/service")
    );
    assert_eq!(origin.run_id.as_deref(), Some("777"));
    assert_eq!(run.output("release-id"), release.id.to_string());
    assert_eq!(run.output("tag"), "v1.2.3");
    assert_eq!(run.output("prerelease"), "true");
    assert_eq!(run.output("created"), "true");
    assert_eq!(run.output("updated"), "false");
    assert!(
        run.output("html-url")
            .ends_with("/acme/service/releases/tag/v1.2.3"),
        "{}",
        run.render()
    );
    assert!(
        run.output("upload-url").contains("/releases/"),
        "{}",
        run.render()
    );
    assert!(
        run.summary.contains("Prerelease `v1.2.3` created"),
        "{}",
        run.summary
    );
    let requests = api_requests(&sim);
    assert!(
        requests.len() <= 4,
        "happy path within 4 requests: {requests:#?}"
    );
    let events = sim.events();
    assert!(events.iter().any(|e| e.event == "release"
        && e.action.as_deref() == Some("prereleased")
        && e.triggers_workflows));
}

#[test]
fn a_rerun_changes_nothing_in_at_most_two_requests() {
    let sim = sim();
    assert_success(&action(&sim, "v1.2.3").run());
    sim.clear_requests();
    let run = action(&sim, "v1.2.3").run();
    assert_success(&run);
    assert_eq!(run.output("created"), "false");
    assert_eq!(releases(&sim).len(), 1);
    let requests = api_requests(&sim);
    assert!(
        requests.len() <= 2 && requests.iter().all(|r| r.starts_with("GET")),
        "{requests:#?}"
    );
    assert!(
        run.summary
            .contains("already existed, identical: left unchanged"),
        "{}",
        run.summary
    );
}

#[test]
fn a_drifted_release_fails_saying_how_and_update_fixes_it() {
    let sim = sim();
    assert_success(&action(&sim, "v1.2.3").run());
    let run = action(&sim, "v1.2.3")
        .input("name", "Service {version}")
        .input("prerelease", "false")
        .run();
    assert_eq!(run.code, 1, "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("exists and differs: title is \"v1.2.3\", wanted \"Service 1.2.3\"; prerelease is true, wanted false"),
        "{errors:?}"
    );
    assert!(run.outputs.is_empty(), "no outputs on failure");

    let run = action(&sim, "v1.2.3")
        .input("name", "Service {version}")
        .input("prerelease", "false")
        .input("on-existing", "update")
        .run();
    assert_success(&run);
    assert_eq!(
        (
            run.output("created"),
            run.output("updated"),
            run.output("prerelease")
        ),
        ("false", "true", "false")
    );
    let releases = releases(&sim);
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].name.as_deref(), Some("Service 1.2.3"));
}

#[test]
fn a_hand_made_release_is_not_taken_for_the_pipelines() {
    let sim = sim();
    let run = action(&sim, "v1.2.3").run();
    assert_success(&run);
    let id = run.output("release-id").to_owned();
    sim.world(|world| {
        let release = world
            .repos
            .get_mut("acme/service")
            .unwrap()
            .releases
            .iter_mut()
            .find(|r| r.id.to_string() == id)
            .unwrap();
        release.body = Some("typed by hand".to_owned());
    });
    let run = action(&sim, "v1.2.3").run();
    assert_eq!(run.code, 1);
    assert!(
        run.errors()[0].contains("it has no origin marker (not made by create-prerelease)"),
        "{}",
        run.render()
    );
}

#[test]
fn prerelease_auto_follows_the_version() {
    let sim = sim();
    let final_release = action(&sim, "v1.2.3").input("prerelease", "auto").run();
    assert_success(&final_release);
    assert_eq!(final_release.output("prerelease"), "false");
    let candidate = action(&sim, "v1.3.0-rc.1")
        .input("prerelease", "auto")
        .run();
    assert_success(&candidate);
    assert_eq!(candidate.output("prerelease"), "true");
}

/// A monorepo's per-service tags: the version after `tag-prefix`, in PEP 440 here, decides the
/// prerelease and fills `{version}`; a tag of another prefix is not a version.
#[test]
fn per_service_tags_are_read_after_their_prefix() {
    let sim = sim();
    let candidate = action(&sim, "api-v2.4.0rc1")
        .input("tag-prefix", "api-v")
        .input("prerelease", "auto")
        .input("name", "api {version}")
        .run();
    assert_success(&candidate);
    assert_eq!(candidate.output("prerelease"), "true");
    let release = action(&sim, "api-v2.4.0")
        .input("tag-prefix", "api-v")
        .input("prerelease", "auto")
        .input("name", "api {version}")
        .run();
    assert_success(&release);
    assert_eq!(release.output("prerelease"), "false");
    let mut names: Vec<String> = releases(&sim)
        .iter()
        .map(|r| r.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, ["api 2.4.0", "api 2.4.0rc1"]);
    let without_prefix = action(&sim, "api-v2.4.0rc1").run();
    assert_eq!(without_prefix.code, 2, "{}", without_prefix.render());
    assert!(
        without_prefix.errors()[0]
            .starts_with("input `tag`: `api-v2.4.0rc1` is not a version after tag-prefix `v`"),
        "{}",
        without_prefix.render()
    );
}

#[test]
fn a_templated_body_is_used_and_compared() {
    let sim = sim();
    let run = action(&sim, "v1.2.3")
        .input("body", "Release {version} of {repository}")
        .run();
    assert_success(&run);
    let body = releases(&sim)[0].body.clone().unwrap();
    assert!(
        body.starts_with("Release 1.2.3 of acme/service\n\n<!-- gantry-origin "),
        "{body}"
    );
    let rerun = action(&sim, "v1.2.3")
        .input("body", "Release {version} of {repository}")
        .run();
    assert_eq!(rerun.output("created"), "false");
    let drift = action(&sim, "v1.2.3").input("body", "Other notes").run();
    assert_eq!(drift.code, 1);
    assert!(drift.errors()[0].contains("its notes differ from the body template"));
}

#[test]
fn a_missing_tag_is_bad_input_and_nothing_is_created() {
    let sim = sim();
    let run = action(&sim, "v9.9.9").run();
    assert_eq!(run.code, 2, "{}", run.render());
    assert_eq!(
        run.errors(),
        ["input `tag`: `v9.9.9` does not exist in acme/service; push the tag before releasing it"]
    );
    assert!(releases(&sim).is_empty());
    assert!(run.outputs.is_empty());
}

#[test]
fn a_tag_outside_the_pattern_is_rejected_before_any_request() {
    let sim = sim();
    let run = action(&sim, "not-a-version").run();
    assert_eq!(run.code, 2);
    assert!(
        run.errors()[0]
            .starts_with("input `tag`: `not-a-version` is not a version after tag-prefix `v`"),
        "{}",
        run.render()
    );
    assert!(api_requests(&sim).is_empty());
    let custom = action(&sim, "not-a-version")
        .input("tag-pattern", "^not-")
        .input("prerelease", "auto")
        .run();
    assert_success(&custom);
    assert_eq!(custom.output("prerelease"), "false");
}

#[test]
fn no_tag_outside_a_tag_push_is_bad_input() {
    let sim = sim();
    let run = action(&sim, "v1.2.3")
        .env("GITHUB_REF_TYPE", "branch")
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.errors()[0]
            .contains("input `tag`: is empty and this run was not triggered by a tag push")
    );
}

#[test]
fn an_invalid_or_missing_token_is_bad_input_and_never_shown() {
    let sim = sim();
    let canary = "ghp_CANARYinvalid000000000000";
    let run = action(&sim, "v1.2.3").input("token", canary).run();
    assert_eq!(run.code, 2, "{}", run.render());
    assert!(run.errors()[0].starts_with("input `token`: was rejected by GitHub (GET /repos/acme/service/releases/tags/v1.2.3: 401 Bad credentials"), "{}", run.render());
    run.assert_never_shows(canary);
    let empty = action(&sim, "v1.2.3").input("token", "").run();
    assert_eq!(empty.code, 2);
    assert!(
        empty.errors()[0].starts_with("input `token`: is empty"),
        "{}",
        empty.render()
    );
}

#[test]
fn a_token_without_write_access_fails_with_a_hint() {
    let sim = sim();
    let run = action(&sim, "v1.2.3").input("token", READ_TOKEN).run();
    assert_eq!(run.code, 1, "{}", run.render());
    assert!(
        run.errors()[0].contains("the token needs contents: write"),
        "{}",
        run.render()
    );
    assert!(releases(&sim).is_empty());
}

#[test]
fn the_workflow_token_works_but_is_warned_about() {
    let sim = sim();
    let run = action(&sim, "v1.2.3").input("token", WORKFLOW_TOKEN).run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert!(run.stdout.contains("::warning title=create-prerelease::the release was made with the workflow's own GITHUB_TOKEN"));
    assert!(run.summary.contains("triggers no on: release workflows"));
    let event = sim
        .events()
        .into_iter()
        .find(|e| e.event == "release")
        .unwrap();
    assert!(
        !event.triggers_workflows,
        "the simulator agrees: no downstream workflow"
    );
    assert!(!run.stdout.contains(BOT_TOKEN));
}

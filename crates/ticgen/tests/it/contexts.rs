//! Builds in each GitHub context: tag push, pull request, branch and default branch; the commit
//! time sources; determinism; whole-transcript snapshots.

use serde_json::json;

use crate::common::{COMMIT_EPOCH, MERGE_SHA, Repo, pyproject, success};

#[test]
fn final_release_tag_gets_aliases_and_latest() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(repo.push("refs/tags/v1.2.3").run());
    assert_eq!(run.output("tic"), "1.2.3");
    assert_eq!(run.output("tags"), "1.2.3\n1.2\n1\nlatest");
    assert_eq!(run.output("is-release"), "true");
    assert_eq!(run.output("is-prerelease"), "false");
    assert_eq!(run.output("build"), "tag");
    insta::assert_snapshot!("release_tag", repo.render(&run));
}

#[test]
fn release_tag_without_prefix_with_image_and_without_latest() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(
        repo.push("refs/tags/1.2.3")
            .input("image", "ghcr.io/octo/svc")
            .input("latest", "false")
            .run(),
    );
    assert_eq!(
        run.output("tags"),
        "ghcr.io/octo/svc:1.2.3\nghcr.io/octo/svc:1.2\nghcr.io/octo/svc:1"
    );
}

/// A registry with immutable tags (Harbor) refuses to move `1.2`, `1` and `latest`.
#[test]
fn a_release_for_an_immutable_registry_gets_no_moving_tags() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(
        repo.push("refs/tags/v1.2.3")
            .input("image", "harbor.example/acme/svc")
            .input("aliases", "false")
            .input("latest", "false")
            .run(),
    );
    assert_eq!(run.output("tags"), "harbor.example/acme/svc:1.2.3");
    assert!(
        run.summary.contains(
            "final release: `tic` (`major.minor`, `major`: aliases is off) (`latest` is off)"
        ),
        "{}",
        run.summary
    );
}

#[test]
fn prerelease_tag_in_semver_spelling_gets_only_its_own_tag() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("2.0.0rc1"))]);
    let run = success(repo.push("refs/tags/v2.0.0-rc.1").run());
    assert_eq!(run.output("tic"), "2.0.0-rc.1");
    assert_eq!(run.output("tags"), "2.0.0-rc.1");
    assert_eq!(run.output("is-release"), "true");
    assert_eq!(run.output("is-prerelease"), "true");
}

#[test]
fn custom_tag_prefix_for_monorepo_tags() {
    let repo = Repo::new(&[("services/api/pyproject.toml", &pyproject("0.5.0"))]);
    let run = success(
        repo.push("refs/tags/api-v0.5.0")
            .input("path", "services/api")
            .input("tag-prefix", "api-v")
            .run(),
    );
    assert_eq!(run.output("tic"), "0.5.0");
}

#[test]
fn pull_request_uses_the_head_sha_not_the_merge_sha() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(repo.pull_request().run());
    let short = &repo.sha[..7];
    assert_eq!(run.output("tic"), format!("1.2.3-pr.42.g{short}"));
    assert_eq!(run.output("sha"), repo.sha);
    assert_eq!(run.output("build"), "pull-request");
    assert_eq!(run.output("is-release"), "false");
    assert_eq!(
        run.output("source-date-epoch"),
        COMMIT_EPOCH,
        "read from the head commit with git"
    );
    assert!(!run.raw_outputs.contains(MERGE_SHA) && !run.summary.contains(MERGE_SHA));
    insta::assert_snapshot!("pull_request", repo.render(&run));
}

#[test]
fn pull_request_target_and_sha_override() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let payload = json!({"pull_request": {"number": 7, "head": {"sha": repo.sha}}});
    let run = success(
        repo.run()
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_SHA", MERGE_SHA)
            .event("pull_request_target", &payload)
            .run(),
    );
    assert_eq!(run.output("tic"), format!("1.2.3-pr.7.g{}", &repo.sha[..7]));
    let other = "abcdef0123456789abcdef0123456789abcdef01";
    let run = success(
        repo.pull_request()
            .input("sha", other)
            .input("source-date-epoch", "1700000000")
            .run(),
    );
    assert_eq!(run.output("tic"), "1.2.3-pr.42.gabcdef0");
    assert_eq!(run.output("created"), "2023-11-14T22:13:20Z");
}

#[test]
fn branch_push_with_prerelease_version() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.3.0.dev4"))]);
    let run = success(repo.push("refs/heads/Feature/Login_Page").run());
    let short = &repo.sha[..7];
    assert_eq!(
        run.output("tic"),
        format!("1.3.0-0.dev.4.feature-login-page.g{short}")
    );
    assert_eq!(run.output("build"), "branch");
    assert_eq!(
        run.output("source-date-epoch"),
        COMMIT_EPOCH,
        "from the push payload"
    );
    assert_eq!(run.output("created"), "2024-05-01T12:00:00Z");
    insta::assert_snapshot!("branch_push", repo.render(&run));
}

#[test]
fn default_branch_push_and_post_release() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3.post1"))]);
    let run = success(repo.push("refs/heads/main").run());
    assert_eq!(run.output("build"), "default-branch");
    assert_eq!(
        run.output("tic"),
        format!("1.2.3-main.g{}_post.1", &repo.sha[..7])
    );
}

#[test]
fn ref_input_overrides_the_event() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(
        repo.push("refs/heads/main")
            .input("ref", "refs/tags/v1.2.3")
            .run(),
    );
    assert_eq!(run.output("build"), "tag");
    assert_eq!(run.output("tic"), "1.2.3");
}

#[test]
fn commit_time_sources_in_order() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.0.0"))]);
    let from_env = success(
        repo.push("refs/heads/main")
            .env("SOURCE_DATE_EPOCH", "42")
            .run(),
    );
    assert_eq!(from_env.output("source-date-epoch"), "42");
    assert_eq!(from_env.output("created"), "1970-01-01T00:00:42Z");
    let from_git = success(
        repo.run()
            .env("GITHUB_REF", "refs/heads/x")
            .env("GITHUB_SHA", &repo.sha)
            .run(),
    );
    assert_eq!(from_git.output("source-date-epoch"), COMMIT_EPOCH);
    // A commit that is not in the checkout: no wall clock, an empty output and a warning.
    let absent = success(
        repo.run()
            .env("GITHUB_REF", "refs/heads/x")
            .env("GITHUB_SHA", MERGE_SHA)
            .run(),
    );
    assert_eq!(absent.output("source-date-epoch"), "");
    assert!(!absent.output("labels").contains("created"));
    let warnings: Vec<_> = absent
        .commands()
        .into_iter()
        .filter(|c| c.command == "warning")
        .collect();
    assert_eq!(warnings.len(), 1, "{}", absent.render());
}

#[test]
fn same_inputs_give_byte_identical_outputs() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let first = success(repo.pull_request().run());
    let second = success(repo.pull_request().run());
    // GITHUB_OUTPUT's heredoc delimiter is random by design; the values inside are what must match.
    assert_eq!(first.outputs, second.outputs);
    assert_eq!(first.summary, second.summary);
    assert_eq!(first.stdout, second.stdout);
    // Outside Actions the whole stdout is the outputs: byte for byte, run after run.
    let printed = || success(repo.pull_request().outside_actions().arg("--json").run()).stdout;
    assert_eq!(printed(), printed());
    // The same commit in another clone, elsewhere on disk, gives the same outputs too.
    let clone = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    assert_eq!(clone.sha, repo.sha);
    assert_eq!(success(clone.pull_request().run()).outputs, first.outputs);
}

#[test]
fn json_output_holds_everything_typed() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(repo.push("refs/tags/v1.2.3").run());
    let value: serde_json::Value = serde_json::from_str(run.output("json")).expect("json");
    assert_eq!(value["tags"], json!(["1.2.3", "1.2", "1", "latest"]));
    assert_eq!(value["is-release"], json!(true));
    assert_eq!(value["source-date-epoch"], json!(1_714_564_800));
    assert_eq!(
        value["labels"]["org.opencontainers.image.version"],
        json!("1.2.3")
    );
    for (name, text) in &run.outputs {
        if name != "json" && !value[name].is_array() && !value[name].is_object() {
            let typed = match &value[name] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(&typed, text, "{name}");
        }
    }
}

#[test]
fn branch_slugs_are_valid_identifiers() {
    use ticgen::git_context::slug;
    assert_eq!(slug("Feature/Login_Page"), "feature-login-page");
    assert_eq!(
        slug("--dependabot/pip/requests-2.32.0--"),
        "dependabot-pip-requests-2-32-0"
    );
    assert_eq!(slug("0123"), "branch-0123");
    assert_eq!(slug("日本語"), "branch");
    assert_eq!(
        slug(&"a-".repeat(40)),
        "a-".repeat(20).trim_end_matches('-')
    );
    let semver = ticgen::version::parse_semver("1.0.0").expect("valid");
    for name in ["0123", "日本語", "x/y", "release/1.x", &"long".repeat(30)] {
        let tagged = format!("{semver}-{}.gabcdef0", slug(name));
        assert!(ticgen::version::parse_semver(&tagged).is_ok(), "{tagged}");
        assert!(ticgen::version::is_oci_tag(&tagged), "{tagged}");
    }
}

#[test]
fn short_ref_variables_are_enough() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(
        repo.run()
            .env("GITHUB_REF_TYPE", "tag")
            .env("GITHUB_REF_NAME", "v1.2.3")
            .env("GITHUB_SHA", &repo.sha)
            .run(),
    );
    assert_eq!(run.output("build"), "tag");
    let missing = repo.run().env("GITHUB_SHA", &repo.sha).run();
    crate::common::bad_input(&missing, "ref");
}

#[test]
fn every_declared_output_is_set_and_explained_in_the_summary() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = success(repo.push("refs/tags/v1.2.3").run());
    for output in ticgen::SPEC.outputs {
        assert!(
            run.outputs.contains_key(output.name),
            "output `{}` not set",
            output.name
        );
        if output.name != "json" {
            assert!(
                run.summary.contains(&format!("\n| {} | ", output.name)),
                "`{}` not explained",
                output.name
            );
        }
    }
    assert_eq!(run.outputs.len(), ticgen::SPEC.outputs.len());
}

#[test]
fn a_depth_one_clone_is_enough() {
    let origin = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let clone = origin.shallow_clone();
    // A tag push without a payload: the tag check needs no history and the commit time is one
    // object lookup of the checked-out commit.
    let run = success(
        clone
            .run()
            .env("GITHUB_REF", "refs/tags/v1.2.3")
            .env("GITHUB_SHA", &clone.sha)
            .run(),
    );
    assert_eq!(run.output("tic"), "1.2.3");
    assert_eq!(run.output("source-date-epoch"), "1714568400");
    assert_eq!(run.output("sha"), clone.sha);
}

//! octocrab (the client the actions use) deserialises every simulator response into its models.

use octocrab::Octocrab;
use octocrab::params::repos::Reference;
use serde_json::json;

use crate::common::{Api, b64, head, install_crypto, start};

#[tokio::test]
async fn octocrab_reads_simulator_responses() {
    install_crypto();
    let sim = start().await;
    let gh = |token: &str| {
        Octocrab::builder()
            .base_uri(sim.url())
            .unwrap()
            .personal_token(token.to_owned())
            .build()
            .unwrap()
    };
    let alice = gh("alice-token");
    let app = gh("app-token");
    let raw = Api::new(&sim, "alice-token");
    let main = head(&raw, "acme/service", "main").await;

    let repo = alice.repos("acme", "service").get().await.expect("repo");
    assert_eq!(repo.default_branch.as_deref(), Some("main"));
    let r = alice
        .repos("acme", "service")
        .get_ref(&Reference::Branch("main".into()))
        .await
        .expect("ref");
    assert_eq!(r.ref_field, "refs/heads/main");
    alice
        .repos("acme", "service")
        .create_ref(&Reference::Branch("bump".into()), main.clone())
        .await
        .expect("create ref");
    let file = alice
        .repos("acme", "service")
        .get_content()
        .path("README.md")
        .send()
        .await
        .expect("content");
    assert_eq!(
        file.items[0].sha,
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
    let upd = alice
        .repos("acme", "service")
        .update_file("README.md", "bump", "hello again\n", &file.items[0].sha)
        .branch("bump")
        .send()
        .await
        .expect("update file");
    assert!(upd.commit.sha.is_some());

    let pr = alice
        .pulls("acme", "service")
        .create("Bump", "bump", "main")
        .body("b")
        .send()
        .await
        .expect("create PR");
    let n = pr.number;
    let listed = alice
        .pulls("acme", "service")
        .list()
        .state(octocrab::params::State::Open)
        .send()
        .await
        .expect("list PRs");
    assert_eq!(listed.items.len(), 1);
    let pr = alice.pulls("acme", "service").get(n).await.expect("get PR");
    let head_sha = pr.head.sha.clone();
    let bob = Api::new(&sim, "bob-token");
    bob.post(
        &format!("/repos/acme/service/pulls/{n}/reviews"),
        json!({"event": "APPROVE"}),
    )
    .await;
    let reviews = alice
        .pulls("acme", "service")
        .list_reviews(n)
        .send()
        .await
        .expect("reviews");
    assert_eq!(reviews.items.len(), 1);
    let comment = alice
        .issues("acme", "service")
        .create_comment(n, "deploying")
        .await
        .expect("create comment");
    assert_eq!(comment.body.as_deref(), Some("deploying"));
    let comments = alice
        .issues("acme", "service")
        .list_comments(n)
        .send()
        .await
        .expect("list comments");
    assert_eq!(comments.items.len(), 1);

    app.checks("acme", "service")
        .create_check_run("lint", head_sha.clone())
        .status(octocrab::params::checks::CheckRunStatus::Completed)
        .conclusion(octocrab::params::checks::CheckRunConclusion::Success)
        .send()
        .await
        .expect("check run");
    raw.post(
        &format!("/repos/acme/service/statuses/{head_sha}"),
        json!({"state": "success", "context": "test"}),
    )
    .await;
    let runs = alice
        .checks("acme", "service")
        .list_check_runs_for_git_ref(octocrab::params::repos::Commitish(head_sha.clone()))
        .send()
        .await
        .expect("list check runs");
    assert_eq!(runs.total_count, 1);
    let suites = alice
        .checks("acme", "service")
        .list_check_suites_for_git_ref(octocrab::params::repos::Commitish(head_sha.clone()))
        .send()
        .await
        .expect("list suites");
    assert_eq!(suites.total_count, 1);
    let statuses = alice
        .repos("acme", "service")
        .list_statuses(head_sha.clone())
        .send()
        .await
        .expect("list statuses");
    assert_eq!(statuses.items.len(), 1);
    let combined = alice
        .repos("acme", "service")
        .combined_status_for_ref(&Reference::Branch("bump".into()))
        .await
        .expect("combined");
    assert_eq!(combined.total_count, 1);

    let merged = alice
        .pulls("acme", "service")
        .merge(n)
        .sha(head_sha)
        .method(octocrab::params::pulls::MergeMethod::Squash)
        .send()
        .await
        .expect("merge");
    assert!(merged.merged);

    let rel = alice
        .repos("acme", "service")
        .releases()
        .create("v1.1.0")
        .prerelease(true)
        .body(&b64("x"))
        .send()
        .await
        .expect("create release");
    let by_tag = alice
        .repos("acme", "service")
        .releases()
        .get_by_tag("v1.1.0")
        .await
        .expect("by tag");
    assert_eq!(by_tag.id, rel.id);
    let promoted = alice
        .repos("acme", "service")
        .releases()
        .update(rel.id.0)
        .prerelease(false)
        .send()
        .await
        .expect("promote");
    assert!(!promoted.prerelease);
    let latest = alice
        .repos("acme", "service")
        .releases()
        .get_latest()
        .await
        .expect("latest");
    assert_eq!(latest.id, rel.id);
    let list = alice
        .repos("acme", "service")
        .releases()
        .list()
        .send()
        .await
        .expect("list releases");
    assert_eq!(list.items.len(), 1);
    let notes = alice
        .repos("acme", "service")
        .releases()
        .generate_release_notes("v1.1.0")
        .send()
        .await
        .expect("generate notes");
    assert!(!notes.name.is_empty());
    alice
        .repos("acme", "service")
        .delete_ref(&Reference::Branch("bump".into()))
        .await
        .expect("delete ref");
    let commits = alice
        .repos("acme", "service")
        .list_commits()
        .send()
        .await
        .expect("commits");
    assert!(commits.items.len() >= 2);

    let err = alice
        .repos("acme", "service")
        .releases()
        .create("v1.1.0")
        .send()
        .await
        .expect_err("duplicate");
    match err {
        octocrab::Error::GitHub { source, .. } => assert_eq!(source.status_code.as_u16(), 422),
        other => panic!("expected a GitHub error, got {other:?}"),
    }
    alice
        .repos("acme", "service")
        .releases()
        .delete(rel.id.0)
        .await
        .expect("delete release");
}

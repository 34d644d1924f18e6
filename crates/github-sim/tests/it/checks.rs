//! Story: the landing zone's simulated CI runs checks on every pull request, completing as
//! simulated time passes; commit statuses and check filters work as on GitHub.

use std::time::Duration;

use serde_json::json;

use crate::common::{Api, b64, head, start};

#[tokio::test]
async fn ci_rule_creates_checks_that_complete_with_time() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let main = head(&alice, "acme/landing-zone", "main").await;
    alice
        .post(
            "/repos/acme/landing-zone/git/refs",
            json!({"ref": "refs/heads/bump", "sha": main}),
        )
        .await;
    alice
        .put(
            "/repos/acme/landing-zone/contents/x.txt",
            json!({"message": "x", "content": b64("x"), "branch": "bump"}),
        )
        .await;
    let pr = alice
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "bump", "head": "bump", "base": "main"}),
        )
        .await;
    let sha = pr.json["head"]["sha"].as_str().unwrap().to_owned();
    let runs_path = format!("/repos/acme/landing-zone/commits/{sha}/check-runs");

    let runs = alice.get(&runs_path).await;
    assert_eq!(runs.json["total_count"], 2);
    assert!(
        runs.json["check_runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "in_progress")
    );

    sim.advance(Duration::from_secs(1));
    let lint = alice.get(&format!("{runs_path}?check_name=lint")).await;
    assert_eq!(lint.json["total_count"], 1);
    assert_eq!(lint.json["check_runs"][0]["conclusion"], "success");
    let pending = alice.get(&format!("{runs_path}?status=in_progress")).await;
    assert_eq!(pending.json["check_runs"][0]["name"], "test");

    sim.advance(Duration::from_secs(1));
    // The same URL as the first read: rendered responses are never reused across a change.
    let all = alice.get(&runs_path).await;
    assert!(
        all.json["check_runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "completed")
    );
    let test = alice.get(&format!("{runs_path}?check_name=test")).await;
    assert_eq!(test.json["check_runs"][0]["conclusion"], "failure");
    let suites = alice
        .get(&format!(
            "/repos/acme/landing-zone/commits/{sha}/check-suites"
        ))
        .await;
    assert_eq!(suites.json["total_count"], 1);
    assert_eq!(suites.json["check_suites"][0]["conclusion"], "failure");
    assert_eq!(
        suites.json["check_suites"][0]["app"]["slug"],
        "github-actions"
    );

    // A new push to the head re-runs CI on the new head.
    alice
        .put(
            "/repos/acme/landing-zone/contents/y.txt",
            json!({"message": "y", "content": b64("y"), "branch": "bump"}),
        )
        .await;
    let new_head = head(&alice, "acme/landing-zone", "bump").await;
    let rerun = alice
        .get(&format!(
            "/repos/acme/landing-zone/commits/{new_head}/check-runs"
        ))
        .await;
    assert_eq!(rerun.json["total_count"], 2);
    let id = rerun.json["check_runs"][0]["id"].as_u64().unwrap();
    assert!(sim.complete_check_run("acme/landing-zone", id, "cancelled"));
    let one = alice
        .get(&format!("/repos/acme/landing-zone/check-runs/{id}"))
        .await;
    assert_eq!(one.json["conclusion"], "cancelled");
}

#[tokio::test]
async fn app_creates_and_updates_runs_and_anyone_with_statuses_posts_statuses() {
    let sim = start().await;
    let app = Api::new(&sim, "app-token");
    let alice = Api::new(&sim, "alice-token");
    let sha = head(&alice, "acme/service", "main").await;
    let run = app
        .post(
            "/repos/acme/service/check-runs",
            json!({"name": "mirror", "head_sha": sha, "status": "in_progress"}),
        )
        .await;
    assert_eq!(run.status, 201);
    assert_eq!(run.json["app"]["slug"], "deploy-bot");
    let id = run.json["id"].as_u64().unwrap();
    let done = app
        .patch(
            &format!("/repos/acme/service/check-runs/{id}"),
            json!({"conclusion": "success", "output": {"title": "ok", "summary": "s"}}),
        )
        .await;
    assert_eq!(
        (
            done.json["status"].as_str(),
            done.json["conclusion"].as_str()
        ),
        (Some("completed"), Some("success"))
    );
    assert_eq!(done.json["output"]["title"], "ok");
    let denied = alice
        .patch(
            &format!("/repos/acme/service/check-runs/{id}"),
            json!({"conclusion": "failure"}),
        )
        .await;
    assert_eq!(denied.status, 403);
    let unknown_sha = app
        .post(
            "/repos/acme/service/check-runs",
            json!({"name": "x", "head_sha": "a".repeat(40)}),
        )
        .await;
    assert_eq!(unknown_sha.status, 422);

    for (state, context) in [
        ("pending", "ci/a"),
        ("success", "ci/a"),
        ("failure", "ci/b"),
    ] {
        let s = alice
            .post(
                &format!("/repos/acme/service/statuses/{sha}"),
                json!({"state": state, "context": context}),
            )
            .await;
        assert_eq!(s.status, 201, "{}", s.json);
        assert_eq!(s.json["creator"]["login"], "alice");
    }
    let list = alice
        .get(&format!("/repos/acme/service/commits/{sha}/statuses"))
        .await;
    assert_eq!(list.json.as_array().unwrap().len(), 3);
    let combined = alice.get("/repos/acme/service/commits/main/status").await;
    assert_eq!(combined.json["state"], "failure");
    assert_eq!(combined.json["total_count"], 2);
    let bad = alice
        .post(
            &format!("/repos/acme/service/statuses/{sha}"),
            json!({"state": "great"}),
        )
        .await;
    assert_eq!(bad.status, 422);
}

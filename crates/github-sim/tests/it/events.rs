//! Story: which workflow events each change fires, and that `GITHUB_TOKEN` changes fire none.

use serde_json::json;

use crate::common::{Api, head, start};

#[tokio::test]
async fn release_and_push_events_follow_github_rules() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let workflow = Api::new(&sim, "workflow-token");
    let main = head(&alice, "acme/service", "main").await;

    workflow
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/wf", "sha": main}),
        )
        .await;
    workflow
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v9", "prerelease": true}),
        )
        .await;
    let quiet = sim.events();
    assert!(!quiet.is_empty());
    assert!(
        quiet.iter().all(|e| !e.triggers_workflows),
        "GITHUB_TOKEN changes trigger nothing: {quiet:?}"
    );
    assert_eq!(quiet[0].event, "push");
    assert_eq!(quiet[0].payload["ref"], "refs/heads/wf");
    sim.world(|w| w.events.clear());

    alice
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v3.0.0-rc.1", "prerelease": true}),
        )
        .await;
    let actions = |sim: &github_sim::GithubSim| -> Vec<String> {
        sim.events()
            .iter()
            .filter(|e| e.event == "release")
            .map(|e| e.action.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(actions(&sim), ["created", "published", "prereleased"]);
    assert!(sim.events().iter().all(|e| e.triggers_workflows));
    sim.world(|w| w.events.clear());

    let draft = alice
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v4.0.0-rc.1", "prerelease": true, "draft": true}),
        )
        .await;
    let id = draft.json["id"].as_u64().unwrap();
    alice
        .patch(
            &format!("/repos/acme/service/releases/{id}"),
            json!({"draft": false}),
        )
        .await;
    assert_eq!(
        actions(&sim),
        ["created", "edited", "published"],
        "a published draft prerelease fires published, not prereleased"
    );
    sim.world(|w| w.events.clear());

    alice
        .patch(
            &format!("/repos/acme/service/releases/{id}"),
            json!({"prerelease": false}),
        )
        .await;
    assert_eq!(actions(&sim), ["edited", "released"]);

    let pr = alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "t", "head": "feature", "base": "main"}),
        )
        .await;
    assert_eq!(pr.status, 201);
    let opened = sim
        .events()
        .into_iter()
        .find(|e| e.event == "pull_request")
        .unwrap();
    assert_eq!(opened.action.as_deref(), Some("opened"));
    assert_eq!(opened.actor, "alice");
}

//! Story: a pull request goes through protection (required checks, approvals), reviews and a
//! head-pinned merge; conflicts and stale heads are refused the way GitHub refuses them.

use serde_json::{Value, json};

use crate::common::{Api, b64, head, start};

async fn settled(api: &Api, path: &str) -> Value {
    // `mergeable` is null right after a change; asking again yields the computed value.
    let first = api.get(path).await;
    assert!(
        first.json["mergeable"].is_null(),
        "first read after a change is still computing"
    );
    let second = api.get(path).await;
    assert!(!second.json["mergeable"].is_null());
    second.json
}

#[tokio::test]
async fn protected_merge_flow() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let bob = Api::new(&sim, "bob-token");
    let app = Api::new(&sim, "app-token");

    let pr = alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "Add feature", "head": "feature", "base": "main", "body": "b"}),
        )
        .await;
    assert_eq!(pr.status, 201, "{}", pr.json);
    assert!(pr.json["mergeable"].is_null());
    let number = pr.json["number"].as_u64().unwrap();
    let head_sha = pr.json["head"]["sha"].as_str().unwrap().to_owned();
    let path = format!("/repos/acme/service/pulls/{number}");

    let dup = alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "again", "head": "acme:feature", "base": "main"}),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(
        dup.json["errors"][0]["message"],
        "A pull request already exists for acme:feature."
    );
    let empty = alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "x", "head": "main", "base": "feature"}),
        )
        .await;
    assert_eq!(empty.status, 422);
    assert_eq!(
        empty.json["errors"][0]["message"],
        "No commits between feature and main"
    );

    let pr = settled(&alice, &path).await;
    assert_eq!(
        (pr["mergeable"].as_bool(), pr["mergeable_state"].as_str()),
        (Some(true), Some("blocked"))
    );
    let blocked = alice
        .put(&format!("{path}/merge"), json!({"sha": head_sha}))
        .await;
    assert_eq!(
        (blocked.status, blocked.message()),
        (405, "Required status check \"lint\" is expected.")
    );

    let own = alice
        .post(&format!("{path}/reviews"), json!({"event": "APPROVE"}))
        .await;
    assert_eq!(own.status, 422);
    assert_eq!(
        own.json["errors"][0],
        "Can not approve your own pull request"
    );

    let pat_check = alice
        .post(
            "/repos/acme/service/check-runs",
            json!({"name": "lint", "head_sha": head_sha, "conclusion": "success"}),
        )
        .await;
    assert_eq!(
        (pat_check.status, pat_check.message()),
        (403, "You must authenticate via a GitHub App.")
    );
    for name in ["lint", "test"] {
        let run = app
            .post("/repos/acme/service/check-runs", json!({"name": name, "head_sha": head_sha, "status": "completed", "conclusion": "success"}))
            .await;
        assert_eq!(run.status, 201, "{}", run.json);
    }
    let pr = settled(&alice, &path).await;
    assert_eq!(pr["mergeable_state"], "blocked");
    let needs_review = alice.put(&format!("{path}/merge"), json!({})).await;
    assert_eq!(
        needs_review.message(),
        "At least 1 approving review is required by reviewers with write access."
    );

    let approve = bob
        .post(
            &format!("{path}/reviews"),
            json!({"event": "APPROVE", "body": "lgtm"}),
        )
        .await;
    assert_eq!(approve.status, 200);
    assert_eq!(approve.json["state"], "APPROVED");
    let pr = settled(&alice, &path).await;
    assert_eq!(pr["mergeable_state"], "clean");

    let wrong = alice
        .put(
            &format!("{path}/merge"),
            json!({"sha": "f".repeat(40), "merge_method": "squash"}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.message()),
        (
            409,
            "Head branch was modified. Review and try the merge again."
        )
    );

    assert_eq!(alice.get(&format!("{path}/merge")).await.status, 404);
    let old_main = head(&alice, "acme/service", "main").await;
    let merged = alice
        .put(
            &format!("{path}/merge"),
            json!({"sha": head_sha, "merge_method": "squash"}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.json);
    assert_eq!(merged.json["merged"], true);
    let new_main = head(&alice, "acme/service", "main").await;
    assert_eq!(merged.json["sha"], new_main.as_str());
    let commit = alice
        .get(&format!("/repos/acme/service/git/commits/{new_main}"))
        .await;
    assert_eq!(commit.json["parents"].as_array().unwrap().len(), 1);
    assert_eq!(commit.json["parents"][0]["sha"], old_main.as_str());
    assert_eq!(commit.json["message"], "Add feature (#1)");
    assert_eq!(
        alice
            .get("/repos/acme/service/contents/feature.txt")
            .await
            .status,
        200
    );
    assert_eq!(alice.get(&format!("{path}/merge")).await.status, 204);
    let after = alice.get(&path).await;
    assert_eq!(
        (after.json["state"].as_str(), after.json["merged"].as_bool()),
        (Some("closed"), Some(true))
    );
    assert_eq!(after.json["merge_commit_sha"], new_main.as_str());
    let again = alice.put(&format!("{path}/merge"), json!({})).await;
    assert_eq!(again.status, 405);

    let closed = alice
        .get("/repos/acme/service/pulls?state=closed&head=acme:feature&base=main")
        .await;
    assert_eq!(closed.json.as_array().unwrap().len(), 1);
    assert_eq!(
        alice
            .get("/repos/acme/service/pulls")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn conflicts_are_dirty_and_merge_commits_have_two_parents() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let main = head(&alice, "acme/landing-zone", "main").await;
    for b in ["a", "b"] {
        alice
            .post(
                "/repos/acme/landing-zone/git/refs",
                json!({"ref": format!("refs/heads/{b}"), "sha": main}),
            )
            .await;
        let blob = alice
            .get("/repos/acme/landing-zone/contents/env/prod.env")
            .await
            .json["sha"]
            .clone();
        let put = alice
            .put(
                "/repos/acme/landing-zone/contents/env/prod.env",
                json!({"message": b, "content": b64(&format!("export IMAGE_VERSION={b}\n")), "sha": blob, "branch": b}),
            )
            .await;
        assert_eq!(put.status, 200, "{}", put.json);
    }
    let pa = alice
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "a", "head": "a", "base": "main"}),
        )
        .await;
    let pb = alice
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "b", "head": "b", "base": "main"}),
        )
        .await;
    let (na, nb) = (
        pa.json["number"].as_u64().unwrap(),
        pb.json["number"].as_u64().unwrap(),
    );
    let merged = alice
        .put(
            &format!("/repos/acme/landing-zone/pulls/{na}/merge"),
            json!({"merge_method": "merge"}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.json);
    let commit = alice
        .get(&format!(
            "/repos/acme/landing-zone/git/commits/{}",
            merged.json["sha"].as_str().unwrap()
        ))
        .await;
    assert_eq!(commit.json["parents"].as_array().unwrap().len(), 2);

    let pb_path = format!("/repos/acme/landing-zone/pulls/{nb}");
    let pr = settled(&alice, &pb_path).await;
    assert_eq!(
        (pr["mergeable"].as_bool(), pr["mergeable_state"].as_str()),
        (Some(false), Some("dirty"))
    );
    let refused = alice.put(&format!("{pb_path}/merge"), json!({})).await;
    assert_eq!(
        (refused.status, refused.message()),
        (405, "Pull Request is not mergeable")
    );
    // The CI rule of the landing zone failed `test`: a non-required failing check → unstable
    // would show once conflicts are gone; here the conflict wins.
    let checks = alice
        .get(&format!(
            "/repos/acme/landing-zone/commits/{}/check-runs",
            pr["head"]["sha"].as_str().unwrap()
        ))
        .await;
    assert_eq!(checks.json["total_count"], 2);
}

#[tokio::test]
async fn rebase_replays_commits_onto_the_base() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let main = head(&alice, "acme/landing-zone", "main").await;
    alice
        .post(
            "/repos/acme/landing-zone/git/refs",
            json!({"ref": "refs/heads/r", "sha": main}),
        )
        .await;
    for f in ["one", "two"] {
        alice
            .put(
                &format!("/repos/acme/landing-zone/contents/{f}.txt"),
                json!({"message": f, "content": b64(f), "branch": "r"}),
            )
            .await;
    }
    alice
        .put(
            "/repos/acme/landing-zone/contents/base.txt",
            json!({"message": "base moves", "content": b64("b")}),
        )
        .await;
    let pr = alice
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "r", "head": "r", "base": "main"}),
        )
        .await;
    let n = pr.json["number"].as_u64().unwrap();
    let commits = alice
        .get(&format!("/repos/acme/landing-zone/pulls/{n}/commits"))
        .await;
    assert_eq!(commits.json.as_array().unwrap().len(), 2);
    let merged = alice
        .put(
            &format!("/repos/acme/landing-zone/pulls/{n}/merge"),
            json!({"merge_method": "rebase"}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.json);
    let log = alice.get("/repos/acme/landing-zone/commits").await;
    let messages: Vec<&str> = log
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["two", "one", "base moves", "Initial commit"]);
}

#[tokio::test]
async fn drafts_cannot_be_merged_until_ready() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let pr = alice
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "d", "head": "main", "base": "main", "draft": true}),
        )
        .await;
    assert_eq!(pr.status, 422, "head == base has nothing to merge");
    sim.world(|w| w.push_files("acme/landing-zone", "d", &[("d.txt", Some("d"))], "d", None));
    let pr = alice
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "d", "head": "d", "base": "main", "draft": true}),
        )
        .await;
    assert_eq!(pr.json["draft"], true);
    let n = pr.json["number"].as_u64().unwrap();
    let refused = alice
        .put(
            &format!("/repos/acme/landing-zone/pulls/{n}/merge"),
            json!({}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.message()),
        (405, "Pull Request is still a draft")
    );
}

/// Opens a pull request from a new branch `branch` of acme/service that changes `README.md`
/// (two lines replacing one) and adds a file; returns its number.
async fn open_change(alice: &Api, branch: &str) -> u64 {
    let main = head(alice, "acme/service", "main").await;
    alice
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": format!("refs/heads/{branch}"), "sha": main}),
        )
        .await;
    let blob = alice
        .get("/repos/acme/service/contents/README.md")
        .await
        .json["sha"]
        .clone();
    let put = alice
        .put(
            "/repos/acme/service/contents/README.md",
            json!({"message": "readme", "content": b64("hi\nthere\n"), "sha": blob, "branch": branch}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.json);
    alice
        .put(
            "/repos/acme/service/contents/NEW.md",
            json!({"message": "new", "content": b64("a\nb\nc\n"), "branch": branch}),
        )
        .await;
    let pr = alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": branch, "head": format!("acme:{branch}"), "base": "main"}),
        )
        .await;
    assert_eq!(pr.status, 201, "{}", pr.json);
    pr.json["number"].as_u64().unwrap()
}

#[tokio::test]
async fn head_without_owner_is_ignored_like_github() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    open_change(&alice, "one").await;
    open_change(&alice, "two").await;
    let count = |v: &Value| v.as_array().unwrap().len();
    let owned = alice.get("/repos/acme/service/pulls?head=acme:one").await;
    assert_eq!(count(&owned.json), 1);
    assert_eq!(
        count(
            &alice
                .get("/repos/acme/service/pulls?head=ACME:one")
                .await
                .json
        ),
        1
    );
    let bare = alice.get("/repos/acme/service/pulls?head=one").await;
    assert_eq!(
        count(&bare.json),
        2,
        "a head without owner: is ignored: every open pull request"
    );
    assert_eq!(
        count(
            &alice
                .get("/repos/acme/service/pulls?head=other:one")
                .await
                .json
        ),
        0
    );
}

#[tokio::test]
async fn computed_counts_and_relations() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let bob = Api::new(&sim, "bob-token");
    let number = open_change(&alice, "stats").await;
    let path = format!("/repos/acme/service/pulls/{number}");
    for text in ["first", "second"] {
        bob.post(
            &format!("/repos/acme/service/issues/{number}/comments"),
            json!({"body": text}),
        )
        .await;
    }
    let pr = settled(&alice, &path).await;
    assert_eq!(
        (
            &pr["additions"],
            &pr["deletions"],
            &pr["changed_files"],
            &pr["comments"],
            &pr["commits"]
        ),
        (&json!(5), &json!(1), &json!(2), &json!(2), &json!(2))
    );
    assert_eq!(pr["rebaseable"], true);
    assert_eq!(pr["author_association"], "MEMBER");

    // The base moves on the same file: merging conflicts, and so does rebasing.
    let blob = alice
        .get("/repos/acme/service/contents/README.md")
        .await
        .json["sha"]
        .clone();
    alice
        .put(
            "/repos/acme/service/contents/README.md",
            json!({"message": "other", "content": b64("other\n"), "sha": blob}),
        )
        .await;
    let pr = settled(&alice, &path).await;
    assert_eq!(
        (pr["mergeable"].clone(), pr["rebaseable"].clone()),
        (json!(false), json!(false))
    );

    sim.patch_spec(
        &github_sim::WorldSpec::from_yaml(
            "repos:\n  - name: acme/service\n    roles: { bob: triage }\n",
        )
        .unwrap(),
    )
    .unwrap();
    let comments = alice
        .get(&format!("/repos/acme/service/issues/{number}/comments"))
        .await;
    assert_eq!(comments.json[0]["author_association"], "COLLABORATOR");
    let app = Api::new(&sim, "app-token");
    let by_app = app
        .post(
            &format!("/repos/acme/service/issues/{number}/comments"),
            json!({"body": "bot"}),
        )
        .await;
    assert_eq!(by_app.json["author_association"], "NONE");
}

#[tokio::test]
async fn approvals_count_only_from_writers_and_one_pending_review_each() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let bob = Api::new(&sim, "bob-token");
    sim.patch_spec(
        &github_sim::WorldSpec::from_yaml(
            "repos:\n  - name: acme/service\n    roles: { bob: triage }\n",
        )
        .unwrap(),
    )
    .unwrap();
    let number = open_change(&alice, "gate").await;
    let path = format!("/repos/acme/service/pulls/{number}");
    let reviews = format!("{path}/reviews");

    let pending = bob.post(&reviews, json!({"body": "draft"})).await;
    assert_eq!(
        (pending.status, pending.json["state"].clone()),
        (200, json!("PENDING"))
    );
    let second = bob.post(&reviews, json!({"body": "again"})).await;
    assert_eq!(second.status, 422);
    assert_eq!(
        second.json["errors"][0],
        "User can only have one pending review per pull request"
    );

    // Bob's token may write, but his repository role is triage: his approval does not count.
    assert_eq!(
        bob.post(&reviews, json!({"event": "APPROVE"})).await.status,
        200
    );
    let app = Api::new(&sim, "app-token");
    let sha = settled(&alice, &path).await["head"]["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in ["lint", "test"] {
        app.post(
            "/repos/acme/service/check-runs",
            json!({"name": name, "head_sha": sha, "status": "completed", "conclusion": "success"}),
        )
        .await;
    }
    let blocked = alice.put(&format!("{path}/merge"), json!({})).await;
    assert_eq!(blocked.status, 405);
    assert_eq!(
        blocked.message(),
        "At least 1 approving review is required by reviewers with write access."
    );
    sim.patch_spec(
        &github_sim::WorldSpec::from_yaml(
            "repos:\n  - name: acme/service\n    roles: { bob: write }\n",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        alice.put(&format!("{path}/merge"), json!({})).await.status,
        200
    );
}

#[tokio::test]
async fn github_actions_may_not_open_or_approve_pull_requests_unless_allowed() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let workflow = Api::new(&sim, "workflow-token");
    let refused = workflow
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "t", "head": "acme:feature", "base": "main"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.message()),
        (
            403,
            "GitHub Actions is not permitted to create or approve pull requests."
        )
    );
    let number = open_change(&alice, "wf").await;
    let reviews = format!("/repos/acme/service/pulls/{number}/reviews");
    let approve = workflow.post(&reviews, json!({"event": "APPROVE"})).await;
    assert_eq!(
        (approve.status, approve.message()),
        (
            422,
            "GitHub Actions is not permitted to approve pull requests."
        )
    );
    assert_eq!(
        workflow
            .post(&reviews, json!({"event": "COMMENT", "body": "fine"}))
            .await
            .status,
        200
    );
    // An app installation is not a workflow token: it may approve.
    assert_eq!(
        Api::new(&sim, "app-token")
            .post(&reviews, json!({"event": "APPROVE"}))
            .await
            .status,
        200
    );

    sim.patch_spec(
        &github_sim::WorldSpec::from_yaml(
            "repos:\n  - name: acme/service\n    actions: { can_approve_pull_request_reviews: true }\n",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        workflow
            .post(&reviews, json!({"event": "APPROVE"}))
            .await
            .status,
        200
    );
    let opened = workflow
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "t", "head": "acme:feature", "base": "main"}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.json);
}

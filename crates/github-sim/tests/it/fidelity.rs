//! Fidelity: for each endpoint with a recorded real response in `reference/github/`, the
//! simulator's response to the same request has every key of the recording with the same JSON type.
//!
//! Rules: a `null` in the recording matches anything; a `null` from the simulator matches only keys
//! GitHub's schema declares nullable (listed in `NULLABLE`); arrays compare their first elements
//! when both are non-empty.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::{Api, b64, head, start};

/// Keys GitHub's `OpenAPI` description marks nullable, which the simulator may leave `null`.
const NULLABLE: &[&str] = &[
    "milestone",
    "assignee",
    "closed_at",
    "merged_at",
    "merge_commit_sha",
    "active_lock_reason",
    "body",
    "description",
    "homepage",
    "mirror_url",
    "language",
    "completed_at",
    "conclusion",
    "head_branch",
    "name",
    "published_at",
    "title",
    "summary",
    "text",
    "license",
    "author",
    "committer",
    "template_repository",
    "auto_merge",
    "target_url",
    "merged_by",
    "mergeable",
    "before",
    "signature",
    "payload",
    "patch_url",
    // `null` for unsigned commits (the simulator signs none).
    "verified_at",
];

fn reference() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/github")
}

fn recording(rel: &str) -> Value {
    let path = reference().join(rel);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("recording is JSON")
}

/// The `response` of the n-th recorded call of an octokit fixture with this method and status.
fn octokit(fixture: &str, method: &str, status: u16) -> Value {
    let calls = recording(&format!(
        "octokit-fixtures/{fixture}/normalized-fixture.json"
    ));
    calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["method"] == method && c["status"] == status)
        .unwrap_or_else(|| panic!("{fixture}: no {method} {status}"))["response"]
        .clone()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn compare(path: &str, recorded: &Value, ours: &Value, key: &str, problems: &mut Vec<String>) {
    if recorded.is_null() {
        return;
    }
    if ours.is_null() && NULLABLE.contains(&key) {
        return;
    }
    if kind(recorded) != kind(ours) {
        problems.push(format!(
            "{path}: recorded {} but simulator sent {}",
            kind(recorded),
            kind(ours)
        ));
        return;
    }
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                match o.get(k) {
                    Some(ov) => compare(&format!("{path}.{k}"), rv, ov, k, problems),
                    None => problems.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if let (Some(rv), Some(ov)) = (r.first(), o.first()) {
                compare(&format!("{path}[0]"), rv, ov, key, problems);
            }
        }
        _ => {}
    }
}

fn check(what: &str, recorded: &Value, ours: &Value, problems: &mut Vec<String>) {
    assert!(!ours.is_null(), "{what}: the simulator sent no JSON");
    compare(what, recorded, ours, "", problems);
}

#[tokio::test]
async fn responses_have_the_recorded_shapes() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let bob = Api::new(&sim, "bob-token");
    let app = Api::new(&sim, "app-token");
    let mut p = Vec::new();
    let main = head(&alice, "acme/service", "main").await;

    // Git refs (octokit-fixtures/git-refs).
    check(
        "git-refs list",
        &octokit("git-refs", "get", 200),
        &alice.get("/repos/acme/service/git/refs").await.json,
        &mut p,
    );
    let created = alice
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/test", "sha": main}),
        )
        .await;
    check(
        "git-refs create",
        &octokit("git-refs", "post", 201),
        &created.json,
        &mut p,
    );
    let updated = alice
        .patch(
            "/repos/acme/service/git/refs/heads/test",
            json!({"sha": main, "force": true}),
        )
        .await;
    check(
        "git-refs update",
        &octokit("git-refs", "patch", 200),
        &updated.json,
        &mut p,
    );

    // Contents (get-content, create-file).
    check(
        "contents dir",
        &octokit("get-content", "get", 200),
        &alice.get("/repos/acme/service/contents/").await.json,
        &mut p,
    );
    let put = alice
        .put(
            "/repos/acme/service/contents/test.txt",
            json!({"message": "m", "content": b64("Hello World\n")}),
        )
        .await;
    check(
        "contents create",
        &octokit("create-file", "put", 201),
        &put.json,
        &mut p,
    );

    // Statuses (create-status).
    let st = alice
        .post(
            &format!("/repos/acme/service/statuses/{main}"),
            json!({"state": "failure", "context": "example/1"}),
        )
        .await;
    check(
        "status create",
        &octokit("create-status", "post", 201),
        &st.json,
        &mut p,
    );
    let calls = recording("octokit-fixtures/create-status/normalized-fixture.json");
    let list_rec = calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"].as_str().unwrap().ends_with("/statuses") && c["method"] == "get")
        .unwrap();
    check(
        "status list",
        &list_rec["response"],
        &alice
            .get(&format!("/repos/acme/service/commits/{main}/statuses"))
            .await
            .json,
        &mut p,
    );
    let combined_rec = calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"].as_str().unwrap().ends_with("/status"))
        .unwrap();
    check(
        "combined status",
        &combined_rec["response"],
        &alice
            .get(&format!("/repos/acme/service/commits/{main}/status"))
            .await
            .json,
        &mut p,
    );

    // Releases (release-assets, octocrab releases).
    let rel = alice
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v1.0.1", "name": "v1.0.1", "body": "Description of the release"}),
        )
        .await;
    let id = rel.json["id"].as_u64().unwrap();
    check(
        "release by tag",
        &octokit("release-assets", "get", 200),
        &alice
            .get("/repos/acme/service/releases/tags/v1.0.1")
            .await
            .json,
        &mut p,
    );
    check(
        "release by id",
        &recording("octocrab-resources/repos_releases_get_by_id.json"),
        &alice
            .get(&format!("/repos/acme/service/releases/{id}"))
            .await
            .json,
        &mut p,
    );
    check(
        "release by tag (octocrab)",
        &recording("octocrab-resources/repos_releases_get_by_tag.json"),
        &alice
            .get("/repos/acme/service/releases/tags/v1.0.1")
            .await
            .json,
        &mut p,
    );
    check(
        "release latest",
        &recording("octocrab-resources/repos_releases_get_latest.json"),
        &alice.get("/repos/acme/service/releases/latest").await.json,
        &mut p,
    );
    check(
        "release list",
        &recording("octocrab-resources/repos_releases_list.json"),
        &alice.get("/repos/acme/service/releases").await.json,
        &mut p,
    );
    let notes = alice
        .post(
            "/repos/acme/service/releases/generate-notes",
            json!({"tag_name": "v1.0.1"}),
        )
        .await;
    check(
        "generate notes",
        &recording("octocrab-resources/generate_release_notes.json"),
        &notes.json,
        &mut p,
    );
    let dup = alice
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v1.0.1"}),
        )
        .await;
    check(
        "422 validation",
        &octokit("errors", "post", 422),
        &dup.json,
        &mut p,
    );

    // Pull requests and reviews (octocrab).
    let pr = alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "t", "head": "feature", "base": "main", "body": "b"}),
        )
        .await;
    let n = pr.json["number"].as_u64().unwrap();
    check(
        "pulls list",
        &recording("octocrab-resources/pull_requests_list.json"),
        &alice.get("/repos/acme/service/pulls").await.json,
        &mut p,
    );
    let review = bob
        .post(
            &format!("/repos/acme/service/pulls/{n}/reviews"),
            json!({"event": "APPROVE", "body": "ok"}),
        )
        .await;
    check(
        "review",
        &recording("octocrab-resources/get_pull_request_review.json"),
        &review.json,
        &mut p,
    );

    // Checks (octocrab).
    let sha = pr.json["head"]["sha"].as_str().unwrap().to_owned();
    app.post(
        "/repos/acme/service/check-runs",
        json!({"name": "lint", "head_sha": sha, "conclusion": "success"}),
    )
    .await;
    check(
        "check runs",
        &recording("octocrab-resources/commit_check_runs.json"),
        &alice
            .get(&format!("/repos/acme/service/commits/{sha}/check-runs"))
            .await
            .json,
        &mut p,
    );
    check(
        "check suites",
        &recording("octocrab-resources/list_check_suites_for_ref.json"),
        &alice
            .get(&format!("/repos/acme/service/commits/{sha}/check-suites"))
            .await
            .json,
        &mut p,
    );
    check(
        "lewagon check runs",
        &recording("lewagon-check-runs-samples/all_checks_results.json"),
        &alice
            .get(&format!("/repos/acme/service/commits/{sha}/check-runs"))
            .await
            .json,
        &mut p,
    );

    // Commits (octocrab).
    check(
        "commits list",
        &recording("octocrab-resources/repos_list_commits.json"),
        &alice.get("/repos/acme/service/commits").await.json,
        &mut p,
    );

    assert!(
        p.is_empty(),
        "shape differences from the recordings:\n{}",
        p.join("\n")
    );
}

#[tokio::test]
async fn webhook_payloads_have_the_recorded_shapes() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let main = head(&alice, "acme/service", "main").await;
    alice
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/x", "sha": main}),
        )
        .await;
    alice
        .put(
            "/repos/acme/service/contents/x.txt",
            json!({"message": "x", "content": b64("x"), "branch": "x"}),
        )
        .await;
    alice
        .post(
            "/repos/acme/service/pulls",
            json!({"title": "t", "head": "x", "base": "main", "body": "b"}),
        )
        .await;
    alice
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v9", "prerelease": true}),
        )
        .await;
    let events = sim.events();
    let index = |event: &str, action: Option<&str>| {
        events
            .iter()
            .rposition(|e| e.event == event && e.action.as_deref() == action)
            .unwrap_or_else(|| panic!("no {event} {action:?} event"))
    };
    let mut p = Vec::new();
    // `installation` is only in payloads delivered to GitHub Apps; the simulator renders the
    // repository-webhook form.
    let without_installation = |mut v: Value| {
        v.as_object_mut().unwrap().remove("installation");
        v
    };
    let push = sim.webhook_payload(index("push", None)).unwrap();
    let push_rec = without_installation(recording("rust-lang-bors-webhooks/push.json"));
    check("push webhook", &push_rec, &push, &mut p);
    let opened = sim
        .webhook_payload(index("pull_request", Some("opened")))
        .unwrap();
    let opened_rec = without_installation(recording(
        "rust-lang-bors-webhooks/pull-request-opened.json",
    ));
    check("pull_request webhook", &opened_rec, &opened, &mut p);
    assert!(
        p.is_empty(),
        "shape differences from the recorded webhooks:\n{}",
        p.join("\n")
    );

    let release = sim
        .webhook_payload(index("release", Some("prereleased")))
        .unwrap();
    assert_eq!(release["action"], "prereleased");
    assert_eq!(release["release"]["tag_name"], "v9");
    assert_eq!(release["repository"]["full_name"], "acme/service");
    assert_eq!(release["sender"]["login"], "alice");
    let over_http = Api::anonymous(&sim)
        .get(&format!(
            "/_sim/events/{}/webhook",
            index("release", Some("prereleased"))
        ))
        .await;
    assert_eq!(over_http.json, release);
}

#[tokio::test]
async fn comparisons_have_the_recorded_shape() {
    let sim = start().await;
    let alice = Api::new(&sim, "alice-token");
    let main = head(&alice, "acme/service", "main").await;
    alice
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/x", "sha": main}),
        )
        .await;
    alice
        .put(
            "/repos/acme/service/contents/x.txt",
            json!({"message": "x", "content": b64("x\n"), "branch": "x"}),
        )
        .await;
    let ours = alice.get("/repos/acme/service/compare/main...x").await;
    assert_eq!(ours.status, 200, "{}", ours.json);
    let mut p = Vec::new();
    check(
        "compare",
        &recording("octocrab-resources/repo_compare_commits.json"),
        &ours.json,
        &mut p,
    );
    assert!(
        p.is_empty(),
        "shape differences from the recorded comparison:\n{}",
        p.join("\n")
    );
    assert_eq!(ours.json["status"], "ahead");
    assert_eq!(ours.json["files"][0]["filename"], "x.txt");
}

//! Story: a base branch requires a merge queue. The REST merge is refused; pull requests are
//! queued over GraphQL, built as merge groups on top of the entries ahead, checked by
//! `merge_group` CI and merged in order; a failed group check removes only its entry and the
//! entries behind are rebuilt without it.

use std::time::Duration;

use github_sim::{GithubSim, World};
use serde_json::{Value, json};

use crate::common::{Api, Resp, head, install_crypto};

const WORLD: &str = r#"
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
identities:
  - { login: alice, kind: user, tokens: [alice-token] }
  - { login: bob, kind: user, tokens: [bob-token] }
  - login: reader
    kind: user
    tokens: [reader-token]
    permissions:
      acme/lz: { contents: read, pull_requests: read }
repos:
  - name: acme/lz
    branches:
      main: { files: { "README.md": "lz\n" } }
      one: { files: { "one.txt": "1\n" } }
      two: { files: { "two.txt": "2\n" } }
    protection:
      main:
        required_checks: [build]
        required_approvals: 1
        merge_queue: { merge_method: merge, check_response_timeout_minutes: 30 }
ci:
  - repo: acme/lz
    base: main
    on: [pull_request, merge_group]
    checks:
      - { name: build, after_ms: 60000 }
"#;

const PULL: &str = "query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pr: pullRequest(number: $number) {
      id number state merged headRefOid
      mergeCommit { oid }
      mergeQueueEntry { id position state }
      timelineItems(itemTypes: [ADDED_TO_MERGE_QUEUE_EVENT, REMOVED_FROM_MERGE_QUEUE_EVENT], last: 1) {
        nodes { __typename ... on RemovedFromMergeQueueEvent { reason createdAt } }
      }
    }
  }
}";

const ENQUEUE: &str = "mutation($id: ID!, $head: GitObjectID) {
  enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $head}) {
    mergeQueueEntry { id position state enqueuedAt headCommit { oid } pullRequest { number } }
  }
}";

async fn start(world: &str) -> GithubSim {
    install_crypto();
    GithubSim::start(World::from_yaml(world).expect("world loads"))
        .await
        .expect("sim starts")
}

async fn gql(api: &Api, query: &str, variables: Value) -> Resp {
    let r = api
        .post("/graphql", json!({"query": query, "variables": variables}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r
}

async fn pull_state(api: &Api, number: u64) -> Value {
    let r = gql(
        api,
        PULL,
        json!({"owner": "acme", "name": "lz", "number": number}),
    )
    .await;
    assert!(r.json.get("errors").is_none(), "{}", r.json);
    r.json["data"]["repository"]["pr"].clone()
}

/// Opens an approved pull request from `branch` whose own `build` check has passed; returns its
/// number, `node_id` and head.
async fn ready_pull(sim: &GithubSim, branch: &str) -> (u64, String, String) {
    let alice = Api::new(sim, "alice-token");
    let bob = Api::new(sim, "bob-token");
    let pr = alice
        .post(
            "/repos/acme/lz/pulls",
            json!({"title": format!("Add {branch}"), "head": branch, "base": "main"}),
        )
        .await;
    assert_eq!(pr.status, 201, "{}", pr.json);
    let number = pr.json["number"].as_u64().unwrap();
    let approve = bob
        .post(
            &format!("/repos/acme/lz/pulls/{number}/reviews"),
            json!({"event": "APPROVE"}),
        )
        .await;
    assert_eq!(approve.status, 200, "{}", approve.json);
    let node_id = pr.json["node_id"].as_str().unwrap().to_owned();
    let sha = pr.json["head"]["sha"].as_str().unwrap().to_owned();
    (number, node_id, sha)
}

async fn enqueue(api: &Api, node_id: &str, head: &str) -> Value {
    let r = gql(api, ENQUEUE, json!({"id": node_id, "head": head})).await;
    assert!(r.json.get("errors").is_none(), "{}", r.json);
    r.json["data"]["enqueuePullRequest"]["mergeQueueEntry"].clone()
}

fn queue_refs(sim: &GithubSim) -> Vec<String> {
    sim.world(|w| {
        w.repos["acme/lz"]
            .refs
            .keys()
            .filter(|r| r.starts_with("refs/heads/gh-readonly-queue/"))
            .cloned()
            .collect()
    })
}

#[tokio::test]
async fn two_queued_pull_requests_merge_in_order_through_the_queue() {
    let sim = start(WORLD).await;
    let alice = Api::new(&sim, "alice-token");
    let (one, one_id, one_head) = ready_pull(&sim, "one").await;
    let (two, two_id, two_head) = ready_pull(&sim, "two").await;
    sim.advance(Duration::from_secs(61));

    let refused = alice
        .put(
            &format!("/repos/acme/lz/pulls/{one}/merge"),
            json!({"sha": one_head}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.message()),
        (405, "Changes must be made through the merge queue")
    );

    let first = enqueue(&alice, &one_id, &one_head).await;
    assert_eq!(first["position"], 1);
    assert_eq!(first["state"], "QUEUED");
    assert_eq!(first["headCommit"]["oid"], one_head.as_str());
    assert_eq!(first["pullRequest"]["number"], one);
    assert_eq!(first["enqueuedAt"], "2026-01-01T00:01:01Z");
    let second = enqueue(&alice, &two_id, &two_head).await;
    assert_eq!(second["position"], 2);

    // The next request builds both groups, the second on top of the first.
    let queue = gql(
        &alice,
        "{ repository(owner: \"acme\", name: \"lz\") { mergeQueue(branch: \"main\") {
            configuration { mergeMethod checkResponseTimeout }
            entries { nodes { position state pullRequest { number } } } } } }",
        json!({}),
    )
    .await;
    let q = &queue.json["data"]["repository"]["mergeQueue"];
    assert_eq!(q["configuration"]["mergeMethod"], "MERGE");
    assert_eq!(q["configuration"]["checkResponseTimeout"], 1800);
    assert_eq!(
        q["entries"]["nodes"],
        json!([
            {"position": 1, "state": "AWAITING_CHECKS", "pullRequest": {"number": one}},
            {"position": 2, "state": "AWAITING_CHECKS", "pullRequest": {"number": two}},
        ])
    );
    let refs = queue_refs(&sim);
    assert_eq!(
        refs,
        vec![
            format!("refs/heads/gh-readonly-queue/main/pr-{one}-{one_head}"),
            format!("refs/heads/gh-readonly-queue/main/pr-{two}-{two_head}"),
        ]
    );
    let requested: Vec<Value> = sim
        .events()
        .into_iter()
        .filter(|e| e.event == "merge_group")
        .map(|e| e.payload["merge_group"].clone())
        .collect();
    assert_eq!(requested.len(), 2);
    assert_eq!(
        requested[1]["base_sha"], requested[0]["head_sha"],
        "the second group is built on the first"
    );
    assert_eq!(
        requested[0]["head_ref"],
        format!("refs/heads/gh-readonly-queue/main/pr-{one}-{one_head}")
    );
    assert_eq!(requested[0]["base_ref"], "refs/heads/main");

    sim.advance(Duration::from_secs(61));
    let main = head(&alice, "acme/lz", "main").await;
    assert_eq!(main, requested[1]["head_sha"].as_str().unwrap());
    let p1 = pull_state(&alice, one).await;
    assert_eq!(p1["state"], "MERGED");
    assert_eq!(p1["merged"], true);
    assert_eq!(p1["mergeCommit"]["oid"], requested[0]["head_sha"]);
    assert!(p1["mergeQueueEntry"].is_null());
    let p2 = pull_state(&alice, two).await;
    assert_eq!(p2["mergeCommit"]["oid"], main.as_str());
    let rest = alice.get(&format!("/repos/acme/lz/pulls/{two}")).await;
    assert_eq!(rest.json["merged"], true);
    assert_eq!(rest.json["merged_by"]["login"], "alice");
    let log = alice.get("/repos/acme/lz/commits?sha=main").await;
    let messages: Vec<&str> = log.json.as_array().unwrap()[..2]
        .iter()
        .map(|c| c["commit"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Merge pull request #2 from acme/two\n\nAdd two",
            "Merge pull request #1 from acme/one\n\nAdd one"
        ]
    );
    assert!(
        queue_refs(&sim).is_empty(),
        "temporary branches are deleted"
    );
    let destroyed: Vec<String> = sim
        .events()
        .into_iter()
        .filter(|e| e.event == "merge_group" && e.action.as_deref() == Some("destroyed"))
        .map(|e| e.payload["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(destroyed, ["merged", "merged"]);
}

#[tokio::test]
async fn a_failed_group_check_dequeues_only_that_entry_and_the_next_is_rebuilt() {
    let sim = start(WORLD).await;
    let alice = Api::new(&sim, "alice-token");
    let (one, one_id, one_head) = ready_pull(&sim, "one").await;
    let (two, two_id, two_head) = ready_pull(&sim, "two").await;
    sim.advance(Duration::from_secs(61));
    let base = head(&alice, "acme/lz", "main").await;
    enqueue(&alice, &one_id, &one_head).await;
    enqueue(&alice, &two_id, &two_head).await;
    let before = pull_state(&alice, two).await;
    assert_eq!(before["mergeQueueEntry"]["state"], "AWAITING_CHECKS");

    // The build of the first group fails.
    let group = sim.world(|w| {
        let e = w.merge_queues.entry("acme/lz", one).unwrap();
        let sha = e.group.as_ref().unwrap().sha;
        w.repos["acme/lz"]
            .check_runs
            .iter()
            .find(|c| c.head_sha == sha && c.name == "build")
            .unwrap()
            .id
    });
    assert!(sim.complete_check_run("acme/lz", group, "failure"));

    let p1 = pull_state(&alice, one).await;
    assert_eq!(p1["state"], "OPEN");
    assert!(p1["mergeQueueEntry"].is_null());
    assert_eq!(
        p1["timelineItems"]["nodes"],
        json!([{"__typename": "RemovedFromMergeQueueEvent", "reason": "CI_FAILURE", "createdAt": "2026-01-01T00:01:01Z"}])
    );
    let p2 = pull_state(&alice, two).await;
    assert_eq!(p2["mergeQueueEntry"]["position"], 1);
    let rebuilt = sim.world(|w| {
        let g = w.merge_queues.entry("acme/lz", two).unwrap().group.clone();
        g.unwrap().base_sha.hex()
    });
    assert_eq!(rebuilt, base, "rebuilt on the base, without the first");
    let reasons: Vec<String> = sim
        .events()
        .into_iter()
        .filter(|e| e.event == "merge_group" && e.action.as_deref() == Some("destroyed"))
        .map(|e| e.payload["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["dequeued", "invalidated"]);

    sim.advance(Duration::from_secs(61));
    let p2 = pull_state(&alice, two).await;
    assert_eq!(p2["state"], "MERGED");
    let readme = alice.get("/repos/acme/lz/contents/one.txt?ref=main").await;
    assert_eq!(readme.status, 404, "the failed entry did not land");
    let two_txt = alice.get("/repos/acme/lz/contents/two.txt?ref=main").await;
    assert_eq!(two_txt.status, 200);
}

#[tokio::test]
async fn merge_group_only_conclusions_timeouts_and_head_pushes_remove_entries() {
    let world = WORLD.replace(
        "- { name: build, after_ms: 60000 }",
        "- { name: build, after_ms: 60000, merge_group_conclusion: failure }",
    );
    let sim = start(&world).await;
    let alice = Api::new(&sim, "alice-token");
    let (one, one_id, one_head) = ready_pull(&sim, "one").await;
    let (two, two_id, two_head) = ready_pull(&sim, "two").await;
    sim.advance(Duration::from_secs(61));
    assert_eq!(
        alice.get(&format!("/repos/acme/lz/pulls/{one}")).await.json["mergeable_state"],
        "unknown"
    );
    assert_eq!(
        alice.get(&format!("/repos/acme/lz/pulls/{one}")).await.json["mergeable_state"],
        "clean",
        "the check passes on the pull request itself"
    );
    enqueue(&alice, &one_id, &one_head).await;
    sim.advance(Duration::from_secs(61));
    let p1 = pull_state(&alice, one).await;
    assert_eq!(p1["state"], "OPEN");
    assert_eq!(
        p1["timelineItems"]["nodes"][0]["reason"], "CI_FAILURE",
        "{p1}"
    );

    // A pushed head removes a queued entry.
    enqueue(&alice, &two_id, &two_head).await;
    let pushed = sim.world(|w| {
        w.push_files(
            "acme/lz",
            "two",
            &[("two.txt", Some("2b\n"))],
            "more",
            Some("alice"),
        )
    });
    assert!(pushed.is_some());
    let p2 = pull_state(&alice, two).await;
    assert!(p2["mergeQueueEntry"].is_null());
    assert_eq!(
        p2["timelineItems"]["nodes"][0]["reason"],
        "PULL_REQUEST_UPDATED"
    );

    // A group whose required check never reports is removed after the timeout.
    let silent = WORLD.replace("on: [pull_request, merge_group]", "on: [pull_request]");
    let sim = start(&silent).await;
    let alice = Api::new(&sim, "alice-token");
    let (one, one_id, one_head) = ready_pull(&sim, "one").await;
    sim.advance(Duration::from_secs(61));
    enqueue(&alice, &one_id, &one_head).await;
    sim.advance(Duration::from_secs(29 * 60));
    assert_eq!(
        pull_state(&alice, one).await["mergeQueueEntry"]["state"],
        "AWAITING_CHECKS"
    );
    sim.advance(Duration::from_secs(60));
    let p1 = pull_state(&alice, one).await;
    assert!(p1["mergeQueueEntry"].is_null());
    assert_eq!(p1["timelineItems"]["nodes"][0]["reason"], "CI_TIMEOUT");
}

#[tokio::test]
async fn enqueue_is_refused_without_write_access_or_approval_and_dequeue_is_manual() {
    let sim = start(WORLD).await;
    let alice = Api::new(&sim, "alice-token");
    let reader = Api::new(&sim, "reader-token");
    let (one, one_id, one_head) = ready_pull(&sim, "one").await;

    // Checks still running on the pull request: not yet mergeable, so not queued.
    let early = gql(&alice, ENQUEUE, json!({"id": one_id, "head": one_head})).await;
    assert_eq!(early.json["data"]["enqueuePullRequest"], Value::Null);
    assert_eq!(early.json["errors"][0]["type"], "UNPROCESSABLE");
    assert_eq!(
        early.json["errors"][0]["message"],
        "Required status check \"build\" is expected."
    );
    sim.advance(Duration::from_secs(61));

    let denied = gql(&reader, ENQUEUE, json!({"id": one_id})).await;
    assert_eq!(denied.json["data"]["enqueuePullRequest"], Value::Null);
    assert_eq!(denied.json["errors"][0]["type"], "FORBIDDEN");
    assert_eq!(
        denied.json["errors"][0]["message"],
        "Resource not accessible by personal access token"
    );
    assert_eq!(
        denied.json["errors"][0]["path"],
        json!(["enqueuePullRequest"])
    );
    assert!(sim.world(|w| w.merge_queues.entries.is_empty()));

    let stale = gql(
        &alice,
        ENQUEUE,
        json!({"id": one_id, "head": "0000000000000000000000000000000000000001"}),
    )
    .await;
    assert_eq!(
        stale.json["errors"][0]["message"],
        "Head branch was modified. Review and try the merge again."
    );

    enqueue(&alice, &one_id, &one_head).await;
    let again = gql(&alice, ENQUEUE, json!({"id": one_id})).await;
    assert_eq!(again.json["errors"][0]["type"], "UNPROCESSABLE");

    let by_node = gql(
        &alice,
        "query($id: ID!) { node(id: $id) { __typename ... on PullRequest { number isInMergeQueue } } }",
        json!({"id": one_id}),
    )
    .await;
    assert_eq!(
        by_node.json["data"]["node"],
        json!({"__typename": "PullRequest", "number": one, "isInMergeQueue": true})
    );

    let out = gql(
        &alice,
        "mutation($id: ID!) { dequeuePullRequest(input: {id: $id, clientMutationId: \"x\"}) {
            clientMutationId mergeQueueEntry { position pullRequest { number } } } }",
        json!({"id": one_id}),
    )
    .await;
    assert_eq!(
        out.json["data"]["dequeuePullRequest"],
        json!({"clientMutationId": "x", "mergeQueueEntry": {"position": 1, "pullRequest": {"number": one}}})
    );
    let p1 = pull_state(&alice, one).await;
    assert_eq!(p1["timelineItems"]["nodes"][0]["reason"], "MANUAL");
    assert!(queue_refs(&sim).is_empty());
}

#[tokio::test]
async fn graphql_errors_are_worded_as_github_words_them() {
    let sim = start(WORLD).await;
    let alice = Api::new(&sim, "alice-token");
    let (_, one_id, _) = ready_pull(&sim, "one").await;
    sim.advance(Duration::from_secs(61));

    // An unknown field anywhere: nothing runs, not even the mutation.
    let unknown = gql(
        &alice,
        "mutation($id: ID!) { enqueuePullRequest(input: {pullRequestId: $id}) {
            mergeQueueEntry { id bogus } } }",
        json!({"id": one_id}),
    )
    .await;
    assert!(unknown.json.get("data").is_none(), "{}", unknown.json);
    assert_eq!(
        unknown.json["errors"][0]["message"],
        "Field 'bogus' doesn't exist on type 'MergeQueueEntry'"
    );
    assert_eq!(
        unknown.json["errors"][0]["path"],
        json!(["mutation", "enqueuePullRequest", "mergeQueueEntry", "bogus"])
    );
    assert_eq!(
        unknown.json["errors"][0]["extensions"]["code"],
        "undefinedField"
    );
    assert_eq!(
        unknown.json["errors"][0]["locations"],
        json!([{"line": 2, "column": 34}])
    );
    assert!(sim.world(|w| w.merge_queues.entries.is_empty()));

    let bare = gql(
        &alice,
        "{ repository(owner: \"acme\", name: \"lz\") }",
        json!({}),
    )
    .await;
    assert!(
        bare.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Field must have selections (field 'repository' returns Repository")
    );
    let parse = gql(&alice, "{ repository(", json!({})).await;
    assert!(
        parse.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Parse error")
    );
    let missing = gql(
        &alice,
        "{ repository(owner: \"acme\", name: \"nope\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(missing.json["data"]["repository"], Value::Null);
    assert_eq!(missing.json["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(
        missing.json["errors"][0]["message"],
        "Could not resolve to a Repository with the name 'acme/nope'."
    );
    let none = gql(&alice, "{ node(id: \"bm9wZQ==\") { id } }", json!({})).await;
    assert_eq!(
        none.json["errors"][0]["message"],
        "Could not resolve to a node with the global id of 'bm9wZQ=='"
    );
}

//! Merge queues over GraphQL against the simulator: a pull request is queued by the bot and
//! followed until it merges or is removed (with the reason), retries never queue twice, and
//! GitHub's GraphQL errors come back as errors that name the request.

use std::time::Duration;

use gantry_github::{
    Approver, BotToken, Client, ClientConfig, GithubError, QueueEntryState, QueueOutcome, RepoName,
    Workflow, WorkflowToken,
};
use gantry_runner::Secret;
use github_sim::faults::{Fault, FaultAction};
use github_sim::{SimHandle, World};

use crate::runtime;

const WORLD: &str = r#"
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
identities:
  - { login: author, kind: bot, tokens: [ghp_author] }
  - { login: merger, kind: bot, tokens: [ghp_merger] }
  - login: watcher
    kind: bot
    tokens: [ghp_watcher]
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
        merge_queue: { merge_method: squash }
ci:
  - repo: acme/lz
    base: main
    on: [pull_request, merge_group]
    checks: [{ name: build, after_ms: 1000 }]
"#;

fn config(sim: &SimHandle) -> ClientConfig {
    ClientConfig {
        api_url: sim.url().to_owned(),
        deadline: Duration::from_secs(30),
        ..ClientConfig::default()
    }
}

struct Setup {
    sim: SimHandle,
    author: Client<Workflow>,
    merger: Client<Approver>,
    repo: RepoName,
}

fn setup() -> Setup {
    let sim = SimHandle::spawn(World::from_yaml(WORLD).expect("world parses")).expect("sim");
    let author = Client::new(config(&sim), &WorkflowToken::new(Secret::new("ghp_author"))).unwrap();
    let merger = Client::new(config(&sim), &BotToken::new(Secret::new("ghp_merger"))).unwrap();
    Setup {
        sim,
        author,
        merger,
        repo: RepoName::parse("acme/lz").unwrap(),
    }
}

/// Opens and approves a pull request from `branch`; its own check passes. Returns number, node
/// id and head.
async fn ready(s: &Setup, branch: &str) -> (u64, String, String) {
    let pr = s
        .author
        .create_pull(&s.repo, branch, "main", &format!("Add {branch}"), "")
        .await
        .unwrap();
    s.merger
        .approve(&s.repo, pr.number, &pr.head.sha, "")
        .await
        .unwrap();
    s.sim.advance(Duration::from_secs(2));
    let state = s.author.pull_queue_state(&s.repo, pr.number).await.unwrap();
    assert_eq!(state.outcome(), QueueOutcome::NotQueued);
    (pr.number, state.node_id, pr.head.sha)
}

#[test]
fn a_queued_pull_request_is_followed_until_it_merges() {
    let s = setup();
    runtime().block_on(async {
        let (number, node_id, head) = ready(&s, "one").await;
        let entry = s
            .merger
            .enqueue_pull_request(&node_id, &head)
            .await
            .unwrap();
        assert_eq!(
            (entry.number, entry.position, entry.state),
            (number, 1, QueueEntryState::Queued)
        );
        assert_eq!(entry.head_sha, head);

        let state = s.author.pull_queue_state(&s.repo, number).await.unwrap();
        match state.outcome() {
            QueueOutcome::Queued(e) => assert_eq!(e.state, QueueEntryState::AwaitingChecks),
            other => panic!("still queued: {other:?}"),
        }
        s.sim.advance(Duration::from_secs(2));
        let state = s.author.pull_queue_state(&s.repo, number).await.unwrap();
        let main = s
            .sim
            .world(|w| w.repos["acme/lz"].branch("main").unwrap().hex());
        assert_eq!(
            state.outcome(),
            QueueOutcome::Merged {
                merge_commit_sha: Some(main)
            }
        );
        assert_eq!(state.state, "MERGED");
    });
}

#[test]
fn a_failed_merge_group_check_is_reported_as_the_removal_reason() {
    let s = setup();
    runtime().block_on(async {
        let (number, node_id, head) = ready(&s, "two").await;
        s.merger
            .enqueue_pull_request(&node_id, &head)
            .await
            .unwrap();
        let run = s.sim.world(|w| {
            let group = w
                .merge_queues
                .entry("acme/lz", number)
                .unwrap()
                .group
                .clone();
            let sha = group.unwrap().sha;
            let r = &w.repos["acme/lz"];
            r.check_runs.iter().find(|c| c.head_sha == sha).unwrap().id
        });
        assert!(s.sim.complete_check_run("acme/lz", run, "failure"));
        let state = s.author.pull_queue_state_by_id(&node_id).await.unwrap();
        match state.outcome() {
            QueueOutcome::Removed(removal) => {
                assert_eq!(removal.reason.as_deref(), Some("CI_FAILURE"));
                assert_eq!(removal.at, "2026-01-01T00:00:02Z");
            }
            other => panic!("removed: {other:?}"),
        }
        assert!(!state.merged);
    });
}

#[test]
fn an_enqueue_whose_answer_is_lost_is_not_sent_twice() {
    let s = setup();
    runtime().block_on(async {
        let (number, node_id, head) = ready(&s, "one").await;
        s.sim.add_fault(
            Fault::new(
                "POST",
                "/graphql",
                FaultAction::StatusAfterApply { status: 502 },
            )
            .times(1),
        );
        let entry = s
            .merger
            .enqueue_pull_request(&node_id, &head)
            .await
            .unwrap();
        assert_eq!((entry.number, entry.position), (number, 1));
        let enqueues = s
            .sim
            .events()
            .iter()
            .filter(|e| e.action.as_deref() == Some("enqueued"))
            .count();
        assert_eq!(enqueues, 1);
    });
}

#[test]
fn graphql_errors_name_the_request_and_github_s_message() {
    let s = setup();
    runtime().block_on(async {
        let (_, node_id, head) = ready(&s, "one").await;
        let stale = s
            .merger
            .enqueue_pull_request(&node_id, &"0".repeat(40))
            .await
            .unwrap_err();
        assert!(matches!(stale, GithubError::Graphql { .. }), "{stale}");
        assert_eq!(
            stale.to_string(),
            "POST /graphql EnqueuePullRequest: GraphQL errors: UNPROCESSABLE: Head branch was \
             modified. Review and try the merge again."
        );

        let watcher =
            Client::<Approver>::new(config(&s.sim), &BotToken::new(Secret::new("ghp_watcher")))
                .unwrap();
        let denied = watcher
            .enqueue_pull_request(&node_id, &head)
            .await
            .unwrap_err();
        assert!(
            denied
                .to_string()
                .ends_with("FORBIDDEN: Resource not accessible by personal access token"),
            "{denied}"
        );
        let missing = s.author.pull_queue_state(&s.repo, 99).await.unwrap_err();
        assert!(missing.to_string().contains("NOT_FOUND"), "{missing}");
    });
}

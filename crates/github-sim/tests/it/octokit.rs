//! An independent client, octokit (`@octokit/rest` with its paginate plugin, installed by
//! `.ci/install` into `tests/node`), drives the flows the clients found differences in,
//! replays the request sequences of five popular actions, and signs in as a GitHub App, against
//! the standalone binary.

use std::path::Path;
use std::process::Command;

use crate::common::{hermetic, standalone};

/// Runs `tests/node/<script>` with node against a fresh simulator; returns its stdout.
fn run_node(script: &str) -> String {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        node_dir.join("node_modules/@octokit/rest").is_dir(),
        "@octokit/rest is not installed: run .ci/install (npm ci in crates/github-sim/tests/node)"
    );
    let (server, url) = standalone(&node_dir.join("world.yaml"));
    let out = hermetic(
        Command::new("node")
            .arg(script)
            .arg(&url)
            .current_dir(&node_dir),
    )
    .output()
    .expect("node runs");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn octokit_drives_the_flows_independent_clients_found_differences_in() {
    assert!(run_node("octokit_flow.mjs").contains("ALL FLOWS OK"));
}

#[test]
fn popular_actions_request_sequences_replay_cleanly() {
    assert!(run_node("action_replays.mjs").contains("ALL REPLAYS OK"));
}

#[test]
fn octokit_signs_in_as_an_app_and_mints_narrowed_installation_tokens() {
    assert!(run_node("octokit_apps.mjs").contains("APPS OK"));
}

#[test]
fn octokit_queues_pull_requests_over_graphql_and_is_refused_the_rest_merge() {
    assert!(run_node("octokit_merge_queue.mjs").contains("MERGE QUEUE OK"));
}

#[test]
fn octokit_records_deployments_statuses_and_environments() {
    assert!(run_node("octokit_deployments.mjs").contains("DEPLOYMENTS OK"));
}

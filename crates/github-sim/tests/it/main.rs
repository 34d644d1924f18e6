//! Integration tests for github-sim, one binary with a module per story.
#![expect(
    clippy::too_many_lines,
    reason = "tests read as stories, one story per function"
)]

mod app_token_action;
mod apps;
mod auth;
mod checks;
mod common;
mod contents;
mod deployments;
mod diffs;
mod events;
mod faults;
mod fidelity;
mod keys;
mod limits;
mod merge_queue;
mod octocrab_models;
mod octokit;
mod pulls;
mod pygithub;
mod ratelimit;
mod refs;
mod releases;
mod repos;
mod wire;
mod world;

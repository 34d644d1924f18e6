//! Repository checks: generated files are current, composite actions pass inputs through `env:`
//! only, the binary installer verifies what it downloads, the release scripts rehearse a release,
//! and every `uses:` is pinned to what it claims (upstream tags, commits of this history).

mod action_yml;
mod install_binary;
mod pins;
mod release;
mod release_workflow;
mod repository;

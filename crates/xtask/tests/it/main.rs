//! Repository checks: generated files are current, composite actions pass inputs through `env:`
//! only, the binary installer verifies what it downloads, the release scripts rehearse a release,
//! every `uses:` is pinned to what it claims (upstream tags, commits of this history), and the
//! workflows keep the platform rules they rely on.

mod action_yml;
mod install_binary;
mod pins;
mod poetry_lock;
mod release;
mod release_workflow;
mod repository;
mod workflow_expr;
mod workflows;

//! Repository checks: generated files are current, composite actions pass inputs through `env:`
//! only, the binary installer verifies what it downloads, the release scripts rehearse a release,
//! and the workflows keep the platform rules they rely on.

mod action_yml;
mod install_binary;
mod release;
mod workflow_expr;
mod workflows;

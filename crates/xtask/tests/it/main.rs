//! Repository checks: generated files are current, composite actions pass inputs through `env:`
//! only, the binary installer verifies what it downloads, and the release scripts rehearse a release.

mod action_yml;
mod install_binary;
mod release;

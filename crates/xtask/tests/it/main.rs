//! Repository checks: generated files are current, composite actions pass inputs through `env:`
//! only, and the binary installer verifies what it downloads.

mod action_yml;
mod install_binary;

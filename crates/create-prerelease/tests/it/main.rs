//! create-prerelease against the GitHub API simulator: stories, bad input, and the fault matrix.

mod common;
mod faults;
mod flows;
mod hardening;

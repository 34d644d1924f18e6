//! create-prerelease against the GitHub API simulator: stories, bad input, the fault matrix and
//! cancellation.

mod cancellation;
mod common;
mod faults;
mod flows;
mod hardening;

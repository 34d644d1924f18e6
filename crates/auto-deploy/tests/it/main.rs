//! auto-deploy against the GitHub API simulator: stories, failures, re-runs, the lock, faults and
//! the identities each token used.

mod bench;
mod common;
mod failures;
mod faults;
mod flows;
mod lock;
mod rerun;

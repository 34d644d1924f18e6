//! auto-deploy against the GitHub API simulator: stories, failures, re-runs, the lock, faults and
//! the identities each token used. The two big matrices (`continuation`, `faults`) sort early so
//! that they start first under the default two test threads.

mod bench;
mod cancellation;
mod common;
mod continuation;
mod failures;
mod faults;
mod flows;
mod guard;
mod hardening;
mod limits;
mod lock;
mod private_ca;
mod provenance;
mod reruns;
mod scaling;
mod shared;

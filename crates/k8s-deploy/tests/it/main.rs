//! k8s-deploy against the Kubernetes API simulator: stories, failures with rollback, faults.

mod common;
mod failures;
mod faults;
mod flows;
mod hardening;

//! k8s-deploy against the Kubernetes API simulator: stories, failures with rollback, faults,
//! re-runs, autoscaling, digest verification and cancellation.

mod access;
mod cancellation;
mod common;
mod digests;
mod failures;
mod faults;
mod flows;
mod hardening;
mod reruns;
mod scaling;

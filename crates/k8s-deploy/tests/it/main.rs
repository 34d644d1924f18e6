//! k8s-deploy against the Kubernetes API simulator: stories, failures with rollback, faults,
//! re-runs, autoscaling, digest verification, cancellation, read-only dry-runs and the source order
//! that keeps deploys from going backwards.

mod access;
mod analysis;
mod blue_green;
mod canary;
mod cancellation;
mod common;
mod digests;
mod failures;
mod faults;
mod flows;
mod hardening;
mod order;
mod proxy;
mod rbac;
mod record;
mod reruns;
mod scaling;
mod sets;

//! The Kubernetes client layer of gantry, over kube-rs: kubeconfig loading ([`kubeconfig`]), one
//! Deployment's reads and the image patch ([`deployment`]), kubectl's rollout rules and the pod
//! classification ([`rollout`]), retries on transient failures, the watch-driven wait ([`watch`]),
//! the guarded rollback ([`rollback`]) and the source order that keeps deploys from going
//! backwards ([`source`]). It knows nothing of action inputs.

#![expect(
    clippy::doc_markdown,
    reason = "Kubernetes kind and state names (ReplicaSet, CrashLoopBackOff) are prose here, not code"
)]

pub mod deployment;
pub mod error;
pub mod kubeconfig;
mod retry;
pub mod rollback;
pub mod rollout;
pub mod source;
mod target;
pub mod watch;

pub use error::Error;
pub use target::Target;

/// A client for the configured cluster. Installs ring as the process's one TLS provider first.
pub fn client(config: kube::Config) -> Result<kube::Client, Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    kube::Client::try_from(config).map_err(Error::Client)
}

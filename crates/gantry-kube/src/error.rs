//! The errors of the client layer; each names the Deployment it concerns.

use crate::target::Target;

/// Why an operation on a Deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to build a Kubernetes client")]
    Client(#[source] kube::Error),
    #[error("deployment {target} not found")]
    NotFound { target: Target },
    #[error(
        "deployment {target} is paused; resume it (kubectl rollout resume deployment/{} -n {}) and run again",
        target.name,
        target.namespace
    )]
    Paused { target: Target },
    #[error("failed to {action} deployment {target}")]
    Api {
        action: &'static str,
        target: Target,
        #[source]
        source: kube::Error,
    },
    /// The API server's certificate was refused; retrying would not change that.
    #[error(
        "failed to {action} deployment {target}: the API server's TLS certificate is not trusted ({problem}); set the cluster's certificate-authority-data (or certificate-authority) in the kubeconfig to the CA that signed it (without one, SSL_CERT_FILE, which replaces the system roots, must hold it)"
    )]
    Untrusted {
        action: &'static str,
        target: Target,
        problem: String,
    },
    #[error("deployment {target} has no container named `{container}` (it has: {available})")]
    NoSuchContainer {
        target: Target,
        container: String,
        available: String,
    },
    #[error(
        "deployment {target} has several containers ({available}) and {matching} of them run `{repository}`; set `container`"
    )]
    AmbiguousContainer {
        target: Target,
        available: String,
        repository: String,
        matching: usize,
    },
    #[error(
        "deployment {target} changed while it was being patched ({detail}); nothing was changed, run again"
    )]
    Changed { target: Target, detail: String },
    #[error("deployment {target} has no ReplicaSet for revision {revision} to roll back to")]
    RevisionGone { target: Target, revision: i64 },
    #[error(
        "deployment {target} has annotation {annotation}=`{value}`, which is not a non-negative integer, so the order of deploys cannot be told; correct it (kubectl annotate --overwrite deployment/{} -n {} {annotation}=<number>) and run again",
        target.name,
        target.namespace
    )]
    BadSourceSequence {
        target: Target,
        annotation: &'static str,
        value: String,
    },
}

impl Error {
    /// A failed API request about `target`.
    pub(crate) fn api(action: &'static str, target: &Target, source: kube::Error) -> Self {
        if let Some(problem) = gantry_runner::certificate::problem(&source) {
            return Self::Untrusted {
                action,
                target: target.clone(),
                problem,
            };
        }
        Self::Api {
            action,
            target: target.clone(),
            source,
        }
    }
}

//! What the deploy reports: one [`DeploymentReport`] per Deployment of the set, and the set's
//! [`Report`], whose conclusion is the most serious of its Deployments'.

use gantry_kube::Target;
use gantry_kube::deployment::Change;
use gantry_kube::source::Source;
use gantry_kube::watch::PodRow;

use crate::settings::DryRun;

/// How the deploy ended; the `result` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Conclusion {
    // Ordered from the least to the most serious: a set concludes with its most serious.
    Unchanged,
    Deployed,
    DryRun,
    RolledBack,
    Failed,
    /// The step was cancelled and our change could not be undone and verified in time.
    Cancelled,
    /// A Deployment records a newer source than this run's; nothing was changed.
    Superseded,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Unchanged => "unchanged",
            Self::DryRun => "dry-run",
            Self::Superseded => "superseded",
            Self::RolledBack => "rolled-back",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the step succeeds.
    pub fn succeeded(self) -> bool {
        matches!(
            self,
            Self::Deployed | Self::Unchanged | Self::DryRun | Self::Superseded
        )
    }
}

/// The set: everything the outputs and the summary show.
#[derive(Debug, Clone)]
pub struct Report {
    pub conclusion: Conclusion,
    pub image: String,
    pub failure: Option<String>,
    /// The signal that cancelled the step.
    pub cancelled_by: Option<&'static str>,
    /// The kind of dry-run, for a dry-run.
    pub dry_run: Option<DryRun>,
    /// This run's source.
    pub source: Option<Source>,
    /// One per Deployment, in the order they were named.
    pub deployments: Vec<DeploymentReport>,
    /// The stages of a canary or blue-green rollout, in order (none for a rolling one).
    pub stages: Vec<Stage>,
}

/// One stage of a canary or blue-green rollout, as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// `step 1 (weight 25%: 1 pod)`, `switch`, …
    pub name: String,
    /// `passed`, or what went wrong.
    pub outcome: String,
    /// What was measured (ready pods, analysis samples).
    pub measurements: Vec<String>,
}

impl Report {
    /// The set's conclusion and failure from its Deployments'.
    pub(crate) fn conclude(mut self) -> Self {
        self.conclusion = self
            .deployments
            .iter()
            .map(|deployment| deployment.conclusion)
            .max()
            .unwrap_or(Conclusion::Unchanged);
        let failures: Vec<_> = self
            .deployments
            .iter()
            .filter_map(|deployment| {
                let failure = deployment.failure.as_deref()?;
                Some(match self.deployments.len() {
                    1 => failure.to_owned(),
                    _ => format!("{}: {failure}", deployment.target),
                })
            })
            .collect();
        self.failure = (!failures.is_empty()).then(|| failures.join("; "));
        self
    }

    /// The first Deployment's report (there is always one).
    pub fn first(&self) -> &DeploymentReport {
        &self.deployments[0]
    }
}

/// One Deployment of the set.
#[derive(Debug, Clone)]
pub struct DeploymentReport {
    pub target: Target,
    pub conclusion: Conclusion,
    /// The container updated (empty when the Deployment was not read).
    pub container: String,
    pub previous_image: String,
    /// The Deployment's revision at the end.
    pub revision: Option<i64>,
    /// The revision restored by the rollback.
    pub rollback_revision: Option<i64>,
    /// The digest the pods resolved the image to.
    pub digest: Option<String>,
    pub failure: Option<String>,
    /// Fields a dry-run would change.
    pub changes: Vec<Change>,
    /// The newer source the Deployment records (when superseded).
    pub newer_source: Option<Source>,
    pub pods: Vec<PodRow>,
    /// Recent Events of the pod that failed the rollout.
    pub events: Vec<String>,
}

impl DeploymentReport {
    /// A Deployment not read yet.
    pub(crate) fn unread(target: &Target) -> Self {
        Self {
            target: target.clone(),
            conclusion: Conclusion::Unchanged,
            container: String::new(),
            previous_image: String::new(),
            revision: None,
            rollback_revision: None,
            digest: None,
            failure: None,
            changes: Vec::new(),
            newer_source: None,
            pods: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Records what happened after a failure (or a cancellation): the message, and a verified
    /// rollback if there was one.
    pub(super) fn record(&mut self, next: &Next, failure: Option<&str>) {
        self.failure = Some(match failure {
            Some(failure) => format!("{failure}; {}", next.message),
            None => next.message.clone(),
        });
        if let Some(revision) = next.revision {
            self.conclusion = Conclusion::RolledBack;
            self.rollback_revision = next.restored;
            self.revision = Some(revision);
        }
    }

    /// The entry of the `deployments` output.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "namespace": self.target.namespace,
            "name": self.target.name,
            "container": self.container,
            "result": self.conclusion.as_str(),
            "previous-image": self.previous_image,
            "image-digest": self.digest.clone().unwrap_or_default(),
            "revision": self.revision,
            "rollback-revision": self.rollback_revision,
            "failure-reason": self.failure.clone().unwrap_or_default(),
        })
    }
}

/// What happened after a failed rollout (or a cancellation) to one Deployment.
#[derive(Debug, Clone)]
pub(super) struct Next {
    pub message: String,
    /// The Deployment's revision after a verified rollback; `None` when not rolled back.
    pub revision: Option<i64>,
    /// The revision the rollback restored.
    pub restored: Option<i64>,
}

impl Next {
    pub fn failed(message: String) -> Self {
        Self {
            message,
            revision: None,
            restored: None,
        }
    }
}

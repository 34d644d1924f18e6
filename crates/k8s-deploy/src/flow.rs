//! The deploy as a small state machine: read → (unchanged | dry-run | patch) → wait → deployed, or
//! → rollback to the recorded revision (compare-and-swap) → wait → rolled back, or failed. Each
//! phase lands on the timeline; every step is logged.

use gantry_kube::deployment::{self, Change, ImageChange};
use gantry_kube::rollback::{self, Rollback};
use gantry_kube::watch::{self, Expectation, Failure, FailureKind, Outcome, PodRow, WaitOptions};
use gantry_kube::{Error, Target};
use gantry_runner::Console;

use crate::settings::Settings;
use crate::timeline::Timeline;

/// How the deploy ended; the `result` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    Deployed,
    Unchanged,
    DryRun,
    RolledBack,
    Failed,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Unchanged => "unchanged",
            Self::DryRun => "dry-run",
            Self::RolledBack => "rolled-back",
            Self::Failed => "failed",
        }
    }

    /// Whether the step succeeds.
    pub fn succeeded(self) -> bool {
        matches!(self, Self::Deployed | Self::Unchanged | Self::DryRun)
    }
}

/// Everything the outputs and the summary show.
#[derive(Debug, Clone)]
pub struct Report {
    pub conclusion: Conclusion,
    pub container: String,
    pub previous_image: String,
    pub image: String,
    /// The Deployment's revision at the end.
    pub revision: Option<i64>,
    /// The revision restored by the rollback.
    pub rollback_revision: Option<i64>,
    pub failure: Option<String>,
    /// Fields a dry-run would change.
    pub changes: Vec<Change>,
    pub pods: Vec<PodRow>,
    /// Recent Events of the pod that failed the rollout.
    pub events: Vec<String>,
}

/// What happened after a failed rollout.
struct Next {
    message: String,
    /// The Deployment's revision after a verified rollback; `None` when not rolled back.
    revision: Option<i64>,
}

impl Next {
    fn failed(message: String) -> Self {
        Self {
            message,
            revision: None,
        }
    }
}

/// What the deploy works with.
pub struct Deploy<'a, 'c> {
    pub client: &'a kube::Client,
    pub target: &'a Target,
    pub settings: &'a Settings,
    pub console: &'a mut Console<'c>,
    pub timeline: &'a mut Timeline,
}

impl Deploy<'_, '_> {
    /// Runs the deploy. Errors are problems before anything was changed (missing or paused
    /// Deployment, unknown container, API failures on the first read or the patch).
    pub async fn run(&mut self) -> Result<Report, Error> {
        let (client, target, settings) = (self.client, self.target, self.settings);
        let start = self.timeline.elapsed();
        let before = deployment::read_unpaused(client, target).await?;
        let container = deployment::choose_container(
            &before,
            target,
            settings.container.as_deref(),
            &settings.image,
        )?;
        let previous_image = deployment::image_of(&before, &container).unwrap_or_default();
        let recorded = deployment::revision(&before);
        self.timeline.phase("read deployment", start, false);
        self.console.info(&format!(
            "Deployment {target}: revision {}, resourceVersion {}, container {container} runs {previous_image}",
            recorded.map_or_else(|| "none".to_owned(), |r| r.to_string()),
            before.metadata.resource_version.as_deref().unwrap_or("?"),
        ));
        let mut report = Report {
            conclusion: Conclusion::Unchanged,
            container: container.clone(),
            previous_image: previous_image.clone(),
            image: settings.image.clone(),
            revision: recorded,
            rollback_revision: None,
            failure: None,
            changes: Vec::new(),
            pods: Vec::new(),
            events: Vec::new(),
        };
        if previous_image == settings.image {
            self.console.info(&format!(
                "Container {container} already runs {previous_image}; nothing to do"
            ));
            return Ok(report);
        }
        let change = ImageChange {
            container: container.clone(),
            image: settings.image.clone(),
            annotations: settings.annotations.clone(),
        };
        let start = self.timeline.elapsed();
        let patched =
            deployment::set_image(client, target, &before, &change, settings.dry_run).await?;
        if settings.dry_run {
            self.timeline.phase("server-side dry-run", start, false);
            report.changes = deployment::changes(&before, &patched);
            self.log_changes(&report.changes);
            report.conclusion = Conclusion::DryRun;
            return Ok(report);
        }
        self.timeline.phase("patch image", start, false);
        self.console.info(&format!(
            "Patched {target}: container {container} now {} (generation {})",
            settings.image,
            patched.metadata.generation.unwrap_or(0)
        ));
        let expect = Expectation::after(&patched, &container, &settings.image);
        let outcome = self.wait("rollout", &expect, settings.soak).await;
        let (failure, snapshot) = match outcome {
            Outcome::Complete(snapshot) => {
                self.console.info(&format!(
                    "Deployed {}: {} of {} pods ready and running it (revision {})",
                    settings.image,
                    snapshot.verified,
                    snapshot.desired,
                    snapshot.revision.unwrap_or(0)
                ));
                report.conclusion = Conclusion::Deployed;
                report.revision = snapshot.revision;
                report.pods = snapshot.pods;
                return Ok(report);
            }
            Outcome::Failed(failure, snapshot) => (failure, snapshot),
        };
        self.timeline.moment("failure detected");
        self.console
            .info(&format!("Rollout failed: {}", failure.message));
        for event in &failure.events {
            self.console.info(&format!("  event: {event}"));
        }
        report.conclusion = Conclusion::Failed;
        report.revision = snapshot.revision;
        report.pods = snapshot.pods;
        report.events.clone_from(&failure.events);
        let next = self
            .after_failure(&failure, recorded, &expect, &previous_image)
            .await;
        report.failure = Some(format!("{}; {}", failure.message, next.message));
        if let Some(revision) = next.revision {
            report.conclusion = Conclusion::RolledBack;
            report.rollback_revision = recorded;
            report.revision = Some(revision);
        }
        Ok(report)
    }

    /// After a failed rollout: rolls back when allowed; says what happened.
    async fn after_failure(
        &mut self,
        failure: &Failure,
        recorded: Option<i64>,
        expect: &Expectation,
        previous_image: &str,
    ) -> Next {
        let refusal = match (failure.kind, recorded) {
            (FailureKind::Superseded, _) => "the deployment now belongs to someone else's change",
            (_, _) if !self.settings.rollback => "rollback is false",
            (_, None) => "the deployment had no revision before the patch",
            (_, Some(revision)) => return self.roll_back(revision, expect, previous_image).await,
        };
        Next::failed(format!("not rolled back: {refusal}"))
    }

    fn log_changes(&mut self, changes: &[Change]) {
        self.console
            .info("Server-side dry-run accepted the patch; nothing was changed:");
        for change in changes {
            self.console.info(&format!(
                "  {}: {} -> {}",
                change.field,
                change.before.as_deref().unwrap_or("(none)"),
                change.after.as_deref().unwrap_or("(none)")
            ));
        }
    }

    /// Rolls back to `revision` unless someone else changed the Deployment, and verifies it.
    async fn roll_back(&mut self, revision: i64, ours: &Expectation, previous_image: &str) -> Next {
        let start = self.timeline.elapsed();
        self.console.info(&format!(
            "Rolling back {} to revision {revision} ({previous_image})",
            self.target
        ));
        let cause = match &self.settings.run_url {
            Some(url) => format!("k8s-deploy rolled back to revision {revision} ({url})"),
            None => format!("k8s-deploy rolled back to revision {revision}"),
        };
        let result = rollback::rollback(
            self.client,
            self.target,
            revision,
            ours.generation,
            &ours.container,
            &cause,
        )
        .await;
        self.timeline.phase("rollback patch", start, true);
        let patched = match result {
            Ok(Rollback::Applied { deployment }) => deployment,
            Ok(Rollback::Refused { reason }) => {
                self.console.info(&format!("Not rolled back: {reason}"));
                return Next::failed(format!("not rolled back: {reason}"));
            }
            Err(error) => {
                let message = chain(&error);
                return Next::failed(format!("rollback failed: {message}"));
            }
        };
        let expect = Expectation::after(&patched, &ours.container, previous_image);
        match self.wait("rollback rollout", &expect, None).await {
            Outcome::Complete(snapshot) => {
                self.console.info(&format!(
                    "Rolled back to revision {revision}: {} of {} pods ready and running {previous_image}",
                    snapshot.verified, snapshot.desired
                ));
                Next {
                    message: format!(
                        "rolled back to revision {revision} ({previous_image}) and verified"
                    ),
                    revision: Some(snapshot.revision.unwrap_or(revision)),
                }
            }
            Outcome::Failed(failure, _) => Next::failed(format!(
                "the rollback to revision {revision} did not complete: {}",
                failure.message
            )),
        }
    }

    /// Waits for a rollout, logging progress in a group; a timeline phase.
    async fn wait(
        &mut self,
        label: &str,
        expect: &Expectation,
        soak: Option<std::time::Duration>,
    ) -> Outcome {
        let options = WaitOptions {
            timeout: self.settings.timeout,
            fail_fast: self.settings.fail_fast,
            pods: self.settings.pods,
            soak,
        };
        let start = self.timeline.elapsed();
        self.console
            .group(&format!("{label} of {} to {}", self.target, expect.image));
        let console = &mut *self.console;
        let outcome = watch::wait(self.client, self.target, expect, options, &mut |line| {
            console.info(line);
        })
        .await;
        self.console.end_group();
        let critical = !matches!(outcome, Outcome::Complete(_));
        self.timeline.phase(label, start, critical);
        outcome
    }
}

/// An error with its causes, `a: b: c`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

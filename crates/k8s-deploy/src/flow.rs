//! The deploy as a small state machine: read → (superseded | dry-run | patch | already set) → wait
//! → deployed (or unchanged), or → rollback to the revision before ours (compare-and-swap) → wait →
//! rolled back, or failed. With a source, a Deployment that records a newer one is left alone
//! (superseded; [`order`]). A Deployment that already runs the image is only "unchanged" when its
//! rollout is complete and healthy; otherwise (a re-run after an interrupted deploy) the rollout is
//! watched like our own. Cancellation (the runner's SIGINT) stops the work and undoes our patch within the
//! runner's window. Each phase lands on the timeline; every step is logged.

use gantry_kube::deployment::{self, Change, ImageChange, Written};
use gantry_kube::rollback::{self, Restore, Rollback};
use gantry_kube::rollout::{self, Status};
use gantry_kube::source::Source;
use gantry_kube::watch::{self, Expectation, Failure, FailureKind, Outcome, PodRow, WaitOptions};
use gantry_kube::{Error, Target};
use gantry_runner::Console;
use gantry_runner::cancel::Cancellation;
use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;

use crate::settings::{DryRun, PROVENANCE_PREFIX, Settings};
use crate::timeline::Timeline;

mod order;

/// How the deploy ended; the `result` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    Deployed,
    Unchanged,
    DryRun,
    /// The Deployment records a newer source than this run's; nothing was changed.
    Superseded,
    RolledBack,
    Failed,
    /// The step was cancelled and our change could not be undone and verified in time.
    Cancelled,
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
    /// The digest the pods resolved the image to.
    pub digest: Option<String>,
    pub failure: Option<String>,
    /// The signal that cancelled the step.
    pub cancelled_by: Option<&'static str>,
    /// The kind of dry-run, for a dry-run.
    pub dry_run: Option<DryRun>,
    /// Fields a dry-run would change.
    pub changes: Vec<Change>,
    /// This run's source.
    pub source: Option<Source>,
    /// The newer source the Deployment records (when superseded).
    pub newer_source: Option<Source>,
    pub pods: Vec<PodRow>,
    /// Recent Events of the pod that failed the rollout.
    pub events: Vec<String>,
}

impl Report {
    /// Records a verified rollback, if `next` was one.
    fn record(&mut self, next: &Next) {
        if let Some(revision) = next.revision {
            self.conclusion = Conclusion::RolledBack;
            self.rollback_revision = next.restored;
            self.revision = Some(revision);
        }
    }
}

/// What happened after a failed rollout.
struct Next {
    message: String,
    /// The Deployment's revision after a verified rollback; `None` when not rolled back.
    revision: Option<i64>,
    /// The revision the rollback restored.
    restored: Option<i64>,
}

impl Next {
    fn failed(message: String) -> Self {
        Self {
            message,
            revision: None,
            restored: None,
        }
    }
}

/// The Deployment as first read: what the report and an undo need.
#[derive(Debug, Clone)]
struct Found {
    container: String,
    previous_image: String,
    /// The revision before our patch.
    recorded: Option<i64>,
}

/// How far the deploy got, for the undo after a cancellation.
#[derive(Debug, Default)]
struct Progress {
    found: Option<Found>,
    /// Our patch was sent (its answer may not have arrived).
    patch_sent: bool,
    /// A rollback patch to this revision was sent.
    rolling_back_to: Option<Restore>,
}

/// What the deploy works with.
pub struct Deploy<'a, 'c> {
    client: &'a kube::Client,
    target: &'a Target,
    settings: &'a Settings,
    console: &'a mut Console<'c>,
    timeline: &'a mut Timeline,
    cancellation: Cancellation,
    progress: Progress,
}

impl<'a, 'c> Deploy<'a, 'c> {
    pub fn new(
        client: &'a kube::Client,
        target: &'a Target,
        settings: &'a Settings,
        console: &'a mut Console<'c>,
        timeline: &'a mut Timeline,
        cancellation: Cancellation,
    ) -> Self {
        Self {
            client,
            target,
            settings,
            console,
            timeline,
            cancellation,
            progress: Progress::default(),
        }
    }

    /// Runs the deploy until it ends or the step is cancelled. Errors are problems before anything
    /// was changed (missing or paused Deployment, unknown container, API failures on the first
    /// read or the patch).
    pub async fn run(&mut self) -> Result<Report, Error> {
        let cancellation = self.cancellation.clone();
        let finished = tokio::select! {
            result = self.deploy() => Some(result),
            () = cancellation.cancelled() => None,
        };
        match finished {
            Some(result) => result,
            None => Ok(self.cancelled().await),
        }
    }

    async fn deploy(&mut self) -> Result<Report, Error> {
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
        let found = Found {
            container: container.clone(),
            previous_image: previous_image.clone(),
            recorded,
        };
        self.progress.found = Some(found.clone());
        let report = self.report(&found);
        if let Some(ours) = &settings.source
            && let Some(live) = ours.newer_on(&before, target)?
        {
            return Ok(self.superseded(report, live));
        }
        if previous_image == settings.image {
            let before = match self.record_source(&before, &container).await? {
                Written::Applied(written) => *written,
                Written::Superseded { live } => return Ok(self.superseded(report, live)),
            };
            return Ok(self.already_set(&before, report).await);
        }
        let change = ImageChange {
            container: container.clone(),
            image: settings.image.clone(),
            annotations: settings.annotations.clone(),
            source: settings.source.clone(),
        };
        let start = self.timeline.elapsed();
        if settings.dry_run == Some(DryRun::Client) {
            let after = deployment::with_change(&before, &change);
            self.timeline.phase("client-side diff", start, false);
            return Ok(self.dry_run(report, deployment::changes(&before, &after)));
        }
        let server_dry_run = settings.dry_run == Some(DryRun::Server);
        self.progress.patch_sent = !server_dry_run;
        let patched =
            match deployment::set_image(client, target, &before, &change, server_dry_run).await? {
                Written::Applied(patched) => patched,
                Written::Superseded { live } => {
                    self.progress.patch_sent = false;
                    return Ok(self.superseded(report, live));
                }
            };
        if server_dry_run {
            self.timeline.phase("server-side dry-run", start, false);
            return Ok(self.dry_run(report, deployment::changes(&before, &patched)));
        }
        self.timeline.phase("patch image", start, false);
        self.console.info(&format!(
            "Patched {target}: container {container} now {} (generation {})",
            settings.image,
            patched.metadata.generation.unwrap_or(0)
        ));
        let expect = Expectation::after(&patched, &container, &settings.image);
        let outcome = self.wait("rollout", &expect, settings.soak).await;
        let restore = recorded
            .map(|revision| Restore {
                revision,
                image: previous_image.clone(),
            })
            .ok_or("the deployment had no revision before the patch");
        Ok(self
            .conclude(report, outcome, &expect, restore, Conclusion::Deployed)
            .await)
    }

    /// A dry-run's end: the fields the deploy would change, logged and in the report.
    fn dry_run(&mut self, mut report: Report, changes: Vec<Change>) -> Report {
        self.console
            .info(&match report.dry_run.and_then(DryRun::caveat) {
                None => "Server-side dry-run accepted the patch; nothing was changed:".to_owned(),
                Some(caveat) => format!("Client-side diff, {caveat}; nothing was sent:"),
            });
        for change in &changes {
            self.console.info(&format!(
                "  {}: {} -> {}",
                change.field,
                change.before.as_deref().unwrap_or("(none)"),
                change.after.as_deref().unwrap_or("(none)")
            ));
        }
        report.changes = changes;
        report.conclusion = Conclusion::DryRun;
        report
    }

    /// The container already runs the image: "unchanged" only if the rollout is complete and
    /// healthy. Otherwise (a re-run after an interrupted deploy, say) the rollout is watched, and a
    /// failure rolls back to the revision before the image, if our own provenance shows that
    /// k8s-deploy set it.
    async fn already_set(&mut self, before: &Deployment, report: Report) -> Report {
        let (container, image) = (report.container.clone(), self.settings.image.clone());
        let complete = matches!(rollout::deployment_status(before), Status::Done(_));
        // A dry-run that watched someone's rollout to its end deployed nothing.
        let (label, success) = if complete || self.settings.dry_run.is_some() {
            self.console.info(&format!(
                "Container {container} already runs {image}; verifying that its rollout is complete and healthy"
            ));
            ("verify", Conclusion::Unchanged)
        } else {
            self.console.info(&format!(
                "Container {container} already runs {image} but its rollout is not complete (an interrupted deploy?); watching it"
            ));
            ("rollout", Conclusion::Deployed)
        };
        let expect = Expectation::current(before, &container, &image);
        let soak = if complete { None } else { self.settings.soak };
        let outcome = self.wait(label, &expect, soak).await;
        let restore = if self.set_by_us(before) {
            rollback::previous_revision(self.client, self.target, &container, &image)
                .await
                .ok()
                .flatten()
                .ok_or("the deployment's history has no earlier revision with another image")
        } else {
            Err(
                "k8s-deploy did not set this image (no gantry.dev/image or change-cause annotation of ours names it)",
            )
        };
        self.conclude(report, outcome, &expect, restore, success)
            .await
    }

    /// Whether the Deployment's annotations show that k8s-deploy set the image.
    fn set_by_us(&self, deployment: &Deployment) -> bool {
        let annotations = deployment.annotations();
        let ours = |key: &str| {
            self.settings
                .annotations
                .get(key)
                .is_some_and(|value| annotations.get(key) == Some(value))
        };
        ours(&format!("{PROVENANCE_PREFIX}image")) || ours(rollback::CHANGE_CAUSE)
    }

    /// Turns the end of a wait into the report: success, or a failure and what came after it.
    async fn conclude(
        &mut self,
        mut report: Report,
        outcome: Outcome,
        expect: &Expectation,
        restore: Result<Restore, &'static str>,
        success: Conclusion,
    ) -> Report {
        let (failure, snapshot) = match outcome {
            Outcome::Complete(snapshot) => {
                self.console.info(&format!(
                    "{} {}: {} of {} pods ready and running it (revision {}{})",
                    if success == Conclusion::Unchanged {
                        "Verified"
                    } else {
                        "Deployed"
                    },
                    expect.image,
                    snapshot.verified,
                    snapshot.desired,
                    snapshot.revision.unwrap_or(0),
                    snapshot
                        .digest
                        .as_deref()
                        .map(|digest| format!(", digest {digest}"))
                        .unwrap_or_default(),
                ));
                report.conclusion = success;
                report.revision = snapshot.revision;
                report.digest = snapshot.digest;
                report.pods = snapshot.pods;
                return report;
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
        let next = self.after_failure(&failure, restore, expect).await;
        report.failure = Some(format!("{}; {}", failure.message, next.message));
        report.record(&next);
        report
    }

    fn report(&self, found: &Found) -> Report {
        Report {
            conclusion: Conclusion::Unchanged,
            container: found.container.clone(),
            previous_image: found.previous_image.clone(),
            image: self.settings.image.clone(),
            revision: found.recorded,
            rollback_revision: None,
            digest: None,
            failure: None,
            cancelled_by: None,
            dry_run: self.settings.dry_run,
            changes: Vec::new(),
            source: self.settings.source.clone(),
            newer_source: None,
            pods: Vec::new(),
            events: Vec::new(),
        }
    }

    /// After a failed rollout: rolls back when allowed; says what happened.
    async fn after_failure(
        &mut self,
        failure: &Failure,
        restore: Result<Restore, &'static str>,
        expect: &Expectation,
    ) -> Next {
        let refusal = match (failure.kind, restore) {
            (FailureKind::Superseded, _) => "the deployment now belongs to someone else's change",
            (_, _) if !self.settings.rollback => "rollback is false",
            (_, _) if self.settings.dry_run.is_some() => "this is a dry-run, which changes nothing",
            (_, Err(reason)) => reason,
            (_, Ok(restore)) => return self.roll_back(restore, expect).await,
        };
        Next::failed(format!("not rolled back: {refusal}"))
    }

    /// After a cancellation: undoes what this run changed, within the runner's window, and
    /// reports exactly what state the Deployment was left in.
    async fn cancelled(&mut self) -> Report {
        let received = self.cancellation.received();
        let signal = received.map_or("cancellation", |received| received.signal);
        self.timeline.moment("cancelled");
        let left = self
            .cancellation
            .deadline()
            .map(|deadline| deadline.saturating_duration_since(std::time::Instant::now()));
        self.console.info(&format!(
            "Cancelled by {signal}; {:.1}s left to clean up before the runner ends the step",
            left.unwrap_or_default().as_secs_f64()
        ));
        let Some(found) = self.progress.found.clone() else {
            let mut report = self.report(&Found {
                container: String::new(),
                previous_image: String::new(),
                recorded: None,
            });
            report.conclusion = Conclusion::Cancelled;
            report.cancelled_by = Some(signal);
            report.failure = Some(format!(
                "{target} was not read yet; nothing was changed",
                target = self.target
            ));
            return report;
        };
        let mut report = self.report(&found);
        report.conclusion = Conclusion::Cancelled;
        report.cancelled_by = Some(signal);
        let deadline = self
            .cancellation
            .deadline()
            .map_or_else(tokio::time::Instant::now, tokio::time::Instant::from_std);
        let next = match tokio::time::timeout_at(deadline, self.undo(&found)).await {
            Ok(next) => next,
            Err(_) => Next::failed(self.unfinished_undo(&found)),
        };
        report.record(&next);
        report.failure = Some(next.message);
        report
    }

    /// What an undo that ran out of time leaves behind.
    fn unfinished_undo(&self, found: &Found) -> String {
        match (&self.progress.rolling_back_to, self.progress.patch_sent) {
            (Some(restore), _) => format!(
                "a rollback to revision {} ({}) was started but not verified before the cancellation window closed; check `kubectl rollout status deployment/{}`",
                restore.revision, restore.image, self.target.name
            ),
            (None, true) => format!(
                "the patch to {} was sent and could not be undone before the cancellation window closed; container {} may run it",
                self.settings.image, found.container
            ),
            (None, false) => "nothing was changed by this run".to_owned(),
        }
    }

    /// Rolls back our patch if it is in the cluster (or verifies a rollback already sent).
    async fn undo(&mut self, found: &Found) -> Next {
        let current = match deployment::read(self.client, self.target).await {
            Ok(current) => current,
            Err(error) => {
                return Next::failed(format!(
                    "{}; and reading the deployment failed: {}",
                    self.unfinished_undo(found),
                    chain(&error)
                ));
            }
        };
        let container = found.container.as_str();
        let now = deployment::image_of(&current, container).unwrap_or_default();
        if let Some(restore) = self.progress.rolling_back_to.clone()
            && now == restore.image
        {
            let expect = Expectation::after(&current, container, &restore.image);
            return self.verify_rollback(&restore, &expect).await;
        }
        let ours = self.progress.patch_sent
            && now == self.settings.image
            && found.previous_image != self.settings.image;
        if ours {
            let expect = Expectation::after(&current, container, &now);
            let refusal = match found.recorded {
                _ if !self.settings.rollback => "rollback is false",
                None => "the deployment had no revision before the patch",
                Some(revision) => {
                    let restore = Restore {
                        revision,
                        image: found.previous_image.clone(),
                    };
                    return self.roll_back(restore, &expect).await;
                }
            };
            return Next::failed(format!(
                "our patch is applied and left in place ({refusal}): container {container} runs {now}, {}",
                describe(&current)
            ));
        }
        Next::failed(format!(
            "{}: container {container} runs {now}, {}",
            if self.progress.patch_sent {
                "left as found after our patch"
            } else {
                "nothing was changed by this run"
            },
            describe(&current)
        ))
    }
    /// Rolls back to `restore` unless someone else changed the pod template, and verifies it.
    async fn roll_back(&mut self, restore: Restore, ours: &Expectation) -> Next {
        let Restore {
            revision,
            image: ref previous_image,
        } = restore;
        let start = self.timeline.elapsed();
        self.console.info(&format!(
            "Rolling back {} to revision {revision} ({previous_image})",
            self.target
        ));
        let cause = match &self.settings.run_url {
            Some(url) => format!("k8s-deploy rolled back to revision {revision} ({url})"),
            None => format!("k8s-deploy rolled back to revision {revision}"),
        };
        self.progress.rolling_back_to = Some(restore.clone());
        let result = rollback::rollback(self.client, self.target, revision, ours, &cause).await;
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
        self.verify_rollback(&restore, &expect).await
    }

    /// Waits for the rollback's rollout.
    async fn verify_rollback(&mut self, restore: &Restore, expect: &Expectation) -> Next {
        let Restore { revision, image } = restore;
        match self.wait("rollback rollout", expect, None).await {
            Outcome::Complete(snapshot) => {
                self.console.info(&format!(
                    "Rolled back to revision {revision}: {} of {} pods ready and running {image}",
                    snapshot.verified, snapshot.desired
                ));
                Next {
                    message: format!("rolled back to revision {revision} ({image}) and verified"),
                    revision: Some(snapshot.revision.unwrap_or(*revision)),
                    restored: Some(*revision),
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
        // After a cancellation, only the runner's window is left.
        let timeout = self
            .cancellation
            .deadline()
            .map_or(self.settings.timeout, |deadline| {
                deadline
                    .saturating_duration_since(std::time::Instant::now())
                    .min(self.settings.timeout)
            });
        let options = WaitOptions {
            timeout,
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

/// The Deployment's revision and kubectl's verdict on its rollout, in words.
fn describe(deployment: &Deployment) -> String {
    let revision = deployment::revision(deployment)
        .map_or_else(|| "no revision".to_owned(), |r| format!("revision {r}"));
    let status = match rollout::deployment_status(deployment) {
        Status::Waiting(message) | Status::Done(message) | Status::Failed(message) => message,
    };
    format!("{revision}, rollout: {status}")
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

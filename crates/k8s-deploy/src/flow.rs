//! The deploy of one image to a set of Deployments (usually one), as a small state machine: read
//! every Deployment → (superseded | dry-run | patch | already set) for each → wait for all together
//! (one deadline, the first failure stops the wait) → deployed (or unchanged), or → roll back every
//! Deployment we changed to its revision before ours (each a compare-and-swap) → wait → rolled
//! back, or failed. With a source, a set where any Deployment records a newer one is left alone
//! entirely (superseded; [`order`]). A Deployment that already runs the image is only "unchanged"
//! when its rollout is complete and healthy; otherwise (a re-run after an interrupted deploy) the
//! rollout is watched like our own. Cancellation (the runner's SIGINT) stops the work and undoes
//! our patches within the runner's window ([`undo`]). Each phase lands on the timeline; every step
//! is logged.

use gantry_kube::deployment::{self, ImageChange, Written};
use gantry_kube::rollback::{self, Restore, Rollback};
use gantry_kube::rollout::{self, Status};
use gantry_kube::watch::{Expectation, Failure, FailureKind, Outcome};
use gantry_kube::{Error, Target};
use gantry_runner::Console;
use gantry_runner::cancel::Cancellation;
use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;

use crate::settings::{DryRun, Named, PROVENANCE_PREFIX, Settings};
use crate::timeline::Timeline;

mod order;
mod report;
mod undo;
mod wait;

use report::Next;
pub use report::{Conclusion, DeploymentReport, Report, Stage};

/// The Deployment as first read: what the report and an undo need.
#[derive(Debug, Clone)]
struct Found {
    container: String,
    previous_image: String,
    /// The revision before our patch.
    recorded: Option<i64>,
}

/// One Deployment of the set: where it is, and how far the deploy got with it.
struct Unit {
    target: Target,
    /// The container named for it, if any.
    wanted: Option<String>,
    found: Option<Found>,
    /// Our patch was sent (its answer may not have arrived).
    patch_sent: bool,
    /// A rollback patch to this revision was sent.
    rolling_back_to: Option<Restore>,
    report: DeploymentReport,
}

/// Where a failed rollout of one Deployment goes back to.
enum Undo {
    /// The revision recorded before our patch.
    To(Restore),
    /// The newest earlier revision with another image (a re-run of our own failing image).
    Earlier,
    /// Not rolled back, because…
    Never(&'static str),
}

/// A rollout to wait for: the Deployment's, what it must reach, and what its end means.
struct Watch {
    unit: usize,
    /// `rollout` or `verify`.
    label: &'static str,
    expect: Expectation,
    soak: Option<std::time::Duration>,
    undo: Undo,
    success: Conclusion,
}

/// What the deploy works with.
pub struct Deploy<'a, 'c> {
    client: &'a kube::Client,
    settings: &'a Settings,
    console: &'a mut Console<'c>,
    timeline: &'a mut Timeline,
    cancellation: Cancellation,
    units: Vec<Unit>,
}

impl<'a, 'c> Deploy<'a, 'c> {
    pub fn new(
        client: &'a kube::Client,
        namespace: &str,
        settings: &'a Settings,
        console: &'a mut Console<'c>,
        timeline: &'a mut Timeline,
        cancellation: Cancellation,
    ) -> Self {
        let units = settings
            .deployments
            .iter()
            .map(|Named { name, container }| {
                let target = Target {
                    namespace: namespace.to_owned(),
                    name: name.clone(),
                };
                Unit {
                    report: DeploymentReport::unread(&target),
                    target,
                    wanted: container.clone(),
                    found: None,
                    patch_sent: false,
                    rolling_back_to: None,
                }
            })
            .collect();
        Self {
            client,
            settings,
            console,
            timeline,
            cancellation,
            units,
        }
    }

    /// Runs the deploy until it ends or the step is cancelled. Errors are problems before anything
    /// was changed (missing or paused Deployment, unknown container, API failures on the first
    /// reads or the first patch).
    pub async fn run(&mut self) -> Result<Report, Error> {
        let cancellation = self.cancellation.clone();
        let finished = tokio::select! {
            result = self.deploy() => Some(result),
            () = cancellation.cancelled() => None,
        };
        match finished {
            Some(result) => result.map(|()| self.report()),
            None => {
                let signal = self.cancelled().await;
                let mut report = self.report();
                report.cancelled_by = Some(signal);
                Ok(report)
            }
        }
    }

    /// The set's report as it stands.
    fn report(&self) -> Report {
        Report {
            conclusion: Conclusion::Unchanged,
            image: self.settings.image.clone(),
            failure: None,
            cancelled_by: None,
            dry_run: self.settings.dry_run,
            source: self.settings.source.clone(),
            deployments: self.units.iter().map(|unit| unit.report.clone()).collect(),
            stages: Vec::new(),
        }
        .conclude()
    }

    /// `prod/web: ` before a line about one Deployment of several; nothing for a single one.
    fn about(&self, unit: usize) -> String {
        if self.units.len() == 1 {
            String::new()
        } else {
            format!("{}: ", self.units[unit].target)
        }
    }

    async fn deploy(&mut self) -> Result<(), Error> {
        let start = self.timeline.elapsed();
        let mut befores = Vec::new();
        for unit in 0..self.units.len() {
            befores.push(self.read(unit).await?);
        }
        self.timeline.phase("read deployment", start, false);
        if self.newer_source_on(&befores)? {
            return Ok(());
        }
        let mut watches = Vec::new();
        for (unit, before) in befores.iter().enumerate() {
            let started = match self.start(unit, before).await {
                Ok(started) => started,
                // Nothing rolls out yet: the set fails as a whole, with nothing changed.
                Err(error) if !self.units.iter().any(|unit| unit.patch_sent) => return Err(error),
                Err(error) => Err(chain(&error)),
            };
            match started {
                Ok(Some(watch)) => watches.push(watch),
                Ok(None) => {}
                Err(message) => {
                    // Earlier Deployments of the set were patched: undo them, as after a failure.
                    self.units[unit].report.conclusion = Conclusion::Failed;
                    self.units[unit].report.failure = Some(message.clone());
                    self.console
                        .info(&format!("{}Not deployed: {message}", self.about(unit)));
                    self.fail_set(&watches, None, &message).await;
                    return Ok(());
                }
            }
        }
        if watches.is_empty() {
            return Ok(());
        }
        let outcomes = self.wait_all(&watches, true).await;
        let mut failed = None;
        for (watch, outcome) in watches.iter().zip(&outcomes) {
            match outcome {
                Some(Outcome::Complete(snapshot)) => self.succeeded(watch, snapshot.clone()),
                Some(Outcome::Failed(failure, snapshot)) => {
                    self.timeline.moment("failure detected");
                    let report = &mut self.units[watch.unit].report;
                    report.revision = snapshot.revision;
                    report.pods.clone_from(&snapshot.pods);
                    report.events.clone_from(&failure.events);
                    failed = Some((watch.unit, failure.clone()));
                }
                None => {}
            }
        }
        if let Some((unit, failure)) = failed {
            self.console.info(&format!(
                "{}Rollout failed: {}",
                self.about(unit),
                failure.message
            ));
            for event in &failure.events {
                self.console.info(&format!("  event: {event}"));
            }
            let cause = format!(
                "{} failed, so the set is rolled back",
                self.units[unit].target
            );
            self.fail_set(&watches, Some((unit, &failure)), &cause)
                .await;
        }
        Ok(())
    }

    /// Reads one Deployment and chooses its container.
    async fn read(&mut self, unit: usize) -> Result<Deployment, Error> {
        let (client, settings) = (self.client, self.settings);
        let target = self.units[unit].target.clone();
        let before = deployment::read_unpaused(client, &target).await?;
        let container = deployment::choose_container(
            &before,
            &target,
            self.units[unit].wanted.as_deref(),
            &settings.image,
        )?;
        let previous_image = deployment::image_of(&before, &container).unwrap_or_default();
        let recorded = deployment::revision(&before);
        self.console.info(&format!(
            "Deployment {target}: revision {}, resourceVersion {}, container {container} runs {previous_image}{}",
            recorded.map_or_else(|| "none".to_owned(), |r| r.to_string()),
            before.metadata.resource_version.as_deref().unwrap_or("?"),
            others(&before, &container),
        ));
        let report = &mut self.units[unit].report;
        report.container.clone_from(&container);
        report.previous_image.clone_from(&previous_image);
        report.revision = recorded;
        self.units[unit].found = Some(Found {
            container,
            previous_image,
            recorded,
        });
        Ok(before)
    }

    /// Starts the change of one Deployment: records the source, dry-runs or patches. `Ok(None)`
    /// when it needs no waiting (a dry-run); `Err` (a message) when a patch raced a newer deploy.
    async fn start(
        &mut self,
        unit: usize,
        before: &Deployment,
    ) -> Result<Result<Option<Watch>, String>, Error> {
        let (client, settings) = (self.client, self.settings);
        let target = self.units[unit].target.clone();
        let found = self.units[unit].found.clone().expect("read before started");
        let container = found.container.clone();
        if found.previous_image == settings.image {
            let before = match self.record_source(unit, before, &container).await? {
                Written::Applied(written) => *written,
                Written::Superseded { live } => return Ok(self.raced(unit, live)),
            };
            return Ok(Ok(Some(self.already_set(unit, &before))));
        }
        let change = ImageChange {
            container: container.clone(),
            image: settings.image.clone(),
            annotations: settings.annotations.clone(),
            source: settings.source.clone(),
        };
        let start = self.timeline.elapsed();
        if settings.dry_run == Some(DryRun::Client) {
            let after = deployment::with_change(before, &change);
            self.timeline.phase("client-side diff", start, false);
            self.dry_run(unit, deployment::changes(before, &after));
            return Ok(Ok(None));
        }
        let server_dry_run = settings.dry_run == Some(DryRun::Server);
        self.units[unit].patch_sent = !server_dry_run;
        let written = deployment::set_image(client, &target, before, &change, server_dry_run).await;
        let patched = match written {
            Ok(Written::Applied(patched)) => patched,
            Ok(Written::Superseded { live }) => {
                self.units[unit].patch_sent = false;
                return Ok(self.raced(unit, live));
            }
            Err(error) => {
                // An error before the server stored anything: nothing of ours to undo here.
                self.units[unit].patch_sent = false;
                return Err(error);
            }
        };
        if server_dry_run {
            self.timeline.phase("server-side dry-run", start, false);
            self.dry_run(unit, deployment::changes(before, &patched));
            return Ok(Ok(None));
        }
        self.timeline.phase("patch image", start, false);
        self.console.info(&format!(
            "Patched {target}: container {container} now {} (generation {})",
            settings.image,
            patched.metadata.generation.unwrap_or(0)
        ));
        let undo = match found.recorded {
            Some(revision) => Undo::To(Restore {
                revision,
                image: found.previous_image.clone(),
            }),
            None => Undo::Never("the deployment had no revision before the patch"),
        };
        Ok(Ok(Some(Watch {
            unit,
            label: "rollout",
            expect: Expectation::after(&patched, &container, &settings.image),
            soak: settings.soak,
            undo,
            success: Conclusion::Deployed,
        })))
    }

    /// A dry-run's end for one Deployment: the fields the deploy would change, logged and in the
    /// report.
    fn dry_run(&mut self, unit: usize, changes: Vec<deployment::Change>) {
        let about = self.about(unit);
        self.console
            .info(&match self.settings.dry_run.and_then(DryRun::caveat) {
                None => {
                    format!("{about}Server-side dry-run accepted the patch; nothing was changed:")
                }
                Some(caveat) => format!("{about}Client-side diff, {caveat}; nothing was sent:"),
            });
        for change in &changes {
            self.console.info(&format!(
                "  {}: {} -> {}",
                change.field,
                change.before.as_deref().unwrap_or("(none)"),
                change.after.as_deref().unwrap_or("(none)")
            ));
        }
        let report = &mut self.units[unit].report;
        report.changes = changes;
        report.conclusion = Conclusion::DryRun;
    }

    /// The container already runs the image: "unchanged" only if the rollout is complete and
    /// healthy. Otherwise (a re-run after an interrupted deploy, say) the rollout is watched, and a
    /// failure rolls back to the revision before the image, if our own provenance shows that
    /// k8s-deploy set it.
    fn already_set(&mut self, unit: usize, before: &Deployment) -> Watch {
        let container = self.units[unit].report.container.clone();
        let image = self.settings.image.clone();
        let about = self.about(unit);
        let complete = matches!(rollout::deployment_status(before), Status::Done(_));
        // A dry-run that watched someone's rollout to its end deployed nothing.
        let (label, success) = if complete || self.settings.dry_run.is_some() {
            self.console.info(&format!(
                "{about}Container {container} already runs {image}; verifying that its rollout is complete and healthy"
            ));
            ("verify", Conclusion::Unchanged)
        } else {
            self.console.info(&format!(
                "{about}Container {container} already runs {image} but its rollout is not complete (an interrupted deploy?); watching it"
            ));
            ("rollout", Conclusion::Deployed)
        };
        let undo = if !self.set_by_us(before) {
            Undo::Never(
                "k8s-deploy did not set this image (no gantry.dev/image or change-cause annotation of ours names it)",
            )
        } else if complete && self.units.len() > 1 {
            // Another Deployment of the set failed: this one ran the image before this run.
            Undo::Never("it ran the image, rolled out, before this run")
        } else {
            Undo::Earlier
        };
        Watch {
            unit,
            label,
            expect: Expectation::current(before, &container, &image),
            soak: if complete { None } else { self.settings.soak },
            undo,
            success,
        }
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

    /// A rollout (or a verification) that completed.
    fn succeeded(&mut self, watch: &Watch, snapshot: gantry_kube::watch::Snapshot) {
        let about = self.about(watch.unit);
        self.console.info(&format!(
            "{about}{} {}: {} of {} pods ready and running it (revision {}{})",
            if watch.success == Conclusion::Unchanged {
                "Verified"
            } else {
                "Deployed"
            },
            watch.expect.image,
            snapshot.verified,
            snapshot.desired,
            snapshot.revision.unwrap_or(0),
            snapshot
                .digest
                .as_deref()
                .map(|digest| format!(", digest {digest}"))
                .unwrap_or_default(),
        ));
        let report = &mut self.units[watch.unit].report;
        report.conclusion = watch.success;
        report.revision = snapshot.revision;
        report.digest = snapshot.digest;
        report.pods = snapshot.pods;
    }

    /// After a failure of one Deployment (`failed`, or a `cause` that is no rollout's): rolls back
    /// every Deployment of `watches` when allowed, waits for those rollbacks together, and records
    /// what happened to each.
    async fn fail_set(
        &mut self,
        watches: &[Watch],
        failed: Option<(usize, &Failure)>,
        cause: &str,
    ) {
        let mut verifying = Vec::new();
        for watch in watches {
            let own = failed
                .filter(|(unit, _)| *unit == watch.unit)
                .map(|(_, f)| f);
            let failure = match own {
                Some(failure) => failure.message.clone(),
                None => cause.to_owned(),
            };
            let kind = own.map(|failure| failure.kind);
            let report = &mut self.units[watch.unit].report;
            report.conclusion = Conclusion::Failed;
            let next = match self.after_failure(watch, kind).await {
                Ok(rolling) => {
                    // Set aside for `record` after the rollback's verification.
                    self.units[watch.unit].report.failure = Some(failure);
                    verifying.push(rolling);
                    continue;
                }
                Err(next) => next,
            };
            self.units[watch.unit].report.record(&next, Some(&failure));
        }
        let nexts = self.verify_rollbacks(&verifying).await;
        for (rolling, next) in verifying.iter().zip(nexts) {
            let failure = self.units[rolling.unit].report.failure.take();
            self.units[rolling.unit]
                .report
                .record(&next, failure.as_deref());
        }
    }

    /// After a failed rollout: sends the rollback when allowed (`Ok`: to be verified), or says
    /// why not.
    async fn after_failure(
        &mut self,
        watch: &Watch,
        kind: Option<FailureKind>,
    ) -> Result<wait::Rolling, Next> {
        let refusal = match (kind, &watch.undo) {
            (Some(FailureKind::Superseded), _) => {
                "the deployment now belongs to someone else's change"
            }
            _ if !self.settings.rollback => "rollback is false",
            _ if self.settings.dry_run.is_some() => "this is a dry-run, which changes nothing",
            (_, Undo::Never(reason)) => reason,
            (_, Undo::To(restore)) => {
                return self
                    .roll_back(watch.unit, restore.clone(), &watch.expect)
                    .await;
            }
            (_, Undo::Earlier) => {
                let target = &self.units[watch.unit].target;
                let earlier = rollback::previous_revision(
                    self.client,
                    target,
                    &watch.expect.container,
                    &watch.expect.image,
                )
                .await
                .ok()
                .flatten();
                match earlier {
                    Some(restore) => {
                        return self.roll_back(watch.unit, restore, &watch.expect).await;
                    }
                    None => "the deployment's history has no earlier revision with another image",
                }
            }
        };
        Err(Next::failed(format!("not rolled back: {refusal}")))
    }

    /// Sends the rollback of one Deployment to `restore` unless someone else changed its pod
    /// template; `Ok` when it is to be verified.
    async fn roll_back(
        &mut self,
        unit: usize,
        restore: Restore,
        ours: &Expectation,
    ) -> Result<wait::Rolling, Next> {
        let revision = restore.revision;
        let target = self.units[unit].target.clone();
        let start = self.timeline.elapsed();
        self.console.info(&format!(
            "Rolling back {target} to revision {revision} ({})",
            restore.image
        ));
        let cause = match &self.settings.run_url {
            Some(url) => format!("k8s-deploy rolled back to revision {revision} ({url})"),
            None => format!("k8s-deploy rolled back to revision {revision}"),
        };
        self.units[unit].rolling_back_to = Some(restore.clone());
        let result = rollback::rollback(self.client, &target, revision, ours, &cause).await;
        self.timeline.phase("rollback patch", start, true);
        match result {
            Ok(Rollback::Applied { deployment }) => Ok(wait::Rolling {
                unit,
                expect: Expectation::after(&deployment, &ours.container, &restore.image),
                restore,
            }),
            Ok(Rollback::Refused { reason }) => {
                self.console
                    .info(&format!("{}Not rolled back: {reason}", self.about(unit)));
                Err(Next::failed(format!("not rolled back: {reason}")))
            }
            Err(error) => Err(Next::failed(format!("rollback failed: {}", chain(&error)))),
        }
    }
}

/// `, also init container migrate (unchanged)`: the containers left alone, so the log shows which
/// one changes.
fn others(deployment: &Deployment, container: &str) -> String {
    let pod = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref());
    let Some(pod) = pod else {
        return String::new();
    };
    let mut left = Vec::new();
    for init in pod.init_containers.iter().flatten() {
        left.push(format!("init container {}", init.name));
    }
    for other in pod.containers.iter().filter(|c| c.name != container) {
        left.push(format!("container {}", other.name));
    }
    if left.is_empty() {
        String::new()
    } else {
        format!(" (left unchanged: {})", left.join(", "))
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

//! Waiting for a rollout, driven by watches (never a sleep loop): the Deployment, its ReplicaSets
//! and its pods are watched with `kube::runtime::watcher`, which resumes a dropped stream from the
//! last `resourceVersion` and re-lists after 410 Gone. Every event re-judges the rollout with
//! kubectl's rules and the pod classification, so a terminal pod fails it at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event as KubeEvent, Pod, PodTemplateSpec};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

use crate::deployment::{image_of, selector};
use crate::retry::WatchBackoff;
use crate::rollout::{
    POD_TEMPLATE_HASH, PodPolicy, PodState, REVISION_ANNOTATION, Status, classify,
    deployment_status, progress_deadline_exceeded, replica_failure,
};
use crate::target::Target;

/// What the rollout must reach: the Deployment's controller past our generation, its pod template
/// still ours, running `image` in `container`.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub generation: i64,
    pub container: String,
    pub image: String,
    /// The pod template as our write left it. Someone else's deploy changes it; a scale (by
    /// `kubectl scale` or an autoscaler) changes only `spec.replicas` and the generation.
    pub template: PodTemplateSpec,
    /// The label selector of the Deployment's pods (`app=web,tier=front`).
    selector: String,
    /// The `lastUpdateTime` of a `ProgressDeadlineExceeded` condition our write found: the
    /// controller keeps it after a rollback to an existing ReplicaSet until the rollout makes
    /// progress, so it judges the rollout before ours, not ours.
    stale_deadline: Option<String>,
}

impl Expectation {
    /// The expectation set by our own write, whose response is `written` (or, on a re-run, by the
    /// Deployment as read).
    pub fn after(written: &Deployment, container: &str, image: &str) -> Self {
        Self {
            stale_deadline: timed_out_at(written),
            ..Self::current(written, container, image)
        }
    }

    /// The expectation for the rollout the Deployment is in, as read (a re-run's): a progress
    /// deadline it already exceeded counts.
    pub fn current(deployment: &Deployment, container: &str, image: &str) -> Self {
        Self {
            generation: deployment.metadata.generation.unwrap_or(0),
            container: container.to_owned(),
            image: image.to_owned(),
            template: template_of(deployment),
            selector: selector(deployment),
            stale_deadline: None,
        }
    }

    /// Whether `deployment` still carries the pod template of our write.
    pub fn template_is_ours(&self, deployment: &Deployment) -> bool {
        template_of(deployment) == self.template
    }
}

/// The `lastUpdateTime` of the Deployment's `ProgressDeadlineExceeded` condition, if it has one.
fn timed_out_at(deployment: &Deployment) -> Option<String> {
    progress_deadline_exceeded(deployment).map(|condition| {
        condition
            .last_update_time
            .as_ref()
            .map(|time| time.0.to_string())
            .unwrap_or_default()
    })
}

fn template_of(deployment: &Deployment) -> PodTemplateSpec {
    deployment
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default()
}

/// How long and how strictly to wait.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    pub timeout: Duration,
    /// Fail at once on terminal pod states and ReplicaFailure (otherwise only kubectl's rules).
    pub fail_fast: bool,
    pub pods: PodPolicy,
    /// After success, a period in which no new pod may restart or fail.
    pub soak: Option<Duration>,
}

/// One pod of the new ReplicaSet, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    pub name: String,
    pub state: String,
    pub ready: bool,
    pub image: String,
    pub image_id: String,
    pub restarts: i32,
}

/// The rollout as last seen.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub revision: Option<i64>,
    pub desired: i32,
    /// Ready pods of the new ReplicaSet that run the image and report an `imageID`.
    pub verified: i32,
    pub pods: Vec<PodRow>,
    /// The digest the ready pods of the new ReplicaSet resolved the image to (once complete).
    pub digest: Option<String>,
}

/// Why a rollout failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A pod of the new ReplicaSet is in a state that does not heal.
    Pod,
    Unschedulable,
    ReplicaFailure,
    ProgressDeadline,
    Timeout,
    /// Someone else changed the Deployment's pod template during the rollout.
    Superseded,
    /// The pods run another digest than the image names, or several digests for one tag.
    Digest,
    Deleted,
    /// A pod restarted or failed during the soak period.
    Soak,
}

/// A failed rollout: what, in words, and the recent Events of the pod at fault.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub events: Vec<String>,
}

/// How the wait ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Complete(Snapshot),
    Failed(Failure, Snapshot),
}

enum Update {
    Deployment(Event<Deployment>),
    ReplicaSet(Event<ReplicaSet>),
    Pod(Event<Pod>),
}

type Updates = Pin<Box<dyn Stream<Item = Result<Update, watcher::Error>> + Send>>;

/// Objects of one kind as the watch last reported them; usable once the first list is complete.
struct Cache<K> {
    items: BTreeMap<String, K>,
    relisting: Option<BTreeMap<String, K>>,
    ready: bool,
}

impl<K: kube::Resource> Cache<K> {
    fn new() -> Self {
        Self {
            items: BTreeMap::new(),
            relisting: None,
            ready: false,
        }
    }

    fn apply(&mut self, event: Event<K>) {
        match event {
            Event::Init => self.relisting = Some(BTreeMap::new()),
            Event::InitApply(object) => {
                self.relisting
                    .get_or_insert_default()
                    .insert(object.name_any(), object);
            }
            Event::InitDone => {
                self.items = self.relisting.take().unwrap_or_default();
                self.ready = true;
            }
            Event::Apply(object) => {
                self.items.insert(object.name_any(), object);
            }
            Event::Delete(object) => {
                self.items.remove(&object.name_any());
            }
        }
    }
}

/// The watched world and the judgement's memory (when each pod was first seen unschedulable).
struct Rollout<'a> {
    target: &'a Target,
    expect: &'a Expectation,
    options: WaitOptions,
    deployments: Cache<Deployment>,
    replica_sets: Cache<ReplicaSet>,
    pods: Cache<Pod>,
    unschedulable_since: HashMap<String, Instant>,
}

enum Verdict {
    Waiting(String),
    Complete(Snapshot),
    Failed {
        kind: FailureKind,
        message: String,
        pod: Option<String>,
        snapshot: Snapshot,
    },
}

/// Watches the rollout of `target` until it completes (and soaks), fails, or times out. `progress`
/// receives a line whenever the state changes.
pub async fn wait(
    client: &kube::Client,
    target: &Target,
    expect: &Expectation,
    options: WaitOptions,
    progress: &mut dyn FnMut(&str),
) -> Outcome {
    let mut updates = updates(client, target, expect);
    let mut rollout = Rollout {
        target,
        expect,
        options,
        deployments: Cache::new(),
        replica_sets: Cache::new(),
        pods: Cache::new(),
        unschedulable_since: HashMap::new(),
    };
    let deadline = tokio::time::Instant::now() + options.timeout;
    let mut soak: Option<(Instant, BTreeMap<String, i32>)> = None;
    let mut log = ProgressLog::new();
    loop {
        let now = Instant::now();
        let verdict = match rollout.judge(now) {
            Verdict::Complete(snapshot) => match &soak {
                Some((until, baseline)) => match soaked(snapshot, *until, baseline, now) {
                    Ok(snapshot) => return Outcome::Complete(snapshot),
                    Err(verdict) => verdict,
                },
                None => Verdict::Complete(snapshot),
            },
            verdict => verdict,
        };
        match verdict {
            Verdict::Complete(snapshot) => match options.soak {
                Some(period) if soak.is_none() => {
                    let baseline = snapshot
                        .pods
                        .iter()
                        .map(|pod| (pod.name.clone(), pod.restarts))
                        .collect();
                    progress(&format!(
                        "Rolled out; soaking for {}s",
                        period.as_secs_f64().round()
                    ));
                    soak = Some((now + period, baseline));
                    continue;
                }
                _ => return Outcome::Complete(snapshot),
            },
            Verdict::Failed {
                kind,
                message,
                pod,
                snapshot,
            } => {
                let events = match pod {
                    Some(pod) => recent_events(client, &target.namespace, &pod).await,
                    None => Vec::new(),
                };
                return Outcome::Failed(
                    Failure {
                        kind,
                        message,
                        events,
                    },
                    snapshot,
                );
            }
            Verdict::Waiting(line) => log.show(line, now, progress),
        }
        let wake = rollout
            .next_timer()
            .into_iter()
            .chain(soak.as_ref().map(|(until, _)| *until))
            .chain([log.next_heartbeat()])
            .map(tokio::time::Instant::from_std)
            .fold(deadline, Ord::min);
        tokio::select! {
            update = updates.next() => match update {
                Some(Ok(update)) => rollout.apply(update),
                Some(Err(error)) => progress(&format!("Watch interrupted ({error}); resuming")),
                None => unreachable!("watch streams never end"),
            },
            () = tokio::time::sleep_until(wake) => {
                if tokio::time::Instant::now() >= deadline {
                    let snapshot = rollout.snapshot();
                    return Outcome::Failed(
                        Failure {
                            kind: FailureKind::Timeout,
                            message: format!(
                                "the rollout did not finish within {}s; last state: {}",
                                options.timeout.as_secs(),
                                log.last_line
                            ),
                            events: Vec::new(),
                        },
                        snapshot,
                    );
                }
            }
        }
    }
}

/// How often an unchanged state is logged again, so a long wait shows it is alive.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Progress lines: each new state, and the current one again every [`HEARTBEAT`].
struct ProgressLog {
    started: Instant,
    printed: Instant,
    last_line: String,
}

impl ProgressLog {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            printed: now,
            last_line: String::new(),
        }
    }

    fn show(&mut self, line: String, now: Instant, progress: &mut dyn FnMut(&str)) {
        if line != self.last_line {
            progress(&line);
        } else if now.duration_since(self.printed) >= HEARTBEAT {
            progress(&format!(
                "{line} (waiting {}s)",
                now.duration_since(self.started).as_secs()
            ));
        } else {
            return;
        }
        self.printed = now;
        self.last_line = line;
    }

    fn next_heartbeat(&self) -> Instant {
        self.printed + HEARTBEAT
    }
}

/// The merged watch streams, each with a short backoff on errors.
fn updates(client: &kube::Client, target: &Target, expect: &Expectation) -> Updates {
    let by_name = watcher::Config::default().fields(&format!("metadata.name={}", target.name));
    let by_labels = watcher::Config::default().labels(&expect.selector);
    let deployments = watcher::watcher(target.api(client), by_name)
        .backoff(WatchBackoff::new())
        .map(|event| event.map(Update::Deployment));
    let replica_sets = watcher::watcher(
        Api::<ReplicaSet>::namespaced(client.clone(), &target.namespace),
        by_labels.clone(),
    )
    .backoff(WatchBackoff::new())
    .map(|event| event.map(Update::ReplicaSet));
    let pods = watcher::watcher(
        Api::<Pod>::namespaced(client.clone(), &target.namespace),
        by_labels,
    )
    .backoff(WatchBackoff::new())
    .map(|event| event.map(Update::Pod));
    Box::pin(futures::stream::select_all([
        deployments.boxed(),
        replica_sets.boxed(),
        pods.boxed(),
    ]))
}

impl Rollout<'_> {
    fn apply(&mut self, update: Update) {
        match update {
            Update::Deployment(event) => self.deployments.apply(event),
            Update::ReplicaSet(event) => self.replica_sets.apply(event),
            Update::Pod(event) => self.pods.apply(event),
        }
    }

    fn deployment(&self) -> Option<&Deployment> {
        self.deployments.items.get(&self.target.name)
    }

    /// Pods of the ReplicaSet that carries the Deployment's current revision, once the controller
    /// has observed our generation.
    fn new_pods(&self) -> Vec<&Pod> {
        let Some(deployment) = self.deployment() else {
            return Vec::new();
        };
        let observed = deployment
            .status
            .as_ref()
            .and_then(|status| status.observed_generation)
            .unwrap_or(0);
        if observed < self.expect.generation {
            return Vec::new();
        }
        let revision = deployment.annotations().get(REVISION_ANNOTATION);
        let uid = deployment.metadata.uid.as_deref();
        let hash = self
            .replica_sets
            .items
            .values()
            .filter(|rs| {
                rs.owner_references()
                    .iter()
                    .any(|owner| Some(owner.uid.as_str()) == uid)
            })
            .find(|rs| revision.is_some() && rs.annotations().get(REVISION_ANNOTATION) == revision)
            .and_then(|rs| rs.labels().get(POD_TEMPLATE_HASH));
        let Some(hash) = hash else {
            return Vec::new();
        };
        self.pods
            .items
            .values()
            .filter(|pod| pod.labels().get(POD_TEMPLATE_HASH) == Some(hash))
            .filter(|pod| pod.metadata.deletion_timestamp.is_none())
            .collect()
    }

    fn snapshot(&self) -> Snapshot {
        let Some(deployment) = self.deployment() else {
            return Snapshot::default();
        };
        let pods: Vec<PodRow> = self
            .new_pods()
            .into_iter()
            .map(|pod| self.row(pod))
            .collect();
        let verified = pods
            .iter()
            .filter(|pod| pod.ready && pod.image == self.expect.image && !pod.image_id.is_empty())
            .count();
        Snapshot {
            revision: crate::deployment::revision(deployment),
            desired: deployment
                .spec
                .as_ref()
                .and_then(|spec| spec.replicas)
                .unwrap_or(1),
            verified: i32::try_from(verified).unwrap_or(i32::MAX),
            pods,
            digest: None,
        }
    }

    fn row(&self, pod: &Pod) -> PodRow {
        let container = self.expect.container.as_str();
        let status = pod
            .status
            .as_ref()
            .and_then(|status| status.container_statuses.as_ref())
            .and_then(|statuses| statuses.iter().find(|c| c.name == container));
        let state = classify(pod, &self.options.pods);
        PodRow {
            name: pod.name_any(),
            ready: state == PodState::Ready,
            state: match state {
                PodState::Ready => "Ready".to_owned(),
                PodState::Starting(reason)
                | PodState::Unschedulable(reason)
                | PodState::Terminal(reason) => reason,
            },
            image: pod
                .spec
                .as_ref()
                .and_then(|spec| spec.containers.iter().find(|c| c.name == container))
                .and_then(|c| c.image.clone())
                .unwrap_or_default(),
            image_id: status.map(|c| c.image_id.clone()).unwrap_or_default(),
            restarts: status.map_or(0, |c| c.restart_count),
        }
    }

    /// The earliest moment an unschedulable pod's grace ends.
    fn next_timer(&self) -> Option<Instant> {
        self.unschedulable_since
            .values()
            .map(|since| *since + self.options.pods.unschedulable_grace)
            .min()
    }

    fn judge(&mut self, now: Instant) -> Verdict {
        if !(self.deployments.ready && self.replica_sets.ready && self.pods.ready) {
            return Verdict::Waiting("Watching the deployment, its replica sets and pods".into());
        }
        let Some(deployment) = self.deployment() else {
            return self.failed(
                FailureKind::Deleted,
                "the deployment was deleted".into(),
                None,
            );
        };
        if !self.expect.template_is_ours(deployment) {
            let image = image_of(deployment, &self.expect.container).unwrap_or_default();
            let message = format!(
                "someone else changed the deployment's pod template during the rollout (container {} now runs {image})",
                self.expect.container
            );
            return self.failed(FailureKind::Superseded, message, None);
        }
        let mut status = deployment_status(deployment);
        if matches!(status, Status::Failed(_))
            && self.expect.stale_deadline.is_some()
            && timed_out_at(deployment) == self.expect.stale_deadline
        {
            status = Status::Waiting(
                "Waiting for the rollout to make progress (the progress deadline exceeded is the previous rollout's)"
                    .to_owned(),
            );
        }
        if let Status::Failed(message) = &status {
            return self.failed(FailureKind::ProgressDeadline, message.clone(), None);
        }
        if self.options.fail_fast
            && let Some(message) = replica_failure(deployment)
        {
            return self.failed(FailureKind::ReplicaFailure, message, None);
        }
        if self.options.fail_fast
            && let Some(verdict) = self.judge_pods(now)
        {
            return verdict;
        }
        let mut snapshot = self.snapshot();
        match status {
            Status::Done(_) if snapshot.verified == snapshot.desired => {
                match resolved_digest(&self.expect.image, &snapshot.pods) {
                    Ok(digest) => {
                        snapshot.digest = digest;
                        Verdict::Complete(snapshot)
                    }
                    Err(message) => self.failed(FailureKind::Digest, message, None),
                }
            }
            Status::Done(message) | Status::Waiting(message) => {
                Verdict::Waiting(progress_line(&message, &snapshot))
            }
            Status::Failed(_) => unreachable!("handled above"),
        }
    }

    fn judge_pods(&mut self, now: Instant) -> Option<Verdict> {
        let states: Vec<(String, PodState)> = self
            .new_pods()
            .into_iter()
            .map(|pod| (pod.name_any(), classify(pod, &self.options.pods)))
            .collect();
        self.unschedulable_since.retain(|name, _| {
            states
                .iter()
                .any(|(pod, state)| pod == name && matches!(state, PodState::Unschedulable(_)))
        });
        for (pod, state) in states {
            match state {
                PodState::Terminal(reason) => {
                    let message = format!("pod {pod} of the new replica set: {reason}");
                    return Some(self.failed(FailureKind::Pod, message, Some(pod)));
                }
                PodState::Unschedulable(reason) => {
                    let since = *self.unschedulable_since.entry(pod.clone()).or_insert(now);
                    if now.duration_since(since) >= self.options.pods.unschedulable_grace {
                        let message = format!(
                            "pod {pod} of the new replica set is unschedulable for over {:?}: {reason}",
                            self.options.pods.unschedulable_grace
                        );
                        return Some(self.failed(FailureKind::Unschedulable, message, Some(pod)));
                    }
                }
                PodState::Ready | PodState::Starting(_) => {}
            }
        }
        None
    }

    fn failed(&self, kind: FailureKind, message: String, pod: Option<String>) -> Verdict {
        Verdict::Failed {
            kind,
            message,
            pod,
            snapshot: self.snapshot(),
        }
    }
}

/// The digest of an `imageID` (`repo@sha256:…`, `docker-pullable://repo@sha256:…`, `sha256:…`).
fn digest_of(image_id: &str) -> Option<&str> {
    let digest = image_id
        .rsplit_once('@')
        .map_or(image_id, |(_, digest)| digest);
    digest.starts_with("sha256:").then_some(digest)
}

/// Verifies what the ready pods running `image` resolved it to: the digest the reference names,
/// or (for a tag) one digest for all of them. Returns that digest.
fn resolved_digest(image: &str, pods: &[PodRow]) -> Result<Option<String>, String> {
    let ready = pods.iter().filter(|pod| pod.ready && pod.image == image);
    let mut digests = BTreeSet::new();
    for pod in ready {
        match digest_of(&pod.image_id) {
            Some(digest) => digests.insert(digest),
            None => {
                return Err(format!(
                    "pod {} reports imageID `{}`, which names no sha256 digest",
                    pod.name, pod.image_id
                ));
            }
        };
    }
    if let Some((_, named)) = image.rsplit_once('@') {
        return match digests.iter().find(|digest| **digest != named) {
            Some(other) => Err(format!(
                "the pods of the new replica set run digest {other}, not the {named} that {image} names"
            )),
            None => Ok(Some(named.to_owned())),
        };
    }
    match digests.len() {
        0 | 1 => Ok(digests.first().map(|digest| (*digest).to_owned())),
        _ => Err(format!(
            "the ready pods of the new replica set run {} different digests of {image} ({}): the tag moved during the rollout",
            digests.len(),
            digests.iter().copied().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn progress_line(message: &str, snapshot: &Snapshot) -> String {
    let mut line = format!(
        "{message} [new pods: {} of {} ready with the image",
        snapshot.verified, snapshot.desired
    );
    for pod in snapshot.pods.iter().filter(|pod| !pod.ready) {
        let _ = write!(line, "; {}: {}", pod.name, pod.state);
    }
    line.push(']');
    line
}

/// During the soak: the snapshot once the period is over, else a failure or a waiting line.
fn soaked(
    snapshot: Snapshot,
    until: Instant,
    baseline: &BTreeMap<String, i32>,
    now: Instant,
) -> Result<Snapshot, Verdict> {
    match restarted(&snapshot, baseline) {
        Some(message) => Err(Verdict::Failed {
            kind: FailureKind::Soak,
            message,
            pod: None,
            snapshot,
        }),
        None if now >= until => Ok(snapshot),
        None => Err(Verdict::Waiting(format!(
            "Soaking: {} of {} pods ready, no restarts; {}s left",
            snapshot.verified,
            snapshot.desired,
            until.saturating_duration_since(now).as_secs()
        ))),
    }
}

/// A pod that restarted (or vanished) since the soak began.
fn restarted(snapshot: &Snapshot, baseline: &BTreeMap<String, i32>) -> Option<String> {
    baseline.iter().find_map(|(name, before)| {
        match snapshot.pods.iter().find(|pod| pod.name == *name) {
            None => Some(format!("pod {name} disappeared during the soak")),
            Some(pod) if pod.restarts > *before => Some(format!(
                "pod {name} restarted during the soak ({} restarts, {before} before)",
                pod.restarts
            )),
            Some(_) => None,
        }
    })
}

/// The last few Events of a pod, `Reason: message`, oldest first; empty when they cannot be read.
async fn recent_events(client: &kube::Client, namespace: &str, pod: &str) -> Vec<String> {
    let api: Api<KubeEvent> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={pod}"));
    let Ok(list) = crate::retry::transient(|| api.list(&params)).await else {
        return Vec::new();
    };
    let mut events = list.items;
    // Timestamps have one-second resolution; the resourceVersion orders events within a second.
    events.sort_by_key(|event| {
        let time = event
            .last_timestamp
            .clone()
            .or(event.first_timestamp.clone())
            .map(|time| time.0);
        let version = event
            .metadata
            .resource_version
            .as_deref()
            .and_then(|version| version.parse::<u64>().ok());
        (time, version)
    });
    let skip = events.len().saturating_sub(5);
    events
        .into_iter()
        .skip(skip)
        .map(|event| {
            format!(
                "{}: {}",
                event.reason.unwrap_or_default(),
                event.message.unwrap_or_default()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(restarts: i32) -> Snapshot {
        Snapshot {
            pods: vec![PodRow {
                name: "web-1".to_owned(),
                state: "Ready".to_owned(),
                ready: true,
                image: "app:2".to_owned(),
                image_id: "sha256:1".to_owned(),
                restarts,
            }],
            ..Snapshot::default()
        }
    }

    fn pod_running(name: &str, image: &str, image_id: &str) -> PodRow {
        PodRow {
            name: name.to_owned(),
            state: "Ready".to_owned(),
            ready: true,
            image: image.to_owned(),
            image_id: image_id.to_owned(),
            restarts: 0,
        }
    }

    #[test]
    fn digests_are_verified_against_the_reference_and_each_other() {
        let a = "sha256:aaaa";
        let b = "sha256:bbbb";
        let tag = "r/app:1";
        let one = [
            pod_running("p1", tag, &format!("r/app@{a}")),
            pod_running("p2", tag, &format!("docker-pullable://r/app@{a}")),
        ];
        assert_eq!(resolved_digest(tag, &one), Ok(Some(a.to_owned())));
        let moved = [
            pod_running("p1", tag, &format!("r/app@{a}")),
            pod_running("p2", tag, &format!("r/app@{b}")),
        ];
        assert_eq!(
            resolved_digest(tag, &moved).unwrap_err(),
            "the ready pods of the new replica set run 2 different digests of r/app:1 (sha256:aaaa, sha256:bbbb): the tag moved during the rollout"
        );
        let pinned = format!("r/app@{a}");
        let right = [pod_running("p1", &pinned, &format!("r/app@{a}"))];
        assert_eq!(resolved_digest(&pinned, &right), Ok(Some(a.to_owned())));
        let wrong = [pod_running("p1", &pinned, &format!("r/app@{b}"))];
        assert!(resolved_digest(&pinned, &wrong).unwrap_err().starts_with(
            "the pods of the new replica set run digest sha256:bbbb, not the sha256:aaaa"
        ));
        let opaque = [pod_running("p1", tag, "r/app:1")];
        assert!(resolved_digest(tag, &opaque).is_err());
    }

    #[test]
    fn progress_shows_changes_and_a_heartbeat() {
        let mut log = ProgressLog::new();
        let mut shown = Vec::new();
        let start = log.started;
        for (line, at) in [("a", 0), ("a", 10), ("b", 11), ("b", 40), ("b", 42)] {
            log.show(
                line.to_owned(),
                start + Duration::from_secs(at),
                &mut |text| shown.push(text.to_owned()),
            );
        }
        assert_eq!(shown, ["a", "b", "b (waiting 42s)"]);
    }

    #[test]
    fn a_restart_during_the_soak_is_reported() {
        let baseline = BTreeMap::from([("web-1".to_owned(), 0)]);
        assert_eq!(restarted(&snapshot(0), &baseline), None);
        assert_eq!(
            restarted(&snapshot(1), &baseline).as_deref(),
            Some("pod web-1 restarted during the soak (1 restarts, 0 before)")
        );
        assert_eq!(
            restarted(&Snapshot::default(), &baseline).as_deref(),
            Some("pod web-1 disappeared during the soak")
        );
    }
}

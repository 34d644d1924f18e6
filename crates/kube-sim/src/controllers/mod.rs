//! The simulated control plane: the deployment controller, the ReplicaSet controller, the
//! kubelet and the endpoints controller, run as reconcile functions over the world after every
//! change and when a timer on the simulated clock falls due.

pub mod adoption;
pub mod deployment;
pub mod endpoints;
pub mod kubelet;
pub mod replicaset;
pub mod scaling;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::faults::{Action, Trigger};
use crate::patch::PatchType;
use crate::resources::Resource;
use crate::store::{ObjKey, meta_str};
use crate::world::World;

/// Controller memory that is not part of any API object.
#[derive(Debug, Default)]
pub struct ControllerState {
    pub(crate) pods: HashMap<ObjKey, kubelet::PodSim>,
    timers: BinaryHeap<Reverse<(Duration, u64, ObjKey)>>,
    timer_seq: u64,
    pub(crate) scheduled: Vec<Scheduled>,
    pub(crate) pulled_images: HashSet<String>,
    pub(crate) next_pod_ip: u32,
    pub(crate) next_cluster_ip: u32,
    /// Largest delay (simulated) between a timer falling due and the controllers handling it.
    pub(crate) max_timer_lag: Duration,
    /// Terminating pods and when their containers will have stopped.
    pub(crate) terminations: HashMap<ObjKey, Duration>,
    /// Owners deleted in the foreground, waiting for their dependents to be gone.
    pub(crate) foreground: BTreeSet<ObjKey>,
}

/// A second actor's action waiting for its trigger.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub trigger: Trigger,
    pub action: Action,
    /// For `AfterRolloutStart`: the generation seen when scheduled, then the fire time once armed.
    armed_generation: Option<i64>,
    fire_at: Option<Duration>,
}

impl Scheduled {
    pub fn new(
        trigger: Trigger,
        action: Action,
        now: Duration,
        current_generation: Option<i64>,
    ) -> Self {
        let fire_at = match &trigger {
            Trigger::After(d) => Some(now + *d),
            Trigger::AfterRolloutStart { .. } => None,
        };
        Self {
            trigger,
            action,
            armed_generation: current_generation,
            fire_at,
        }
    }
}

impl World {
    /// Wakes `key`'s controller at `sim_at` (simulated time since start).
    pub(crate) fn schedule_wakeup(&mut self, key: ObjKey, sim_at: Duration) {
        self.ctrl.timer_seq += 1;
        let seq = self.ctrl.timer_seq;
        self.ctrl.timers.push(Reverse((sim_at, seq, key)));
    }

    /// Simulated time of the next timer, if any.
    pub fn next_wakeup(&self) -> Option<Duration> {
        let timer = self.ctrl.timers.peek().map(|Reverse((t, _, _))| *t);
        let sched = self.ctrl.scheduled.iter().filter_map(|s| s.fire_at).min();
        match (timer, sched) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn run_action(&mut self, action: &Action) {
        let result = match action {
            Action::SetImage {
                namespace,
                deployment,
                container,
                image,
            } => {
                let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}});
                self.patch(
                    Resource::Deployments,
                    namespace,
                    deployment,
                    PatchType::Strategic,
                    &patch,
                    false,
                    false,
                )
            }
            Action::MergePatch {
                resource,
                namespace,
                name,
                patch,
            } => self.patch(
                *resource,
                namespace,
                name,
                PatchType::Merge,
                patch,
                false,
                false,
            ),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, ?action, "scheduled action failed");
        }
    }

    fn fire_scheduled(&mut self, now: Duration) {
        let mut due = Vec::new();
        let mut keep = Vec::new();
        for mut s in std::mem::take(&mut self.ctrl.scheduled) {
            if let Trigger::AfterRolloutStart {
                namespace,
                deployment,
                delay,
            } = &s.trigger
                && s.fire_at.is_none()
            {
                let generation = self
                    .get(Resource::Deployments, namespace, deployment)
                    .and_then(|d| d.pointer("/metadata/generation"))
                    .and_then(Value::as_i64);
                match (s.armed_generation, generation) {
                    (Some(seen), Some(g)) if g > seen => s.fire_at = Some(now + *delay),
                    (None, Some(g)) => s.armed_generation = Some(g),
                    _ => {}
                }
            }
            if s.fire_at.is_some_and(|t| t <= now) {
                due.push(s.action);
            } else {
                keep.push(s);
            }
        }
        self.ctrl.scheduled = keep;
        for a in due {
            self.run_action(&a);
        }
    }

    /// Runs the controllers until the world stops changing (bounded), firing due timers first.
    pub fn reconcile(&mut self) {
        for _round in 0..64 {
            if !self.reconcile_round() {
                return;
            }
        }
    }

    /// One round of the controllers over what changed or fell due; false when nothing did.
    /// Readiness changes are recorded for the traffic counters after each round.
    pub fn reconcile_round(&mut self) -> bool {
        let changed = self.controllers_round();
        if changed {
            self.observe_traffic();
        }
        changed
    }

    fn controllers_round(&mut self) -> bool {
        {
            let now = self.clock.elapsed();
            self.fire_scheduled(now);
            self.finish_foreground_deletions();
            let mut keys: BTreeSet<ObjKey> = self.store.take_dirty().into_iter().collect();
            while let Some(Reverse((t, _, _))) = self.ctrl.timers.peek() {
                if *t > now {
                    break;
                }
                if let Some(Reverse((due, _, k))) = self.ctrl.timers.pop() {
                    self.ctrl.max_timer_lag = self.ctrl.max_timer_lag.max(now.saturating_sub(due));
                    keys.insert(k);
                }
            }
            if keys.is_empty() {
                return false;
            }
            let mut deployments = BTreeSet::new();
            let mut replicasets = BTreeSet::new();
            let mut pods = BTreeSet::new();
            let services = endpoints::Changed::of(&keys, &self.store);
            for k in keys {
                match k.resource {
                    Resource::Deployments => {
                        deployments.insert(k);
                    }
                    Resource::ReplicaSets => {
                        if let Some(owner) = self
                            .store
                            .get(&k)
                            .and_then(|o| controller_owner_name(o, "Deployment"))
                        {
                            deployments.insert(ObjKey::new(
                                Resource::Deployments,
                                &k.namespace,
                                &owner,
                            ));
                        } else if let Some(owner) = self.ctrl_owner_guess(&k) {
                            deployments.insert(owner);
                        }
                        replicasets.insert(k);
                    }
                    Resource::Pods => {
                        // A removed pod no longer names its owner: `<replicaset>-<suffix>`.
                        let owner = match self.store.get(&k) {
                            Some(o) => controller_owner_name(o, "ReplicaSet"),
                            None => k.name.rsplit_once('-').map(|(rs, _)| rs.to_owned()),
                        };
                        if let Some(owner) = owner {
                            let rs = ObjKey::new(Resource::ReplicaSets, &k.namespace, &owner);
                            // The deployment controller looks at pods too (Recreate waits for
                            // old pods to be gone).
                            if let Some(d) = self
                                .store
                                .get(&rs)
                                .and_then(|o| controller_owner_name(o, "Deployment"))
                            {
                                deployments.insert(ObjKey::new(
                                    Resource::Deployments,
                                    &k.namespace,
                                    &d,
                                ));
                            }
                            replicasets.insert(rs);
                        }
                        pods.insert(k);
                    }
                    _ => {}
                }
            }
            for k in &deployments {
                deployment::sync(self, k);
            }
            if !replicasets.is_empty() {
                // One pass over the pods per round instead of one per ReplicaSet; a second only
                // after ReplicaSets adopted orphans.
                let (mut pods_by_owner, orphaned) = self.pods_by_controller();
                let adopters: Vec<&ObjKey> = replicasets
                    .iter()
                    .filter(|k| orphaned.contains(&k.namespace))
                    .collect();
                if !adopters.is_empty() {
                    for k in adopters {
                        if let Some(rs) = self.store.get(k).cloned() {
                            adoption::adopt_orphans(
                                self,
                                Resource::ReplicaSets,
                                &rs,
                                Resource::Pods,
                            );
                        }
                    }
                    pods_by_owner = self.pods_by_controller().0;
                }
                for k in &replicasets {
                    replicaset::sync(self, k, &pods_by_owner);
                }
            }
            for k in &pods {
                kubelet::sync(self, k);
            }
            endpoints::sync(self, &services);
        }
        true
    }

    /// Every pod by its controller's UID, and the namespaces holding orphan pods (no controller,
    /// not being deleted), which only there give a ReplicaSet something to adopt.
    fn pods_by_controller(&self) -> (HashMap<String, Vec<ObjKey>>, HashSet<String>) {
        let mut by_owner: HashMap<String, Vec<ObjKey>> = HashMap::new();
        let mut orphaned = HashSet::new();
        for p in self.store.list(Resource::Pods, None) {
            match crate::world::controller_uid(p) {
                Some(uid) => by_owner
                    .entry(uid.to_owned())
                    .or_default()
                    .push(ObjKey::of(Resource::Pods, p)),
                None if !adoption::deleting(p) => {
                    orphaned.insert(meta_str(p, "namespace").to_owned());
                }
                None => {}
            }
        }
        (by_owner, orphaned)
    }

    /// A deleted ReplicaSet no longer names its owner; guess it from the `<deployment>-<hash>` name.
    fn ctrl_owner_guess(&self, rs: &ObjKey) -> Option<ObjKey> {
        let (prefix, _) = rs.name.rsplit_once('-')?;
        let key = ObjKey::new(Resource::Deployments, &rs.namespace, prefix);
        self.store.get(&key).map(|_| key)
    }
}

/// Name of the controlling owner of the given kind.
pub fn controller_owner_name(obj: &Value, kind: &str) -> Option<String> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| {
            r.get("controller").and_then(Value::as_bool) == Some(true)
                && r.get("kind").and_then(Value::as_str) == Some(kind)
        })
        .and_then(|r| r.get("name").and_then(Value::as_str).map(str::to_owned))
}

/// An ownerReference that makes `owner` the controller.
pub fn owner_ref(resource: Resource, owner: &Value) -> Value {
    json!({
        "apiVersion": resource.api_version(),
        "kind": resource.kind(),
        "name": meta_str(owner, "name"),
        "uid": meta_str(owner, "uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

pub(crate) fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Sets `status.<field>` to `n`, or removes it when zero (Go's `omitempty`).
pub(crate) fn set_count(status: &mut Value, field: &str, n: i64) {
    if let Value::Object(m) = status {
        if n == 0 {
            m.remove(field);
        } else {
            m.insert(field.to_owned(), json!(n));
        }
    }
}

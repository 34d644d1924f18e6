//! The one stateful world behind the API: the store plus the write semantics every writer goes
//! through (HTTP handlers, controllers and second actors alike): defaults, validation,
//! `resourceVersion` preconditions, `generation` bumps, dry-run, garbage collection and Events.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::admission;
use crate::clock::{SimClock, format_time};
use crate::controllers::ControllerState;
use crate::error::ApiError;
use crate::faults::{Fault, Verb};
use crate::images::ImageCatalogue;
use crate::patch::{self, PatchType};
use crate::resources::Resource;
use crate::services;
use crate::store::{ObjKey, Store, meta_str};

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub verb: Option<Verb>,
    pub resource: Option<Resource>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub status: u16,
}

/// The simulated cluster state.
#[derive(Debug)]
pub struct World {
    pub store: Store,
    pub clock: Arc<SimClock>,
    pub images: ImageCatalogue,
    pub faults: Vec<Fault>,
    /// The request log, oldest first; the oldest entries beyond 100 000 are dropped.
    pub requests: std::collections::VecDeque<RequestRecord>,
    pub(crate) ctrl: ControllerState,
    rng: StdRng,
    /// (involved uid, reason, message) → event name, to aggregate repeats into `count`.
    event_index: HashMap<(String, String, String), ObjKey>,
    /// Events oldest first; beyond `event_limit` the oldest expire, as events do after their TTL.
    event_order: std::collections::VecDeque<ObjKey>,
    pub event_limit: usize,
    /// Per-namespace pod quota (a ResourceQuota with `pods: N`); creating more pods is Forbidden.
    pub pod_quota: HashMap<String, usize>,
    /// What the one node can hold: (CPU millicores, memory bytes) of summed container requests.
    pub node_allocatable: (u64, u64),
    /// How long (simulated) a deleted Pod's containers take to stop: it stays Terminating that
    /// long, at most its grace period.
    pub pod_termination: std::time::Duration,
    /// What the ready pods have served (`traffic`).
    pub(crate) traffic: crate::traffic::TrafficState,
}

const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl World {
    pub fn new(clock: Arc<SimClock>, images: ImageCatalogue, seed: u64, history: usize) -> Self {
        Self {
            store: Store::new(history),
            clock,
            images,
            faults: Vec::new(),
            requests: std::collections::VecDeque::new(),
            ctrl: ControllerState::default(),
            rng: StdRng::seed_from_u64(seed),
            event_index: HashMap::new(),
            event_order: std::collections::VecDeque::new(),
            event_limit: 1000,
            pod_quota: HashMap::new(),
            node_allocatable: (4000, 16 << 30),
            pod_termination: std::time::Duration::from_secs(1),
            traffic: crate::traffic::TrafficState::default(),
        }
    }

    pub fn now_str(&self) -> String {
        format_time(self.clock.now())
    }

    pub fn new_uid(&mut self) -> String {
        let b: [u8; 16] = self.rng.random();
        let hex = b.iter().fold(String::new(), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        });
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    /// The next address of the service range (10.96.0.0/12, as kubeadm sets it) for a Service.
    fn allocate_cluster_ip(&mut self) -> String {
        self.ctrl.next_cluster_ip += 1;
        let n = self.ctrl.next_cluster_ip + 9;
        format!("10.96.{}.{}", n / 250, n % 250 + 1)
    }

    /// Five characters as `generateName` appends them.
    pub fn random_suffix(&mut self) -> String {
        (0..5)
            .map(|_| SUFFIX_ALPHABET[self.rng.random_range(0..SUFFIX_ALPHABET.len())] as char)
            .collect()
    }

    pub fn random_u32(&mut self) -> u32 {
        self.rng.random()
    }

    pub fn get(&self, resource: Resource, namespace: &str, name: &str) -> Option<&Value> {
        self.store.get(&ObjKey::new(resource, namespace, name))
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.store
            .get(&ObjKey::new(Resource::Namespaces, "", ns))
            .is_some()
    }

    /// Creates an object in `namespace` (ignored for cluster-scoped resources).
    pub fn create(
        &mut self,
        resource: Resource,
        namespace: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request was in an unknown format",
            ));
        }
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        if resource.namespaced() {
            let body_ns = meta_str(&obj, "namespace");
            if !body_ns.is_empty() && body_ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            if !self.namespace_exists(namespace) {
                return Err(ApiError::not_found("namespaces", "", namespace));
            }
            obj["metadata"]["namespace"] = json!(namespace);
        } else if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        if meta_str(&obj, "name").is_empty() {
            let prefix = meta_str(&obj, "generateName").to_owned();
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    resource.kind(),
                    resource.group(),
                    "",
                    &[(
                        "metadata.name".to_owned(),
                        "Required value: name or generateName is required".to_owned(),
                    )],
                ));
            }
            let suffix = self.random_suffix();
            obj["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
        }
        let name = meta_str(&obj, "name").to_owned();
        if resource == Resource::Pods {
            self.check_pod_quota(namespace, &obj, &name)?;
        }
        if self
            .store
            .get(&ObjKey::new(resource, namespace, &name))
            .is_some()
        {
            return Err(ApiError::already_exists(
                resource.plural(),
                resource.group(),
                &name,
            ));
        }
        obj["apiVersion"] = json!(resource.api_version());
        obj["kind"] = json!(resource.kind());
        admission::apply_defaults(resource, &mut obj);
        if resource == Resource::Services {
            services::settle_cluster_ip(&mut obj, None, || self.allocate_cluster_ip());
        }
        let causes = admission::validate(resource, &obj, None);
        if !causes.is_empty() {
            return Err(ApiError::invalid(
                resource.kind(),
                resource.group(),
                &name,
                &causes,
            ));
        }
        let uid = self.new_uid();
        let now = self.now_str();
        {
            let meta = obj["metadata"]
                .as_object_mut()
                .ok_or_else(|| ApiError::internal("metadata"))?;
            meta.insert("uid".to_owned(), json!(uid));
            meta.insert("creationTimestamp".to_owned(), json!(now));
            meta.remove("resourceVersion");
            meta.remove("deletionTimestamp");
            if resource.has_generation() {
                meta.insert("generation".to_owned(), json!(1));
            } else {
                meta.remove("generation");
            }
        }
        match resource {
            Resource::Deployments | Resource::ReplicaSets => obj["status"] = json!({}),
            Resource::Services => obj["status"] = json!({"loadBalancer": {}}),
            Resource::Pods => {
                let qos = qos_class(&obj);
                obj["status"] = json!({"phase": "Pending", "qosClass": qos});
            }
            _ => {}
        }
        let obj = resource.normalize(obj)?;
        if dry_run {
            return Ok(obj);
        }
        Ok(self.store.insert(resource, obj))
    }

    /// The ResourceQuota admission check for `pods: N`.
    fn check_pod_quota(&self, namespace: &str, obj: &Value, name: &str) -> Result<(), ApiError> {
        if let Some(limit) = self.pod_quota.get(namespace).copied() {
            let used = self.store.list(Resource::Pods, Some(namespace)).len();
            let shown = match meta_str(obj, "generateName") {
                "" => name.to_owned(),
                prefix => prefix.to_owned(),
            };
            if used >= limit {
                return Err(ApiError::new(
                    403,
                    "Forbidden",
                    format!(
                        "pods \"{shown}\" is forbidden: exceeded quota: kube-sim-quota, requested: pods=1, used: pods={used}, limited: pods={limit}"
                    ),
                )
                .with_details(json!({"name": name, "kind": "pods"})));
            }
        }
        Ok(())
    }

    /// Replaces an object (PUT), or only its status when `status_only`.
    pub fn update(
        &mut self,
        resource: Resource,
        namespace: &str,
        name: &str,
        mut obj: Value,
        status_only: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let key = ObjKey::new(resource, namespace, name);
        let old = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(resource.plural(), resource.group(), name))?;
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        let body_name = meta_str(&obj, "name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        let rv = meta_str(&obj, "resourceVersion");
        if !rv.is_empty() && rv != meta_str(&old, "resourceVersion") {
            return Err(ApiError::conflict(
                resource.plural(),
                resource.group(),
                name,
            ));
        }
        let mut new = if status_only {
            // The status strategy keeps spec and labels; annotations may change (the deployment
            // controller records the revision this way).
            let mut n = old.clone();
            n["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            if let Some(a) = obj.pointer("/metadata/annotations") {
                n["metadata"]["annotations"] = a.clone();
            }
            n
        } else {
            obj["apiVersion"] = json!(resource.api_version());
            obj["kind"] = json!(resource.kind());
            if let Some(status) = old.get("status")
                && resource != Resource::Events
            {
                obj["status"] = status.clone();
            }
            admission::apply_defaults(resource, &mut obj);
            if resource == Resource::Services {
                services::settle_cluster_ip(&mut obj, Some(&old), || self.allocate_cluster_ip());
            }
            obj
        };
        let spec_changed = !status_only && new.get("spec") != old.get("spec");
        {
            let old_meta = &old["metadata"];
            let meta = new["metadata"]
                .as_object_mut()
                .ok_or_else(|| ApiError::internal("metadata"))?;
            meta.insert("name".to_owned(), json!(name));
            if resource.namespaced() {
                meta.insert("namespace".to_owned(), json!(namespace));
            }
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "generateName",
            ] {
                match old_meta.get(f) {
                    Some(v) => meta.insert(f.to_owned(), v.clone()),
                    None => meta.remove(f),
                };
            }
            meta.insert(
                "resourceVersion".to_owned(),
                old_meta["resourceVersion"].clone(),
            );
            if resource.has_generation() {
                let g = old_meta["generation"].as_i64().unwrap_or(1);
                let bumped = if spec_changed { g + 1 } else { g };
                meta.insert("generation".to_owned(), json!(bumped));
            }
        }
        let causes = admission::validate(resource, &new, Some(&old));
        if !causes.is_empty() {
            return Err(ApiError::invalid(
                resource.kind(),
                resource.group(),
                name,
                &causes,
            ));
        }
        let new = resource.normalize(new)?;
        if new == old || dry_run {
            return Ok(new);
        }
        Ok(self.store.replace(resource, new))
    }

    /// Applies a PATCH (of any flavour) and stores the result through [`World::update`].
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the PATCH request's parts"
    )]
    pub fn patch(
        &mut self,
        resource: Resource,
        namespace: &str,
        name: &str,
        kind: PatchType,
        body: &Value,
        status_only: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let old = self
            .get(resource, namespace, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(resource.plural(), resource.group(), name))?;
        let patched = patch::apply(kind, &old, body)?;
        if !patched.is_object() {
            return Err(ApiError::bad_request("patch produced a non-object"));
        }
        self.update(resource, namespace, name, patched, status_only, dry_run)
    }

    /// Deletes an object and, unless `orphan`, everything it owns (background cascading).
    pub fn delete(
        &mut self,
        resource: Resource,
        namespace: &str,
        name: &str,
        orphan: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let propagation = if orphan {
            Propagation::Orphan
        } else {
            Propagation::Background
        };
        self.delete_with_grace(resource, namespace, name, propagation, dry_run, None)
    }

    /// [`World::delete`] with a propagation policy and `gracePeriodSeconds`: a Pod bound to the
    /// node is first marked Terminating (`deletionTimestamp`) and removed by the kubelet once its
    /// containers stopped (after `pod_termination`, at most the grace period; 0 deletes at once).
    /// Dependents are deleted the same way by the garbage collector, so a deleted Deployment
    /// leaves its pods Terminating. Foreground deletion keeps an owner, marked with the
    /// `foregroundDeletion` finalizer, until its dependents are gone.
    pub fn delete_with_grace(
        &mut self,
        resource: Resource,
        namespace: &str,
        name: &str,
        propagation: Propagation,
        dry_run: bool,
        grace: Option<i64>,
    ) -> Result<Value, ApiError> {
        let key = ObjKey::new(resource, namespace, name);
        let obj = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(resource.plural(), resource.group(), name))?;
        if dry_run {
            return Ok(obj);
        }
        if resource == Resource::Pods
            && let Some(terminating) = self.start_termination(&key, &obj, grace)
        {
            return Ok(terminating);
        }
        let uid = meta_str(&obj, "uid").to_owned();
        if propagation == Propagation::Foreground
            && matches!(resource, Resource::Deployments | Resource::ReplicaSets)
        {
            if obj
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|v| !v.is_null())
            {
                return Ok(obj);
            }
            let mut marked = obj;
            marked["metadata"]["deletionTimestamp"] = json!(self.now_str());
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            marked["metadata"]["finalizers"] = json!([FOREGROUND_FINALIZER]);
            let marked = self.store.replace(resource, marked);
            self.ctrl.foreground.insert(key.clone());
            self.collect_dependents(&uid, namespace, Propagation::Foreground);
            self.finish_foreground_deletions();
            return Ok(self.store.get(&key).cloned().unwrap_or(marked));
        }
        let removed = self.store.remove(&key).unwrap_or(obj);
        if resource == Resource::Namespaces {
            for r in Resource::ALL.into_iter().filter(|r| r.namespaced()) {
                let names: Vec<String> = self
                    .store
                    .list(r, Some(name))
                    .iter()
                    .map(|o| meta_str(o, "name").to_owned())
                    .collect();
                for n in names {
                    self.store.remove(&ObjKey::new(r, name, &n));
                }
            }
        } else {
            self.collect_dependents(&uid, namespace, propagation);
        }
        Ok(removed)
    }

    /// Removes the owners deleted in the foreground whose dependents are all gone; true when one
    /// was removed.
    pub(crate) fn finish_foreground_deletions(&mut self) -> bool {
        let mut removed = false;
        for key in self.ctrl.foreground.clone() {
            let Some(obj) = self.store.get(&key) else {
                self.ctrl.foreground.remove(&key);
                continue;
            };
            let uid = meta_str(obj, "uid").to_owned();
            let waiting = [Resource::ReplicaSets, Resource::Pods]
                .into_iter()
                .any(|r| {
                    self.store
                        .list(r, Some(&key.namespace))
                        .iter()
                        .any(|o| owner_uids(o).contains(&uid))
                });
            if !waiting {
                self.store.remove(&key);
                self.ctrl.foreground.remove(&key);
                removed = true;
            }
        }
        removed
    }

    /// Marks a bound Pod Terminating; `None` when it should simply be removed now.
    fn start_termination(
        &mut self,
        key: &ObjKey,
        obj: &Value,
        grace: Option<i64>,
    ) -> Option<Value> {
        let bound = obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let grace = grace
            .or_else(|| {
                obj.pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30)
            .max(0);
        if !bound || grace == 0 {
            return None;
        }
        if obj
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null())
        {
            return Some(obj.clone());
        }
        let grace_d = std::time::Duration::from_secs(u64::try_from(grace).unwrap_or(0));
        let mut pod = obj.clone();
        pod["metadata"]["deletionTimestamp"] = json!(format_time(self.clock.now() + grace_d));
        pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        let pod = Resource::Pods.normalize(pod).ok()?;
        let pod = self.store.replace(Resource::Pods, pod);
        let at = self.clock.elapsed() + self.pod_termination.min(grace_d);
        self.ctrl.terminations.insert(key.clone(), at);
        self.schedule_wakeup(key.clone(), at);
        Some(pod)
    }

    fn collect_dependents(&mut self, owner_uid: &str, namespace: &str, propagation: Propagation) {
        for r in [Resource::ReplicaSets, Resource::Pods] {
            let owned: Vec<Value> = self
                .store
                .list(r, Some(namespace))
                .into_iter()
                .filter(|o| owner_uids(o).iter().any(|u| u == owner_uid))
                .cloned()
                .collect();
            for mut o in owned {
                let name = meta_str(&o, "name").to_owned();
                if propagation == Propagation::Orphan {
                    if let Some(refs) = o["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != owner_uid);
                    }
                    self.store.replace(r, o);
                } else if let Err(e) =
                    self.delete_with_grace(r, namespace, &name, propagation, false, None)
                {
                    tracing::debug!(error = %e, "garbage collection of a dependent failed");
                }
            }
        }
    }

    /// Records an Event about `involved` (aggregating repeats into `count`, as the recorder does).
    #[expect(clippy::too_many_arguments, reason = "an Event has this many parts")]
    pub fn record_event(
        &mut self,
        resource: Resource,
        involved: &Value,
        warning: bool,
        reason: &str,
        message: &str,
        component: &str,
        field_path: Option<&str>,
    ) {
        let ns = meta_str(involved, "namespace").to_owned();
        let ns = if ns.is_empty() {
            "default".to_owned()
        } else {
            ns
        };
        let uid = meta_str(involved, "uid").to_owned();
        let now = self.now_str();
        let index_key = (uid.clone(), reason.to_owned(), message.to_owned());
        if let Some(key) = self.event_index.get(&index_key).cloned()
            && let Some(existing) = self.store.get(&key).cloned()
        {
            let mut ev = existing;
            ev["count"] = json!(ev["count"].as_i64().unwrap_or(1) + 1);
            ev["lastTimestamp"] = json!(now);
            self.store.replace(Resource::Events, ev);
            return;
        }
        if !self.namespace_exists(&ns) {
            return;
        }
        let nanos = self.clock.now().unix_timestamp_nanos();
        let name = format!(
            "{}.{:x}",
            meta_str(involved, "name"),
            u64::try_from(nanos.unsigned_abs() & u128::from(u64::MAX)).unwrap_or(0)
                ^ u64::from(self.random_u32())
        );
        let mut involved_ref = json!({
            "apiVersion": resource.api_version(),
            "kind": resource.kind(),
            "name": meta_str(involved, "name"),
            "namespace": ns,
            "uid": uid,
            "resourceVersion": meta_str(involved, "resourceVersion"),
        });
        if let Some(fp) = field_path {
            involved_ref["fieldPath"] = json!(fp);
        }
        let (source, instance) = match component {
            "kubelet" => (
                json!({"component": "kubelet", "host": "kube-sim-node"}),
                "kube-sim-node",
            ),
            c => (json!({"component": c}), ""),
        };
        let ev_uid = self.new_uid();
        let ev = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "uid": ev_uid, "creationTimestamp": now},
            "involvedObject": involved_ref,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": if warning { "Warning" } else { "Normal" },
            "eventTime": null,
            "reportingComponent": component,
            "reportingInstance": instance,
        });
        let Ok(ev) = Resource::Events.normalize(ev) else {
            return;
        };
        let key = ObjKey::new(Resource::Events, &ns, &name);
        self.store.insert(Resource::Events, ev);
        self.event_index.insert(index_key, key.clone());
        self.event_order.push_back(key);
        while self.event_order.len() > self.event_limit {
            let Some(old) = self.event_order.pop_front() else {
                break;
            };
            if let Some(ev) = self.store.remove(&old) {
                let field = |p: &str| {
                    ev.pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                self.event_index.remove(&(
                    field("/involvedObject/uid"),
                    field("/reason"),
                    field("/message"),
                ));
            }
        }
    }

    /// Finds the first fault matching a request and consumes one use of it.
    pub fn take_fault(
        &mut self,
        verb: Verb,
        resource: Option<Resource>,
        name: Option<&str>,
        pred: impl Fn(&crate::faults::FaultKind) -> bool,
    ) -> Option<crate::faults::FaultKind> {
        let f = self
            .faults
            .iter_mut()
            .find(|f| pred(&f.kind) && f.matches(verb, resource, name))?;
        if let Some(n) = f.remaining.as_mut() {
            *n -= 1;
        }
        Some(f.kind.clone())
    }
}

/// The finalizer that holds an owner deleted in the foreground until its dependents are gone.
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// `DeleteOptions.propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents lose their owner reference and stay.
    Orphan,
    /// The owner goes at once; the garbage collector deletes the dependents after it.
    Background,
    /// The owner stays (`deletionTimestamp`, `foregroundDeletion`) until its dependents are gone.
    Foreground,
}

impl Propagation {
    /// From the query string and the DeleteOptions body (`orphanDependents` is the old spelling).
    pub fn from_request(query: Option<&str>, options: &Value) -> Self {
        let policy = query.or_else(|| options.get("propagationPolicy").and_then(Value::as_str));
        match policy {
            Some("Orphan") => Self::Orphan,
            Some("Foreground") => Self::Foreground,
            _ if options.get("orphanDependents").and_then(Value::as_bool) == Some(true) => {
                Self::Orphan
            }
            _ => Self::Background,
        }
    }
}

/// UIDs in an object's ownerReferences.
pub fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The controller owner's UID. Called for every pod in several passes per reconcile round, so it
/// walks with `get` (no JSON-pointer parsing) and borrows.
pub fn controller_uid(obj: &Value) -> Option<&str> {
    obj.get("metadata")?
        .get("ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| r.get("uid").and_then(Value::as_str))
}

/// The pod's QoS class: Guaranteed when every container's requests equal its CPU and memory
/// limits, BestEffort when nothing is requested or limited, Burstable otherwise.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let any = containers.iter().any(|c| {
        ["requests", "limits"].iter().any(|k| {
            c.pointer(&format!("/resources/{k}"))
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        })
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            let limit = c.pointer(&format!("/resources/limits/{r}"));
            let request = c.pointer(&format!("/resources/requests/{r}"));
            limit.is_some() && (request.is_none() || request == limit)
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

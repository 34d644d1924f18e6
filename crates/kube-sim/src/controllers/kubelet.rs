//! The kubelet (and the scheduler's binding): drives each Pod's containers through the image
//! catalogue — pull, ErrImagePull/ImagePullBackOff, start, ready after a delay, or
//! CrashLoopBackOff with a growing `restartCount` — and records the Events a node would.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::images::{ImageSpec, image_id, normalize_reference};
use crate::resources::Resource;
use crate::store::{ObjKey, meta_str};
use crate::world::World;

pub const NODE_NAME: &str = "kube-sim-node";
const MAX_BACKOFF: u64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Creating,
    Pulling,
    ErrImagePull,
    ImagePullBackOff,
    Running,
    Ready,
    CrashLoopBackOff,
    ConfigError,
    /// The reference does not parse (upper-case repository): nothing is ever pulled.
    InvalidImageName,
}

#[derive(Debug, Clone)]
struct ContainerSim {
    name: String,
    image: String,
    /// The container's `args` (an image may crash in one mode only: `crash_args`).
    args: Vec<String>,
    stage: Stage,
    next_at: Option<Duration>,
    restarts: i64,
    pull_failures: u32,
    started_at: String,
    container_id: String,
    /// The `imageID` the pull resolved (`repo@sha256:…`): fixed once pulled, as on a node, even
    /// if the tag moves in the registry later.
    image_id: String,
    last_terminated: Option<Value>,
    ever_started: bool,
    /// Why the container cannot be created (a missing ConfigMap or Secret), if it cannot.
    config_error: Option<String>,
}

/// The kubelet's memory of one pod.
#[derive(Debug, Clone)]
pub struct PodSim {
    containers: Vec<ContainerSim>,
    pod_ip: String,
    start_time: String,
}

fn backoff(n: u32) -> u64 {
    (10u64 << n.saturating_sub(1).min(5)).min(MAX_BACKOFF)
}

fn pull_error(image: &str) -> String {
    let full = normalize_reference(image);
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
    )
}

/// Why the runtime cannot parse an image reference, if it cannot: repository paths must be
/// lower case (`reference.ParseNormalizedNamed`).
fn invalid_reference(image: &str) -> Option<String> {
    let full = normalize_reference(image);
    let name = full.split('@').next().unwrap_or(&full);
    let name = match name.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => name,
    };
    let path = name.split_once('/').map_or(name, |(_, p)| p);
    (path.to_lowercase() != path)
        .then(|| format!("invalid reference format: repository name ({path}) must be lowercase"))
}

fn container_id(world: &mut World) -> String {
    let hex = (0..8).fold(String::new(), |mut s, _| {
        let _ = write!(s, "{:08x}", world.random_u32());
        s
    });
    format!("containerd://{hex}")
}

/// One step of a container's state machine, at its due time.
#[expect(
    clippy::too_many_lines,
    reason = "one match over the whole container lifecycle reads best in one place"
)]
fn step(
    world: &mut World,
    pod: &Value,
    c: &mut ContainerSim,
    spec: Option<&ImageSpec>,
    pull_policy: &str,
) {
    // Transitions are timed from when they fell due, so a jump in simulated time catches up.
    let now = c.next_at.unwrap_or_else(|| world.clock.elapsed());
    let field_path = format!("spec.containers{{{}}}", c.name);
    let fp = Some(field_path.as_str());
    let event = |world: &mut World, warning: bool, reason: &str, message: &str| {
        world.record_event(Resource::Pods, pod, warning, reason, message, "kubelet", fp);
    };
    let pod_desc = format!(
        "{}_{}({})",
        meta_str(pod, "name"),
        meta_str(pod, "namespace"),
        meta_str(pod, "uid")
    );
    let start = |world: &mut World, c: &mut ContainerSim| {
        if let Some(err) = c.config_error.clone() {
            let msg = format!("Error: {err}");
            event(world, true, "Failed", &msg);
            c.stage = Stage::ConfigError;
            c.next_at = Some(now + Duration::from_secs(10));
            return;
        }
        event(
            world,
            false,
            "Created",
            &format!("Created container: {}", c.name),
        );
        event(
            world,
            false,
            "Started",
            &format!("Started container {}", c.name),
        );
        c.stage = Stage::Running;
        c.ever_started = true;
        c.started_at = world.now_str();
        c.container_id = container_id(world);
        let spec = spec.cloned().unwrap_or_else(|| ImageSpec::ok(&c.image));
        if c.image_id.is_empty() {
            c.image_id = image_id(&c.image, &spec);
        }
        c.next_at = Some(
            now + if spec.crash {
                spec.crash_after
            } else {
                spec.ready_after
            },
        );
    };
    match c.stage {
        Stage::Creating if invalid_reference(&c.image).is_some() => {
            let why = invalid_reference(&c.image).unwrap_or_default();
            let msg = format!(
                "Failed to apply default image tag \"{0}\": couldn't parse image name \"{0}\": {why}",
                c.image
            );
            event(world, true, "InspectFailed", &msg);
            event(world, true, "Failed", "Error: InvalidImageName");
            c.stage = Stage::InvalidImageName;
            c.next_at = None;
        }
        Stage::Creating
        | Stage::ImagePullBackOff
        | Stage::CrashLoopBackOff
        | Stage::ConfigError => {
            let present = world
                .ctrl
                .pulled_images
                .contains(&normalize_reference(&c.image));
            if present && pull_policy != "Always" {
                let msg = format!("Container image \"{}\" already present on machine", c.image);
                event(world, false, "Pulled", &msg);
                start(world, c);
            } else {
                event(
                    world,
                    false,
                    "Pulling",
                    &format!("Pulling image \"{}\"", c.image),
                );
                c.stage = Stage::Pulling;
                c.next_at = Some(now + spec.map_or(Duration::from_secs(1), |s| s.pull_time));
            }
        }
        Stage::Pulling => match spec {
            Some(s) if s.pull => {
                world
                    .ctrl
                    .pulled_images
                    .insert(normalize_reference(&c.image));
                let secs = s.pull_time.as_secs_f64();
                let msg = format!(
                    "Successfully pulled image \"{}\" in {secs:.3}s ({secs:.3}s including waiting). Image size: 10485760 bytes.",
                    c.image
                );
                event(world, false, "Pulled", &msg);
                start(world, c);
            }
            _ => {
                c.pull_failures += 1;
                let msg = format!(
                    "Failed to pull image \"{}\": {}",
                    c.image,
                    pull_error(&c.image)
                );
                event(world, true, "Failed", &msg);
                event(world, true, "Failed", "Error: ErrImagePull");
                c.stage = Stage::ErrImagePull;
                c.next_at = Some(now + Duration::from_secs(1));
            }
        },
        Stage::ErrImagePull => {
            event(
                world,
                false,
                "BackOff",
                &format!("Back-off pulling image \"{}\"", c.image),
            );
            event(world, true, "Failed", "Error: ImagePullBackOff");
            c.stage = Stage::ImagePullBackOff;
            c.next_at = Some(now + Duration::from_secs(backoff(c.pull_failures)));
        }
        Stage::Running => {
            if spec.is_some_and(|s| s.crash) {
                c.restarts += 1;
                c.last_terminated = Some(json!({"terminated": {
                    "exitCode": 1, "reason": "Error", "startedAt": c.started_at, "finishedAt": world.now_str(), "containerID": c.container_id,
                }}));
                let delay = backoff(u32::try_from(c.restarts).unwrap_or(u32::MAX));
                let msg = format!(
                    "Back-off restarting failed container {} in pod {pod_desc}",
                    c.name
                );
                event(world, true, "BackOff", &msg);
                c.stage = Stage::CrashLoopBackOff;
                c.next_at = Some(now + Duration::from_secs(delay));
            } else {
                c.stage = Stage::Ready;
                c.next_at = None;
            }
        }
        Stage::Ready | Stage::InvalidImageName => c.next_at = None,
    }
}

fn container_status(c: &ContainerSim, spec: Option<&ImageSpec>, pod_desc: &str) -> Value {
    let state = match c.stage {
        Stage::Creating => json!({"waiting": {"reason": "ContainerCreating"}}),
        Stage::Pulling if c.pull_failures == 0 => {
            json!({"waiting": {"reason": "ContainerCreating"}})
        }
        Stage::InvalidImageName => json!({"waiting": {
            "reason": "InvalidImageName",
            "message": format!("Failed to apply default image tag \"{0}\": couldn't parse image name \"{0}\": {1}", c.image, invalid_reference(&c.image).unwrap_or_default()),
        }}),
        Stage::ErrImagePull => {
            json!({"waiting": {"reason": "ErrImagePull", "message": pull_error(&c.image)}})
        }
        // A retry after a failed pull keeps reporting the back-off until it succeeds or fails.
        Stage::Pulling | Stage::ImagePullBackOff => {
            json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{}\": ErrImagePull: {}", c.image, pull_error(&c.image))}})
        }
        Stage::Running | Stage::Ready => json!({"running": {"startedAt": c.started_at}}),
        Stage::ConfigError => json!({"waiting": {
            "reason": "CreateContainerConfigError",
            "message": c.config_error.clone().unwrap_or_default(),
        }}),
        Stage::CrashLoopBackOff => {
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!(
                "back-off {}s restarting failed container={} pod={pod_desc}", backoff(u32::try_from(c.restarts).unwrap_or(u32::MAX)), c.name
            )}})
        }
    };
    let pulled = c.ever_started;
    let mut s = json!({
        "name": c.name,
        "image": if pulled { normalize_reference(&c.image) } else { c.image.clone() },
        "imageID": if pulled && spec.is_some() { c.image_id.clone() } else { String::new() },
        "ready": c.stage == Stage::Ready,
        "restartCount": c.restarts,
        "started": matches!(c.stage, Stage::Running | Stage::Ready),
        "state": state,
        "lastState": c.last_terminated.clone().unwrap_or_else(|| json!({})),
    });
    if !c.container_id.is_empty() {
        s["containerID"] = json!(c.container_id);
    }
    s
}

fn condition(
    kind: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    old: &Value,
    now: &str,
) -> Value {
    let status = if ok { "True" } else { "False" };
    let prev = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["type"] == kind && c["status"] == status)
        });
    let ltt = prev
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now));
    let mut c =
        json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": ltt});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// Reconciles one Pod: schedules it, advances due container transitions, writes its status.
#[expect(
    clippy::too_many_lines,
    reason = "binding, transitions and the status document of one pod"
)]
pub fn sync(world: &mut World, key: &ObjKey) {
    let Some(mut pod) = world.store.get(key).cloned() else {
        world.ctrl.pods.remove(key);
        world.ctrl.terminations.remove(key);
        return;
    };
    if let Some(done_at) = world.ctrl.terminations.get(key).copied() {
        terminate(world, key, pod, done_at);
        return;
    }
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && let Some(why) = unschedulable(world, &pod)
    {
        mark_unschedulable(world, key, pod, &why);
        return;
    }
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        pod["spec"]["nodeName"] = json!(NODE_NAME);
        match world.update(
            Resource::Pods,
            &key.namespace,
            &key.name,
            pod.clone(),
            false,
            false,
        ) {
            Ok(p) => pod = p,
            Err(_) => return,
        }
        let msg = format!(
            "Successfully assigned {}/{} to {NODE_NAME}",
            key.namespace, key.name
        );
        world.record_event(
            Resource::Pods,
            &pod,
            false,
            "Scheduled",
            &msg,
            "default-scheduler",
            None,
        );
    }
    let config_errors: Vec<Option<String>> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(missing_config).collect())
        .unwrap_or_default();
    let containers: Vec<(String, String, String, Vec<String>)> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let s = |f: &str| {
                        c.get(f)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let args = c
                        .get("args")
                        .and_then(Value::as_array)
                        .map(|args| {
                            args.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    (s("name"), s("image"), s("imagePullPolicy"), args)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut sim = match world.ctrl.pods.remove(key) {
        Some(s) => s,
        None => {
            world.ctrl.next_pod_ip += 1;
            let n = world.ctrl.next_pod_ip;
            let now = world.clock.elapsed();
            PodSim {
                pod_ip: format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 2),
                start_time: world.now_str(),
                containers: containers
                    .iter()
                    .zip(config_errors.iter().chain(std::iter::repeat(&None)))
                    .map(|((name, image, _, args), config_error)| ContainerSim {
                        config_error: config_error.clone(),
                        name: name.clone(),
                        image: image.clone(),
                        args: args.clone(),
                        stage: Stage::Creating,
                        next_at: Some(now),
                        restarts: 0,
                        pull_failures: 0,
                        started_at: String::new(),
                        container_id: String::new(),
                        image_id: String::new(),
                        last_terminated: None,
                        ever_started: false,
                    })
                    .collect(),
            }
        }
    };
    let now = world.clock.elapsed();
    for (c, (_, _, policy, _)) in sim.containers.iter_mut().zip(&containers) {
        let spec = world.images.behaviour(&c.image, &c.args);
        for _ in 0..16 {
            match c.next_at {
                Some(t) if t <= now => step(world, &pod, c, spec.as_ref(), policy),
                _ => break,
            }
        }
    }
    if let Some(next) = sim.containers.iter().filter_map(|c| c.next_at).min() {
        world.schedule_wakeup(key.clone(), next);
    }
    let now_str = world.now_str();
    let pod_desc = format!("{}_{}({})", key.name, key.namespace, meta_str(&pod, "uid"));
    let statuses: Vec<Value> = sim
        .containers
        .iter()
        .map(|c| container_status(c, world.images.lookup(&c.image), &pod_desc))
        .collect();
    let all_ready = sim.containers.iter().all(|c| c.stage == Stage::Ready);
    let unready: Vec<&str> = sim
        .containers
        .iter()
        .filter(|c| c.stage != Stage::Ready)
        .map(|c| c.name.as_str())
        .collect();
    let not_ready_msg = format!("containers with unready status: [{}]", unready.join(" "));
    let (reason, msg) = if all_ready {
        (None, None)
    } else {
        (Some("ContainersNotReady"), Some(not_ready_msg))
    };
    let running = sim.containers.iter().any(|c| c.ever_started);
    let mut status = json!({
        "phase": if running { "Running" } else { "Pending" },
        "conditions": [
            condition("PodReadyToStartContainers", true, None, None, &pod, &now_str),
            condition("Initialized", true, None, None, &pod, &now_str),
            condition("Ready", all_ready, reason, msg.clone(), &pod, &now_str),
            condition("ContainersReady", all_ready, reason, msg, &pod, &now_str),
            condition("PodScheduled", true, None, None, &pod, &now_str),
        ],
        "hostIP": "10.0.0.2",
        "hostIPs": [{"ip": "10.0.0.2"}],
        "podIP": sim.pod_ip,
        "podIPs": [{"ip": sim.pod_ip}],
        "startTime": sim.start_time,
        "containerStatuses": statuses,
        "qosClass": pod.pointer("/status/qosClass").cloned().unwrap_or_else(|| json!("BestEffort")),
    });
    if status == pod["status"] {
        world.ctrl.pods.insert(key.clone(), sim);
        return;
    }
    std::mem::swap(&mut pod["status"], &mut status);
    if let Err(e) = world.update(Resource::Pods, &key.namespace, &key.name, pod, true, false) {
        tracing::debug!(error = %e, "pod status update failed");
    }
    world.ctrl.pods.insert(key.clone(), sim);
}

/// The first ConfigMap or Secret a container needs; the simulator serves neither, so any
/// non-optional reference is missing, as in a namespace where nobody created it.
fn missing_config(c: &Value) -> Option<String> {
    let optional = |r: &Value| r.get("optional").and_then(Value::as_bool) == Some(true);
    let name = |r: &Value| {
        r.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        if let Some(r) = e
            .pointer("/valueFrom/configMapKeyRef")
            .filter(|r| !optional(r))
        {
            return Some(format!("configmap \"{}\" not found", name(r)));
        }
        if let Some(r) = e
            .pointer("/valueFrom/secretKeyRef")
            .filter(|r| !optional(r))
        {
            return Some(format!("secret \"{}\" not found", name(r)));
        }
    }
    for e in c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = e.get("configMapRef").filter(|r| !optional(r)) {
            return Some(format!("configmap \"{}\" not found", name(r)));
        }
        if let Some(r) = e.get("secretRef").filter(|r| !optional(r)) {
            return Some(format!("secret \"{}\" not found", name(r)));
        }
    }
    None
}

/// CPU quantity in millicores (`500m`, `2`, `0.5`).
fn cpu_millis(q: &str) -> u64 {
    let parsed = match q.strip_suffix('m') {
        Some(m) => m.parse::<f64>().ok(),
        None => q.parse::<f64>().ok().map(|c| c * 1000.0),
    };
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "quantities are small and positive"
    )]
    parsed.map_or(0, |v| v.max(0.0).ceil() as u64)
}

/// Memory quantity in bytes (`128Mi`, `1Gi`, `500M`, `1000`).
fn memory_bytes(q: &str) -> u64 {
    const UNITS: [(&str, f64); 10] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("", 1.0),
    ];
    for (suffix, mult) in UNITS {
        if let Some(n) = q.strip_suffix(suffix)
            && let Ok(v) = n.parse::<f64>()
        {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "quantities are positive"
            )]
            return (v.max(0.0) * mult).ceil() as u64;
        }
    }
    0
}

/// Summed container requests (limits stand in for missing requests, as defaulting does).
fn pod_requests(pod: &Value) -> (u64, u64) {
    let mut total = (0, 0);
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let get = |res: &str| {
            c.pointer(&format!("/resources/requests/{res}"))
                .or_else(|| c.pointer(&format!("/resources/limits/{res}")))
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_f64().map(|f| f.to_string()))
                })
        };
        total.0 += get("cpu").map_or(0, |q| cpu_millis(&q));
        total.1 += get("memory").map_or(0, |q| memory_bytes(&q));
    }
    total
}

/// Why the scheduler cannot place `pod` on the node, if it cannot.
fn unschedulable(world: &World, pod: &Value) -> Option<String> {
    let (cpu, mem) = pod_requests(pod);
    if cpu == 0 && mem == 0 {
        return None;
    }
    let (used_cpu, used_mem) = world
        .store
        .list(Resource::Pods, None)
        .into_iter()
        .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(NODE_NAME))
        .map(pod_requests)
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let (alloc_cpu, alloc_mem) = world.node_allocatable;
    let mut lacks = Vec::new();
    if used_cpu + cpu > alloc_cpu {
        lacks.push("1 Insufficient cpu");
    }
    if used_mem + mem > alloc_mem {
        lacks.push("1 Insufficient memory");
    }
    if lacks.is_empty() {
        return None;
    }
    Some(format!(
        "0/1 nodes are available: {}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
        lacks.join(", ")
    ))
}

fn mark_unschedulable(world: &mut World, key: &ObjKey, mut pod: Value, why: &str) {
    let now = world.now_str();
    let cond = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["type"] == "PodScheduled" && c["status"] == "False")
                .cloned()
        });
    let ltt = cond
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now));
    let status = json!({
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": why, "lastProbeTime": null, "lastTransitionTime": ltt}],
        "qosClass": pod.pointer("/status/qosClass").cloned().unwrap_or_else(|| json!("Burstable")),
    });
    let at = world.clock.elapsed() + Duration::from_secs(10);
    world.schedule_wakeup(key.clone(), at);
    world.record_event(
        Resource::Pods,
        &pod,
        true,
        "FailedScheduling",
        why,
        "default-scheduler",
        None,
    );
    if pod["status"] != status {
        pod["status"] = status;
        let _ = world.update(Resource::Pods, &key.namespace, &key.name, pod, true, false);
    }
}

/// A Terminating pod: containers are told to stop (Killing), the pod turns unready, and once they
/// have stopped the pod object is removed.
fn terminate(world: &mut World, key: &ObjKey, mut pod: Value, done_at: Duration) {
    if world.clock.elapsed() >= done_at {
        world.store.remove(key);
        world.ctrl.pods.remove(key);
        world.ctrl.terminations.remove(key);
        return;
    }
    let ready = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
    let running = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["ready"] == true || c.pointer("/state/running").is_some())
        });
    if !ready && !running {
        return;
    }
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for n in &names {
        let fp = format!("spec.containers{{{n}}}");
        let msg = format!("Stopping container {n}");
        world.record_event(
            Resource::Pods,
            &pod,
            false,
            "Killing",
            &msg,
            "kubelet",
            Some(&fp),
        );
    }
    let now = world.now_str();
    if let Some(cs) = pod
        .pointer_mut("/status/containerStatuses")
        .and_then(Value::as_array_mut)
    {
        for c in cs {
            c["ready"] = json!(false);
        }
    }
    if let Some(conds) = pod
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        for c in conds
            .iter_mut()
            .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
        {
            if c["status"] != "False" {
                c["status"] = json!("False");
                c["lastTransitionTime"] = json!(now);
            }
        }
    }
    if let Some(sim) = world.ctrl.pods.get_mut(key) {
        for c in &mut sim.containers {
            c.next_at = None;
        }
    }
    let _ = world.update(Resource::Pods, &key.namespace, &key.name, pod, true, false);
}

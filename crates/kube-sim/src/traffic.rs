//! Simulated traffic: what each ready pod has served so far, by its image's declared behaviour
//! (`traffic` in the catalogue), counted on the simulated clock, so that pods of a bad image are
//! measurably bad to a metrics query (`metrics` serves the counters in Prometheus's format).
//!
//! Traffic goes to ready pods only. Every pod that has been ready is tracked with the time it
//! has spent ready; the counters are a pure, non-decreasing function of that time, so they are
//! monotonic whatever the scrape times, and a pod's series vanish when the pod is gone.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::controllers::controller_owner_name;
use crate::images::TrafficSpec;
use crate::resources::Resource;
use crate::store::{ObjKey, meta_str};
use crate::world::World;

/// The label set of one pod's series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentity {
    pub namespace: String,
    pub pod: String,
    /// The Deployment owning the pod's ReplicaSet; empty for a pod without one.
    pub deployment: String,
    pub replicaset: String,
    /// The first container's image, as the pod spec names it.
    pub image: String,
    /// The pod's own labels.
    pub labels: BTreeMap<String, String>,
}

/// One tracked pod.
#[derive(Debug, Clone)]
struct Served {
    uid: String,
    identity: PodIdentity,
    /// Fixed when the pod first turned ready (a later catalogue change does not rewrite history).
    behaviour: TrafficSpec,
    /// Ready time accumulated before the current ready spell.
    before: Duration,
    /// Start of the current ready spell, if ready.
    ready_since: Option<Duration>,
}

/// Every pod that has been ready, and for how long.
#[derive(Debug, Default)]
pub struct TrafficState {
    pods: BTreeMap<ObjKey, Served>,
}

/// What one pod has served up to a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct PodTraffic {
    pub identity: PodIdentity,
    /// Requests answered 200.
    pub ok: u64,
    /// Requests answered 500.
    pub errors: u64,
    /// Cumulative counts at each bucket bound (seconds), ascending; the `+Inf` bucket is
    /// `ok + errors`.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of all request latencies, seconds.
    pub latency_sum: f64,
}

/// Prometheus client libraries' default histogram bounds (seconds).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// z of the 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874;

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn identity(world: &World, pod: &Value) -> PodIdentity {
    let namespace = meta_str(pod, "namespace").to_owned();
    let replicaset = controller_owner_name(pod, "ReplicaSet").unwrap_or_default();
    let deployment = world
        .store
        .get(&ObjKey::new(Resource::ReplicaSets, &namespace, &replicaset))
        .and_then(|rs| controller_owner_name(rs, "Deployment"))
        .unwrap_or_default();
    let labels = pod
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    PodIdentity {
        pod: meta_str(pod, "name").to_owned(),
        image: pod
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        namespace,
        deployment,
        replicaset,
        labels,
    }
}

impl World {
    /// Records readiness changes since the last look: a pod that turned ready starts serving
    /// now, one that turned unready (or is gone) stops. Run after every controller round and
    /// before every scrape.
    pub fn observe_traffic(&mut self) {
        let now = self.clock.elapsed();
        let mut seen = BTreeMap::new();
        for pod in self.store.list(Resource::Pods, None) {
            let key = ObjKey::of(Resource::Pods, pod);
            seen.insert(key, (meta_str(pod, "uid").to_owned(), is_ready(pod)));
        }
        let mut state = std::mem::take(&mut self.traffic);
        state.pods.retain(|key, served| {
            let current = seen.get(key);
            let alive = current.is_some_and(|(uid, _)| *uid == served.uid);
            let ready = alive && current.is_some_and(|(_, ready)| *ready);
            if !ready && let Some(since) = served.ready_since.take() {
                served.before += now.saturating_sub(since);
            }
            alive
        });
        for (key, (uid, ready)) in seen {
            if !ready {
                continue;
            }
            if let Some(served) = state.pods.get_mut(&key) {
                served.ready_since.get_or_insert(now);
                continue;
            }
            let Some(pod) = self.store.get(&key) else {
                continue;
            };
            let identity = identity(self, pod);
            let behaviour = self
                .images
                .lookup(&identity.image)
                .map(|s| s.traffic)
                .unwrap_or_default();
            state.pods.insert(
                key,
                Served {
                    uid,
                    identity,
                    behaviour,
                    before: Duration::ZERO,
                    ready_since: Some(now),
                },
            );
        }
        self.traffic = state;
    }

    /// What every tracked pod has served up to now, ordered by namespace and name.
    pub fn traffic(&mut self) -> Vec<PodTraffic> {
        self.observe_traffic();
        let now = self.clock.elapsed();
        self.traffic
            .pods
            .values()
            .map(|s| {
                let ready = s.before
                    + s.ready_since
                        .map_or(Duration::ZERO, |t| now.saturating_sub(t));
                served(&s.identity, s.behaviour, ready)
            })
            .collect()
    }
}

/// The counters of a pod that has been ready for `ready`. Each count is a floor (buckets: a
/// rounding, capped by the count) of a non-decreasing function of `ready`, hence monotonic.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "request counts are non-negative and far below 2^52"
)]
pub fn served(identity: &PodIdentity, spec: TrafficSpec, ready: Duration) -> PodTraffic {
    let requests = spec.rps * ready.as_secs_f64();
    let errors = (requests * spec.error_ratio).floor() as u64;
    let ok = (requests * (1.0 - spec.error_ratio)).floor() as u64;
    let count = ok + errors;
    let buckets = BUCKETS
        .iter()
        .map(|&le| {
            (
                le,
                ((requests * latency_cdf(spec, le)).round() as u64).min(count),
            )
        })
        .collect();
    PodTraffic {
        identity: identity.clone(),
        ok,
        errors,
        buckets,
        latency_sum: count as f64 * latency_mean(spec),
    }
}

/// Log-normal parameters (μ, σ) of the latency in seconds.
fn log_normal(spec: TrafficSpec) -> (f64, f64) {
    let mu = spec.latency_p50.as_secs_f64().ln();
    let sigma = (spec.latency_p99.as_secs_f64().ln() - mu) / Z99;
    (mu, sigma)
}

/// Share of requests answered within `seconds`.
fn latency_cdf(spec: TrafficSpec, seconds: f64) -> f64 {
    let (mu, sigma) = log_normal(spec);
    if sigma <= 0.0 {
        return if seconds.ln() >= mu { 1.0 } else { 0.0 };
    }
    0.5 * erfc(-(seconds.ln() - mu) / (sigma * std::f64::consts::SQRT_2))
}

fn latency_mean(spec: TrafficSpec) -> f64 {
    let (mu, sigma) = log_normal(spec);
    (mu + sigma * sigma / 2.0).exp()
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> PodIdentity {
        PodIdentity {
            namespace: "prod".into(),
            pod: "web-1".into(),
            deployment: "web".into(),
            replicaset: "web-abc".into(),
            image: "app:1".into(),
            labels: BTreeMap::new(),
        }
    }

    #[test]
    fn counts_follow_the_declared_behaviour() {
        let spec = TrafficSpec {
            rps: 10.0,
            error_ratio: 0.2,
            latency_p50: Duration::from_millis(50),
            latency_p99: Duration::from_millis(250),
        };
        let t = served(&id(), spec, Duration::from_secs(100));
        assert_eq!((t.ok, t.errors), (800, 200));
        let at = |le: f64| {
            t.buckets
                .iter()
                .find(|(b, _)| (*b - le).abs() < 1e-9)
                .unwrap()
                .1
        };
        // The median is the 0.05 bound, the 99th percentile 0.25, the 1st 0.01.
        assert_eq!(at(0.05), 500);
        assert_eq!(at(0.25), 990);
        assert_eq!(at(0.01), 10);
        assert_eq!(at(0.005), 0);
        assert_eq!(at(10.0), 1000);
        assert!(
            t.latency_sum > 50.0 && t.latency_sum < 100.0,
            "{}",
            t.latency_sum
        );
    }

    #[test]
    fn counters_never_go_down() {
        let spec = TrafficSpec {
            rps: 7.3,
            error_ratio: 0.37,
            ..TrafficSpec::default()
        };
        let mut last = served(&id(), spec, Duration::ZERO);
        for ms in (0..60_000).step_by(37) {
            let t = served(&id(), spec, Duration::from_millis(ms));
            assert!(t.ok >= last.ok && t.errors >= last.errors);
            for ((_, now), (_, before)) in t.buckets.iter().zip(&last.buckets) {
                assert!(now >= before);
            }
            assert!(t.buckets.windows(2).all(|w| w[0].1 <= w[1].1));
            assert!(t.buckets.last().unwrap().1 <= t.ok + t.errors);
            last = t;
        }
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }
}

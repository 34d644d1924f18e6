//! The resource kinds the simulator serves, with their API coordinates and typed validation
//! through k8s-openapi (so stored objects are always the real Kubernetes types).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Endpoints, Event, Namespace, Pod, Service};
use serde_json::Value;

use crate::error::ApiError;

/// A served resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Namespaces,
    Pods,
    Events,
    Deployments,
    ReplicaSets,
    Services,
    Endpoints,
}

impl Resource {
    pub const ALL: [Resource; 7] = [
        Resource::Namespaces,
        Resource::Pods,
        Resource::Events,
        Resource::Deployments,
        Resource::ReplicaSets,
        Resource::Services,
        Resource::Endpoints,
    ];

    pub fn group(self) -> &'static str {
        match self {
            Resource::Deployments | Resource::ReplicaSets => "apps",
            _ => "",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Resource::Deployments | Resource::ReplicaSets => "apps/v1",
            _ => "v1",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Resource::Namespaces => "Namespace",
            Resource::Pods => "Pod",
            Resource::Events => "Event",
            Resource::Deployments => "Deployment",
            Resource::ReplicaSets => "ReplicaSet",
            Resource::Services => "Service",
            Resource::Endpoints => "Endpoints",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Resource::Namespaces => "namespaces",
            Resource::Pods => "pods",
            Resource::Events => "events",
            Resource::Deployments => "deployments",
            Resource::ReplicaSets => "replicasets",
            Resource::Services => "services",
            Resource::Endpoints => "endpoints",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Resource::Namespaces => "namespace",
            Resource::Pods => "pod",
            Resource::Events => "event",
            Resource::Deployments => "deployment",
            Resource::ReplicaSets => "replicaset",
            Resource::Services => "service",
            Resource::Endpoints => "endpoints",
        }
    }

    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Resource::Namespaces => &["ns"],
            Resource::Pods => &["po"],
            Resource::Events => &["ev"],
            Resource::Deployments => &["deploy"],
            Resource::ReplicaSets => &["rs"],
            Resource::Services => &["svc"],
            Resource::Endpoints => &["ep"],
        }
    }

    pub fn namespaced(self) -> bool {
        !matches!(self, Resource::Namespaces)
    }

    /// Whether `metadata.generation` is tracked (bumped on spec changes).
    pub fn has_generation(self) -> bool {
        matches!(self, Resource::Deployments | Resource::ReplicaSets)
    }

    pub fn from_plural(group: &str, plural: &str) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|r| r.group() == group && r.plural() == plural)
    }

    pub fn from_kind(api_version: &str, kind: &str) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|r| r.api_version() == api_version && r.kind() == kind)
    }

    /// Round-trips `value` through the k8s-openapi type: rejects what the real type cannot hold
    /// and drops unknown fields, as the API server's decoder does.
    pub fn normalize(self, value: Value) -> Result<Value, ApiError> {
        fn rt<T: serde::de::DeserializeOwned + serde::Serialize>(
            v: Value,
        ) -> Result<Value, serde_json::Error> {
            let typed: T = serde_json::from_value(v)?;
            serde_json::to_value(typed)
        }
        let out = match self {
            Resource::Namespaces => rt::<Namespace>(value),
            Resource::Pods => rt::<Pod>(value),
            Resource::Events => rt::<Event>(value),
            Resource::Deployments => rt::<Deployment>(value),
            Resource::ReplicaSets => rt::<ReplicaSet>(value),
            Resource::Services => rt::<Service>(value),
            Resource::Endpoints => rt::<Endpoints>(value),
        };
        let mut out = out.map_err(|e| {
            ApiError::bad_request(format!(
                "the body of the request was in an unknown format: {e}"
            ))
        })?;
        if self == Resource::Pods {
            // Go serialises a nil `lastProbeTime` as null (no omitempty); k8s-openapi drops it.
            if let Some(conds) = out
                .pointer_mut("/status/conditions")
                .and_then(Value::as_array_mut)
            {
                for c in conds {
                    if let Value::Object(m) = c {
                        m.entry("lastProbeTime").or_insert(Value::Null);
                    }
                }
            }
        }
        Ok(out)
    }
}

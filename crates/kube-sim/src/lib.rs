//! Kubernetes API simulator: apps/v1 Deployments and ReplicaSets, Pods, Services and Endpoints,
//! Events and Namespaces served over HTTP to real clients (kubectl, kube-rs), with a simulated
//! deployment controller, ReplicaSet controller, endpoints controller and kubelet driven by an
//! image catalogue and a scalable clock.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_sim::SimError> {
//! let sim = kube_sim::KubeSim::start(kube_sim::Config::default()).await?;
//! let _kubeconfig = sim.kubeconfig_yaml();
//! # Ok(()) }
//! ```

#![expect(
    clippy::doc_markdown,
    reason = "Kubernetes kind names (ReplicaSet, CrashLoopBackOff) are prose in these docs, not code"
)]

pub mod admission;
pub mod api;
pub mod auth;
pub mod clock;
pub mod controllers;
pub mod discovery;
pub mod error;
pub mod faults;
pub mod images;
pub mod kubeconfig;
pub mod logs;
pub mod manifests;
pub mod metrics;
pub mod names;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod selectors;
pub mod services;
pub mod sim;
pub mod store;
pub mod table;
pub mod traffic;
pub mod watch;
pub mod world;

pub use auth::{Access, TokenGrant};
pub use error::ApiError;
pub use faults::{Action, Fault, FaultKind, Trigger, Verb};
pub use images::{ImageCatalogue, ImageSpec};
pub use resources::Resource;
pub use sim::{Config, KubeSim, SimError, SimHandle};
pub use world::{RequestRecord, World};

//! A stateful, fault-injecting stand-in for the GitHub REST API.
//!
//! Start it in-process with [`GithubSim::start`] (async tests) or [`SimHandle::spawn`] (blocking
//! tests that run action binaries), or run the `github-sim` binary. Both serve one [`World`] and
//! expose the same controls ([`Control`]) as the `/_sim/` admin API.

#![recursion_limit = "512"]

mod admin;
pub mod apps;
pub mod clock;
pub mod deployments;
mod error;
pub mod faults;
pub mod git;
mod http;
mod json;
pub mod jwt;
pub mod limits;
pub mod log;
pub mod merge_queue;
mod paginate;
mod ratelimit;
mod raw;
mod routes;
pub mod spec;
mod webhook;
pub mod world;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use crate::faults::{Fault, FaultAction};
pub use crate::log::LoggedRequest;
pub use crate::spec::{Access, IdentityKind, RepoPermissions, WorldSpec};
pub use crate::world::{Event, World, WorldError};

use crate::http::{Shared, lock};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("failed to bind {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to start the simulator's runtime thread")]
    Runtime(#[source] std::io::Error),
    #[error("the simulator thread stopped before it was ready")]
    ThreadDied,
    #[error("failed to serve HTTPS")]
    Tls(#[from] sim_tls::TlsError),
}

/// Control of a running simulator: the Rust twin of the `/_sim/` admin API. Cheap to clone.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Control {
        Control { shared }
    }

    /// The base URL, e.g. `http://127.0.0.1:43127` (`https://…` over TLS; no trailing slash).
    pub fn url(&self) -> &str {
        &self.shared.base
    }

    /// Runs `f` with the world locked (read or change anything).
    pub fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut w = lock(&self.shared.world);
        w.tick();
        let out = f(&mut w);
        w.touch();
        out
    }

    /// Replaces the world; the request log is kept, rate-limit windows and faults are reset.
    pub fn load(&self, world: World) {
        let seed = world.seed;
        *lock(&self.shared.world) = world;
        lock(&self.shared.limiter).reset();
        lock(&self.shared.secondary).reset();
        *lock(&self.shared.faults) = faults::Faults::new(seed);
    }

    /// Replaces the world with one built from a description.
    pub fn load_spec(&self, spec: &WorldSpec) -> Result<(), WorldError> {
        self.load(World::from_spec(spec)?);
        Ok(())
    }

    /// Adds what a description declares to the current world.
    pub fn patch_spec(&self, spec: &WorldSpec) -> Result<(), WorldError> {
        lock(&self.shared.world).patch(spec)
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Workflow events recorded so far, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.world(|w| w.events.clone())
    }

    /// The webhook body GitHub would deliver for the `index`-th recorded event (see
    /// [`Control::events`]), rendered from the current state; `None` past the end.
    pub fn webhook_payload(&self, index: usize) -> Option<serde_json::Value> {
        let w = lock(&self.shared.world);
        let event = w.events.get(index)?;
        Some(webhook::payload(&self.shared.base, &w, event))
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Active fault rules (counted ones disappear when used up).
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).list()
    }

    /// The secondary limits in force, the answer style and every identity's usage.
    pub fn limits(&self) -> limits::LimitsReport {
        let limits = lock(&self.shared.world).limits;
        let answer = lock(&self.shared.faults).limit_answer;
        lock(&self.shared.secondary).report(limits, answer)
    }

    /// Forgets the secondary-limit windows and counters.
    pub fn clear_limits(&self) {
        lock(&self.shared.secondary).reset();
    }

    /// How secondary-limit answers look (a fault switch; cleared with the faults).
    pub fn set_limit_answer(&self, answer: limits::LimitAnswer) {
        lock(&self.shared.faults).limit_answer = answer;
    }

    /// Moves simulated time forward and applies what became due (e.g. CI check completions).
    pub fn advance(&self, by: Duration) {
        lock(&self.shared.world).advance(by);
    }

    /// Simulated now, unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        lock(&self.shared.world).clock.now_ms()
    }

    /// Completes (or fails, with another conclusion) a check run; false if it does not exist.
    pub fn complete_check_run(&self, repo: &str, id: u64, conclusion: &str) -> bool {
        lock(&self.shared.world).complete_check_run(repo, id, conclusion)
    }
}

/// An in-process simulator served on the caller's tokio runtime. Stops on drop.
pub struct GithubSim {
    control: Control,
    stop: watch::Sender<bool>,
    addr: SocketAddr,
}

impl GithubSim {
    /// Serves `world` on `127.0.0.1:0`.
    pub async fn start(world: World) -> Result<GithubSim, SimError> {
        GithubSim::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), world).await
    }

    /// Serves `world` on `addr`.
    pub async fn start_on(addr: SocketAddr, world: World) -> Result<GithubSim, SimError> {
        GithubSim::start_with(addr, world, None).await
    }

    /// Serves `world` on `addr`, over HTTPS with `tls`'s certificate when given: then every URL
    /// the API reports (`url`, `html_url`, `download_url`, `upload_url`…) says `https`.
    pub async fn start_with(
        addr: SocketAddr,
        world: World,
        tls: Option<&sim_tls::Identity>,
    ) -> Result<GithubSim, SimError> {
        let tcp = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let local = tcp
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let (listener, base) = match tls {
            Some(identity) => {
                let tls = sim_tls::TlsListener::new(tcp, identity.acceptor()?)
                    .map_err(|source| SimError::Bind { addr, source })?;
                (http::Listener::Tls(tls), format!("https://{local}"))
            }
            None => (http::Listener::Plain(tcp), format!("http://{local}")),
        };
        let shared = Arc::new(Shared::new(world, base));
        let (stop, rx) = watch::channel(false);
        tokio::spawn(http::serve(listener, Arc::clone(&shared), rx));
        Ok(GithubSim {
            control: Control::from_shared(shared),
            stop,
            addr: local,
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A control handle that outlives borrows of `self`.
    pub fn control(&self) -> Control {
        self.control.clone()
    }
}

impl Deref for GithubSim {
    type Target = Control;
    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for GithubSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A simulator on its own thread and runtime, for tests that are not async (e.g. ones that spawn
/// action binaries). Stops and joins the thread on drop.
pub struct SimHandle {
    control: Control,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimHandle {
    /// Serves `world` on `127.0.0.1:0` from a background thread.
    pub fn spawn(world: World) -> Result<SimHandle, SimError> {
        SimHandle::spawn_with(world, None)
    }

    /// As [`SimHandle::spawn`], over HTTPS with `tls`'s certificate when given.
    pub fn spawn_with(world: World, tls: Option<sim_tls::Identity>) -> Result<SimHandle, SimError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(SimError::Runtime)?;
        let thread = std::thread::Builder::new()
            .name("github-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let any = SocketAddr::from(([127, 0, 0, 1], 0));
                    match GithubSim::start_with(any, world, tls.as_ref()).await {
                        Ok(sim) => {
                            let _ = ready_tx.send(Ok(sim.control()));
                            let _ = stop_rx.await;
                            drop(sim);
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(SimError::Runtime)?;
        let control = ready_rx.recv().map_err(|_| SimError::ThreadDied)??;
        Ok(SimHandle {
            control,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Deref for SimHandle {
    type Target = Control;
    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

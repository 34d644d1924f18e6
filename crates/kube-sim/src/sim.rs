//! The public face: start a simulator in-process (`KubeSim::start`) or on its own thread
//! (`KubeSim::spawn`), load manifests, inspect and steer the world from tests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Notify;

use crate::auth::TokenGrant;
use crate::clock::SimClock;
use crate::controllers::Scheduled;
use crate::faults::{Action, Fault, Trigger, Verb};
use crate::images::ImageCatalogue;
use crate::kubeconfig;
use crate::manifests;
use crate::resources::Resource;
use crate::world::{RequestRecord, World};

/// Errors starting or feeding the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("failed to bind 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid manifests: {0}")]
    Manifest(String),
    #[error("failed to create {kind} {namespace}/{name} from the manifests: {source}")]
    Create {
        kind: &'static str,
        namespace: String,
        name: String,
        #[source]
        source: crate::error::ApiError,
    },
    #[error("failed to start the simulator thread: {0}")]
    Thread(String),
    #[error("failed to serve HTTPS: {0}")]
    Tls(#[from] sim_tls::TlsError),
}

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    pub images: ImageCatalogue,
    /// Multi-document YAML applied at start.
    pub manifests: String,
    /// Seeds names and uids, so runs are reproducible.
    pub seed: u64,
    /// How many changes of one resource type a watch of that type can resume across before it
    /// gets 410 Gone (each type keeps its own history, as the watch cache does).
    pub watch_history: usize,
    /// Real time between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// The bearer token written into the kubeconfig (checked only when `tokens` is not empty).
    pub token: String,
    /// Serve HTTPS with this certificate; its CA (when given) is written into the kubeconfig
    /// (`sim_tls::Identity::self_made` for a CA of the server's own, `Ca::issue` for a shared one).
    pub tls: Option<sim_tls::Identity>,
    /// When not empty, every request must carry one of these tokens (401 otherwise) and may do
    /// only what its access allows (403 otherwise).
    pub tokens: Vec<TokenGrant>,
    /// Serve the pods' traffic counters at `GET /metrics` (Prometheus text format, plain HTTP)
    /// on this port of 127.0.0.1 (0 picks a free one); `None` serves no metrics.
    pub metrics_port: Option<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            time_scale: 1.0,
            images: ImageCatalogue::default(),
            manifests: String::new(),
            seed: 5,
            watch_history: 1024,
            bookmark_interval: Duration::from_secs(5),
            token: "kube-sim-token".to_owned(),
            tls: None,
            tokens: Vec::new(),
            metrics_port: None,
        }
    }
}

/// State shared by the HTTP handlers and the controller task.
#[derive(Debug)]
pub(crate) struct Inner {
    world: Mutex<World>,
    pub(crate) notify: Notify,
    pub(crate) bookmark_interval: Duration,
    clock: Arc<SimClock>,
    addr: Mutex<Option<SocketAddr>>,
    shutdown: tokio::sync::watch::Sender<bool>,
    pub(crate) tokens: Vec<TokenGrant>,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn clock(&self) -> Arc<SimClock> {
        Arc::clone(&self.clock)
    }

    pub(crate) fn server_addr(&self) -> String {
        self.addr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .map_or_else(String::new, |a| a.to_string())
    }

    pub(crate) fn shutdown_rx(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub(crate) fn log(&self, r: RequestRecord) {
        tracing::debug!(method = %r.method, path = %r.path, status = r.status, "request");
        let mut w = self.lock();
        if w.requests.len() >= 100_000 {
            w.requests.pop_front();
        }
        w.requests.push_back(r);
    }
}

/// A running simulator. Dropping it stops the server and the controllers.
#[derive(Debug)]
pub struct KubeSim {
    inner: Arc<Inner>,
    addr: SocketAddr,
    token: String,
    tls: Option<sim_tls::Identity>,
    metrics_addr: Option<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl KubeSim {
    /// Starts the API server and the controllers on the current tokio runtime.
    pub async fn start(config: Config) -> Result<Self, SimError> {
        let clock = Arc::new(SimClock::new(config.time_scale));
        let mut world = World::new(
            Arc::clone(&clock),
            config.images.clone(),
            config.seed,
            config.watch_history,
        );
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let _ = world.create(
                Resource::Namespaces,
                "",
                serde_json::json!({"metadata": {"name": ns}}),
                false,
            );
        }
        load_manifests(&mut world, &config.manifests)?;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let inner = Arc::new(Inner {
            world: Mutex::new(world),
            notify: Notify::new(),
            bookmark_interval: config.bookmark_interval,
            clock,
            addr: Mutex::new(None),
            shutdown,
            tokens: config.tokens.clone(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| SimError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            port: config.port,
            source,
        })?;
        *inner
            .addr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(addr);
        let app = crate::api::router(Arc::clone(&inner));
        let server = match &config.tls {
            Some(identity) => {
                let acceptor = identity.acceptor()?;
                let listener = sim_tls::TlsListener::new(listener, acceptor).map_err(|source| {
                    SimError::Bind {
                        port: config.port,
                        source,
                    }
                })?;
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "kube-sim server stopped");
                    }
                })
            }
            None => {
                // Watch events are small writes; without TCP_NODELAY, Nagle's algorithm holds
                // them back.
                let listener = axum::serve::ListenerExt::tap_io(
                    listener,
                    |tcp: &mut tokio::net::TcpStream| {
                        let _ = tcp.set_nodelay(true);
                    },
                );
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "kube-sim server stopped");
                    }
                })
            }
        };
        let mut tasks = vec![server];
        let metrics_addr = match config.metrics_port {
            Some(port) => {
                let (addr, task) = serve_metrics(&inner, port).await?;
                tasks.push(task);
                Some(addr)
            }
            None => None,
        };
        let ctrl_inner = Arc::clone(&inner);
        let controllers = tokio::spawn(async move { controller_loop(ctrl_inner).await });
        tasks.push(controllers);
        inner.notify.notify_one();
        Ok(Self {
            inner,
            addr,
            token: config.token,
            tls: config.tls,
            metrics_addr,
            tasks,
        })
    }

    /// Starts a simulator on its own thread and tokio runtime, for tests that are not async.
    pub fn spawn(config: Config) -> Result<SimHandle, SimError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kube-sim".to_owned())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(SimError::Thread(e.to_string())));
                        return;
                    }
                };
                rt.block_on(async move {
                    match KubeSim::start(config).await {
                        Ok(sim) => {
                            let _ = tx.send(Ok(sim.clone_handle()));
                            let _ = stop_rx.await;
                            drop(sim);
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| SimError::Thread(e.to_string()))?;
        let sim = rx.recv().map_err(|e| SimError::Thread(e.to_string()))??;
        Ok(SimHandle {
            sim,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// A view on the same world without ownership of the tasks.
    fn clone_handle(&self) -> KubeSim {
        KubeSim {
            inner: Arc::clone(&self.inner),
            addr: self.addr,
            token: self.token.clone(),
            tls: self.tls.clone(),
            metrics_addr: self.metrics_addr,
            tasks: Vec::new(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://…` with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/metrics`, when serving metrics (`Config::metrics_port`).
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr.map(|a| format!("http://{a}/metrics"))
    }

    /// The CA certificate (PEM) that signed the server's, when serving TLS with a known CA.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|identity| identity.ca_pem.as_deref())
    }

    pub fn kubeconfig_yaml(&self) -> String {
        self.kubeconfig_for(&self.token)
    }

    /// A kubeconfig for this server that authenticates with `token`.
    pub fn kubeconfig_for(&self, token: &str) -> String {
        kubeconfig::render(&self.url(), token, "default", self.ca_pem())
    }

    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// Runs `f` on the world with the lock held, then lets the controllers react.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let out = f(&mut self.inner.lock());
        self.inner.notify.notify_one();
        out
    }

    /// Applies multi-document YAML (creates, or replaces existing objects).
    pub fn apply_manifests(&self, yaml: &str) -> Result<(), SimError> {
        self.with_world(|w| load_manifests(w, yaml))
    }

    pub fn set_images(&self, images: ImageCatalogue) {
        self.with_world(|w| w.images = images);
    }

    /// One object, as its k8s-openapi type (`sim.get::<Deployment>("ns", "web")`).
    pub fn get<K: k8s_openapi::Resource + DeserializeOwned>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<K> {
        let r = Resource::from_kind(K::API_VERSION, K::KIND)?;
        let w = self.inner.lock();
        w.get(r, namespace, name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// All objects of a type in a namespace (or all namespaces with `None`).
    pub fn list<K: k8s_openapi::Resource + DeserializeOwned>(
        &self,
        namespace: Option<&str>,
    ) -> Vec<K> {
        let Some(r) = Resource::from_kind(K::API_VERSION, K::KIND) else {
            return Vec::new();
        };
        let w = self.inner.lock();
        w.store
            .list(r, namespace)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect()
    }

    /// The raw stored JSON of an object.
    pub fn get_json(&self, resource: Resource, namespace: &str, name: &str) -> Option<Value> {
        self.inner.lock().get(resource, namespace, name).cloned()
    }

    pub fn add_fault(&self, fault: Fault) {
        self.inner.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.inner.lock().faults.clear();
    }

    /// A second actor: run `action` when `trigger` fires.
    pub fn schedule(&self, trigger: Trigger, action: Action) {
        self.with_world(|w| {
            let generation = match &trigger {
                Trigger::AfterRolloutStart {
                    namespace,
                    deployment,
                    ..
                } => w
                    .get(Resource::Deployments, namespace, deployment)
                    .and_then(|d| d.pointer("/metadata/generation"))
                    .and_then(Value::as_i64),
                Trigger::After(_) => None,
            };
            let now = w.clock.elapsed();
            w.ctrl
                .scheduled
                .push(Scheduled::new(trigger, action, now, generation));
        });
    }

    /// "After `delay` of the next rollout of `deployment`, someone else sets `container` to `image`."
    pub fn set_image_mid_rollout(
        &self,
        namespace: &str,
        deployment: &str,
        container: &str,
        image: &str,
        delay: Duration,
    ) {
        self.schedule(
            Trigger::AfterRolloutStart {
                namespace: namespace.to_owned(),
                deployment: deployment.to_owned(),
                delay,
            },
            Action::SetImage {
                namespace: namespace.to_owned(),
                deployment: deployment.to_owned(),
                container: container.to_owned(),
                image: image.to_owned(),
            },
        );
    }

    /// Limits the pods in `namespace` (like a ResourceQuota `pods: N`); `None` lifts it. Pods the
    /// ReplicaSet controller cannot create give the ReplicaSet and Deployment a `ReplicaFailure`.
    pub fn set_pod_quota(&self, namespace: &str, limit: Option<usize>) {
        self.with_world(|w| match limit {
            Some(n) => {
                w.pod_quota.insert(namespace.to_owned(), n);
            }
            None => {
                w.pod_quota.remove(namespace);
            }
        });
    }

    /// Sets what the single node can hold (CPU millicores, memory bytes of summed requests);
    /// pods that do not fit stay Pending with `PodScheduled=False`, reason Unschedulable.
    pub fn set_node_allocatable(&self, cpu_millis: u64, memory_bytes: u64) {
        self.with_world(|w| w.node_allocatable = (cpu_millis, memory_bytes));
    }

    /// How long (simulated) deleted pods stay Terminating before they are gone (default 1 s,
    /// capped by each pod's grace period).
    pub fn set_pod_termination(&self, d: Duration) {
        self.with_world(|w| w.pod_termination = d);
    }

    /// Moves simulated time forward and runs the controllers, stopping at every timer that falls
    /// due on the way, so that a long jump behaves like the time passing (a pod that finished
    /// terminating after 1 s counts at 1 s, not at the end of the jump).
    pub fn advance(&self, by: Duration) {
        let target = self.inner.clock.elapsed() + by;
        for _ in 0..100_000 {
            let next = {
                let mut w = self.inner.lock();
                w.reconcile();
                w.next_wakeup()
            };
            let now = self.inner.clock.elapsed();
            match next {
                Some(t) if t > now && t <= target => {
                    self.inner.clock.advance(t.saturating_sub(now));
                }
                _ => break,
            }
        }
        let now = self.inner.clock.elapsed();
        if target > now {
            self.inner.clock.advance(target.saturating_sub(now));
        }
        self.settle();
    }

    /// Runs the controllers now, until the world stops changing.
    pub fn settle(&self) {
        self.inner.lock().reconcile();
    }

    /// Simulated time since start.
    pub fn elapsed(&self) -> Duration {
        self.inner.clock.elapsed()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.lock().requests.iter().cloned().collect()
    }

    /// Requests seen with this verb (and resource, when given).
    pub fn count_requests(&self, verb: Verb, resource: Option<Resource>) -> usize {
        self.inner
            .lock()
            .requests
            .iter()
            .filter(|r| r.verb == Some(verb) && resource.is_none_or(|x| r.resource == Some(x)))
            .count()
    }

    /// The largest simulated delay so far between a controller timer falling due and its
    /// handling: how far the simulator fell behind its own clock.
    pub fn max_timer_lag(&self) -> Duration {
        self.inner.lock().ctrl.max_timer_lag
    }

    /// Forgets the watch history, so resuming from any earlier resourceVersion gets 410 Gone.
    pub fn compact(&self) {
        self.inner.lock().store.compact();
    }

    /// Events in a namespace as (type, reason, involved object name, message), oldest first.
    pub fn events(&self, namespace: &str) -> Vec<k8s_openapi::api::core::v1::Event> {
        let mut evs: Vec<k8s_openapi::api::core::v1::Event> = self.list(Some(namespace));
        evs.sort_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
                .then_with(|| {
                    a.metadata
                        .resource_version
                        .cmp(&b.metadata.resource_version)
                })
        });
        evs
    }

    /// Polls (real time) until `pred` holds for the world, or `timeout` passes.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&KubeSim) -> bool,
    ) -> bool {
        let end = tokio::time::Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if tokio::time::Instant::now() >= end {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Blocking version of [`KubeSim::wait_until`] for non-async tests.
    pub fn wait_until_blocking(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&KubeSim) -> bool,
    ) -> bool {
        let end = std::time::Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if std::time::Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        if !self.tasks.is_empty() {
            let _ = self.inner.shutdown.send(true);
            for t in &self.tasks {
                t.abort();
            }
        }
    }
}

/// A simulator running on its own thread; derefs to [`KubeSim`]; stops on drop.
#[derive(Debug)]
pub struct SimHandle {
    sim: KubeSim,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for SimHandle {
    type Target = KubeSim;
    fn deref(&self) -> &KubeSim {
        &self.sim
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn load_manifests(world: &mut World, yaml: &str) -> Result<(), SimError> {
    if yaml.trim().is_empty() {
        return Ok(());
    }
    for m in manifests::parse(yaml).map_err(SimError::Manifest)? {
        let name = m
            .object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let exists = world.get(m.resource, &m.namespace, &name).is_some();
        let result = if exists {
            let mut obj = m.object.clone();
            obj["metadata"]["resourceVersion"] = Value::Null;
            world.update(m.resource, &m.namespace, &name, obj, false, false)
        } else {
            world.create(m.resource, &m.namespace, m.object.clone(), false)
        };
        result.map_err(|source| SimError::Create {
            kind: m.resource.kind(),
            namespace: m.namespace.clone(),
            name: name.clone(),
            source,
        })?;
    }
    Ok(())
}

/// The exporter's own plain-HTTP listener.
async fn serve_metrics(
    inner: &Arc<Inner>,
    port: u16,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), SimError> {
    let bind = |source| SimError::Bind { port, source };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let app = crate::metrics::router(Arc::clone(inner));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "kube-sim metrics server stopped");
        }
    });
    Ok((addr, task))
}

async fn controller_loop(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown_rx();
    loop {
        // One round per lock acquisition, so API requests interleave with a large reconcile.
        for _ in 0..64 {
            if !inner.lock().reconcile_round() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let wait = {
            let w = inner.lock();
            let now = w.clock.elapsed();
            w.next_wakeup()
                .map(|t| w.clock.real_duration(t.saturating_sub(now)))
        };
        let wait = wait
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(1), Duration::from_millis(200));
        tokio::select! {
            () = inner.notify.notified() => {}
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

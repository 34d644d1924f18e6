//! The stage the rehearsal plays on: github-sim and kube-sim in this process, the service's
//! verification endpoint, and a scratch directory for checkouts and the kubeconfig. `--keep`
//! leaves it standing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::Deployment;

use crate::endpoint::Endpoint;
use crate::layout::Layout;

/// Both simulators, the endpoint and the scratch directory; everything stops on drop.
pub struct Stage {
    pub github: github_sim::SimHandle,
    pub cluster: Arc<kube_sim::SimHandle>,
    pub endpoint: Endpoint,
    pub kubeconfig: PathBuf,
    pub runtime: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
    pub time_scale: f64,
}

impl Stage {
    /// Starts both simulators on `layout` and waits until the Deployment has rolled out.
    pub fn start(layout: &Layout, time_scale: Option<f64>) -> anyhow::Result<Stage> {
        // One TLS provider for the process (reqwest is built without one); plain HTTP needs it too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let world = github_sim::World::from_yaml(&layout.github_world(time_scale)?)
            .context("the world's `github` section is not a valid github-sim world")?;
        let github = github_sim::SimHandle::spawn(world).context("failed to start github-sim")?;
        let time_scale = time_scale.unwrap_or_else(|| layout.time_scale());
        let images = kube_sim::ImageCatalogue::from_yaml(&layout.images)
            .map_err(|reason| anyhow::anyhow!("the image catalogue is not valid: {reason}"))?;
        let cluster = Arc::new(
            kube_sim::KubeSim::spawn(kube_sim::Config {
                time_scale,
                images,
                manifests: layout.manifests.clone(),
                ..kube_sim::Config::default()
            })
            .context("failed to start kube-sim with the manifests")?,
        );
        let rolled_out = cluster.wait_until_blocking(Duration::from_secs(60), |sim| {
            sim.get::<Deployment>(&layout.namespace, &layout.deployment)
                .and_then(|d| d.status)
                .is_some_and(|status| {
                    status.replicas.is_some()
                        && status.available_replicas == status.replicas
                        && status.updated_replicas == status.replicas
                })
        });
        if !rolled_out {
            bail!(
                "the Deployment {}/{} did not roll out its first version within 60 s (is its image in the catalogue?)",
                layout.namespace,
                layout.deployment
            );
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("failed to start the endpoint's runtime")?;
        let endpoint = Endpoint::start(
            &runtime,
            Arc::clone(&cluster),
            &layout.namespace,
            &layout.deployment,
        )?;
        let dir = tempfile::Builder::new()
            .prefix("gantry-rehearse-")
            .tempdir()
            .context("failed to create a scratch directory")?;
        let kubeconfig = dir.path().join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .context("failed to write the kubeconfig")?;
        Ok(Stage {
            github,
            cluster,
            endpoint,
            kubeconfig,
            runtime,
            dir,
            time_scale,
        })
    }

    /// A fresh directory under the scratch directory.
    pub fn workspace(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
        Ok(dir)
    }
}

//! `kube-sim`: the Kubernetes API simulator as a standalone server for local rehearsals.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use kube_sim::{Access, Config, ImageCatalogue, KubeSim, TokenGrant};
use sim_tls::Identity;

/// Serve a simulated Kubernetes API on 127.0.0.1: deployments, replica sets, pods and events.
#[derive(Debug, Parser)]
#[command(name = "kube-sim", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Multi-document Kubernetes YAML to load at start (Namespaces, Deployments).
    #[arg(long)]
    manifests: Vec<PathBuf>,
    /// Image catalogue YAML: which images pull, how long they take to be ready, which crash.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Write a kubeconfig pointing at this server here.
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
    /// Simulated seconds per real second (60 makes a 600 s progress deadline pass in 10 s).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Seed for generated names and uids.
    #[arg(long, default_value_t = 5)]
    seed: u64,
    /// Seconds between BOOKMARK events on watches that allow them.
    #[arg(long, default_value_t = 5.0)]
    bookmark_interval: f64,
    /// Serve HTTPS with a CA generated at start (written into the kubeconfig).
    #[arg(long, conflicts_with = "tls_cert")]
    tls: bool,
    /// Serve HTTPS with this server certificate (PEM, for 127.0.0.1 or localhost; with
    /// `--tls-key`), e.g. one a private CA shared with github-sim signed.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The key of `--tls-cert` (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The CA certificate (PEM) that signed `--tls-cert`, written into the kubeconfig; without
    /// it the kubeconfig names no CA and clients use their own trust store.
    #[arg(long, requires = "tls_cert")]
    tls_ca: Option<PathBuf>,
    /// Require bearer tokens: TOKEN:USER:ACCESS, ACCESS one of read, deploy (read and patch
    /// Deployments), admin, or the path of a YAML file of `Role` and `ClusterRole` manifests whose
    /// rules the token gets (a Role's in its namespace); repeat for several. The kubeconfig uses
    /// the first.
    #[arg(long = "token", value_parser = parse_grant)]
    tokens: Vec<TokenGrant>,
    /// Serve the pods' traffic counters for Prometheus at http://127.0.0.1:PORT/metrics (0 picks
    /// a free port); the URL is the second stdout line.
    #[arg(long)]
    metrics_port: Option<u16>,
}

fn parse_grant(s: &str) -> Result<TokenGrant, String> {
    // User names have colons of their own (`system:serviceaccount:ci:deployer`).
    let Some((token, (user, access))) = s
        .split_once(':')
        .and_then(|(token, rest)| Some((token, rest.rsplit_once(':')?)))
    else {
        return Err("expected TOKEN:USER:ACCESS".to_owned());
    };
    let access = match access {
        "read" => Access::read(),
        "deploy" => Access::deploy(),
        "admin" => Access::admin(),
        path => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!("access must be read, deploy, admin or a file of Roles and ClusterRoles; cannot read {path:?}: {e}")
            })?;
            Access::from_yaml(&text).map_err(|e| format!("{path:?}: {e}"))?
        }
    };
    if token.is_empty() || user.is_empty() {
        return Err("the token and the user must not be empty".to_owned());
    }
    Ok(TokenGrant::new(token, user, access))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut manifests = String::new();
    for path in &args.manifests {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read manifests {}", path.display()))?;
        manifests.push_str("\n---\n");
        manifests.push_str(&text);
    }
    let images = match &args.images {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("failed to read image catalogue {}", p.display()))?;
            ImageCatalogue::from_yaml(&text)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("failed to load image catalogue {}", p.display()))?
        }
        None => ImageCatalogue::default(),
    };
    anyhow::ensure!(
        args.time_scale > 0.0 && args.time_scale.is_finite(),
        "--time-scale must be a positive number"
    );
    anyhow::ensure!(
        args.bookmark_interval > 0.0 && args.bookmark_interval.is_finite(),
        "--bookmark-interval must be a positive number"
    );
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            Identity::from_files(cert, key, args.tls_ca.as_deref())
                .context("failed to load --tls-cert, --tls-key and --tls-ca")?,
        ),
        _ if args.tls => Some(
            Identity::self_made("kube-sim").context("failed to generate the TLS certificates")?,
        ),
        _ => None,
    };
    let config = Config {
        port: args.port,
        time_scale: args.time_scale,
        images,
        manifests,
        seed: args.seed,
        bookmark_interval: Duration::from_secs_f64(args.bookmark_interval),
        token: args
            .tokens
            .first()
            .map_or_else(|| Config::default().token, |g| g.token.clone()),
        tls,
        tokens: args.tokens,
        metrics_port: args.metrics_port,
        ..Config::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the tokio runtime")?;
    rt.block_on(async move {
        let sim = KubeSim::start(config)
            .await
            .context("failed to start kube-sim")?;
        if let Some(path) = &args.kubeconfig_out {
            sim.write_kubeconfig(path)
                .with_context(|| format!("failed to write kubeconfig {}", path.display()))?;
        }
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", sim.url()).context("failed to write the URL to stdout")?;
            if let Some(url) = sim.metrics_url() {
                writeln!(out, "{url}").context("failed to write the metrics URL to stdout")?;
            }
            out.flush().context("failed to flush stdout")?;
        }
        tokio::signal::ctrl_c()
            .await
            .context("failed to wait for ctrl-c")?;
        drop(sim);
        Ok(())
    })
}

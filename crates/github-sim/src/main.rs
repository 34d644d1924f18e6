//! `github-sim`: serve a simulated GitHub for local rehearsals; prints its base URL on the first
//! line of stdout and serves until interrupted.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use github_sim::{GithubSim, World};
use sim_tls::Identity;

/// A stateful, fault-injecting GitHub REST API simulator.
#[derive(Parser)]
#[command(name = "github-sim", version)]
struct Args {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// World file (YAML); the world starts empty without one.
    #[arg(long)]
    world: Option<PathBuf>,
    /// Add this many synthetic repositories `synthetic/repo-N` (for benchmarks).
    #[arg(long, default_value_t = 0)]
    synthetic_repos: usize,
    /// Commits per synthetic repository.
    #[arg(long, default_value_t = 1)]
    synthetic_commits: usize,
    /// Serve HTTPS with this server certificate (PEM, for 127.0.0.1 or localhost; with
    /// `--tls-key`), e.g. one a private CA shared with kube-sim signed; every URL the API
    /// reports then says `https`.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The key of `--tls-cert` (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut world = match &args.world {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read world file {}", path.display()))?;
            World::from_yaml(&text)
                .with_context(|| format!("failed to load world file {}", path.display()))?
        }
        None => World::empty(),
    };
    for i in 0..args.synthetic_repos {
        world
            .add_synthetic_repo(
                &format!("synthetic/repo-{i}"),
                args.synthetic_commits.max(1),
            )
            .context("failed to build the synthetic world")?;
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            Identity::from_files(cert, key, None)
                .context("failed to load --tls-cert and --tls-key")?,
        ),
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the tokio runtime")?;
    runtime.block_on(async {
        let sim = GithubSim::start_with(SocketAddr::new(args.bind, args.port), world, tls.as_ref())
            .await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", sim.url()).context("failed to write the URL to stdout")?;
            out.flush().context("failed to flush stdout")?;
        }
        tokio::signal::ctrl_c()
            .await
            .context("failed to wait for Ctrl-C")?;
        drop(sim);
        Ok(())
    })
}

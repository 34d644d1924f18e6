//! Load generator for BENCH.md: N concurrent clients issue GETs against a running github-sim,
//! either as fast as they can (`--rate 0`) or at a fixed total rate (open loop; a client that falls
//! behind its schedule measures from the scheduled start, so a slow server cannot hide queueing).

use std::io::Write as _;
use std::time::{Duration, Instant};

use clap::Parser;

/// Lateness up to this is the tokio timer's resolution, not the server's doing.
const TIMER_SLACK: Duration = Duration::from_millis(2);

#[derive(Parser)]
struct Args {
    /// Full URL to GET.
    url: String,
    /// Token for `Authorization: token …`.
    #[arg(long, default_value = "bench-token")]
    token: String,
    /// Concurrent clients (connections).
    #[arg(long, default_value_t = 32)]
    clients: u32,
    /// Total requests per second; 0 = as fast as possible.
    #[arg(long, default_value_t = 5000)]
    rate: u32,
    /// Duration of the measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let duration = Duration::from_secs(args.seconds);
    let interval = (args.rate > 0)
        .then(|| Duration::from_secs_f64(f64::from(args.clients) / f64::from(args.rate)));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..args.clients {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (url, auth) = (args.url.clone(), format!("token {}", args.token));
        let clients = args.clients;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            // Stagger the clients evenly over one interval.
            let mut next = start + interval.map_or(Duration::ZERO, |iv| iv * i / clients);
            while start.elapsed() < duration {
                if interval.is_some() {
                    tokio::time::sleep_until(next.into()).await;
                }
                // Latency counts from the scheduled start when this client has fallen behind its
                // schedule (so queueing is not hidden), but not for the timer's 1 ms granularity.
                let woke = Instant::now();
                let scheduled = if interval.is_some() && woke > next + TIMER_SLACK {
                    next
                } else {
                    woke
                };
                let ok = match client.get(&url).header("authorization", &auth).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(scheduled.elapsed());
                } else {
                    errors += 1;
                }
                if let Some(iv) = interval {
                    next += iv;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into a sorted sample"
        )]
        let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
        all.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    #[expect(clippy::cast_precision_loss, reason = "a request count")]
    let rps = all.len() as f64 / elapsed;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "clients={} target_rate={} requests={} errors={errors} rps={rps:.0} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        args.clients,
        args.rate,
        all.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    )?;
    Ok(())
}

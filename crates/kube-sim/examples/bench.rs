//! Benchmark: watch-event latency, 100 Deployments × 10 replicas rolling out at time scale 1,
//! and peak RSS. Run with `cargo run -p kube-sim --release --example bench`.

use std::io::Write as _;
use std::time::{Duration, Instant};

use kube_sim::patch::PatchType;
use kube_sim::{Config, ImageCatalogue, ImageSpec, KubeSim, Resource};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn deployment(name: &str, image: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: bench}}\nspec:\n  replicas: 10\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: app, image: \"{image}\"}}]\n"
    )
}

fn done(d: &Value) -> bool {
    let i = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    i("/metadata/generation") <= i("/status/observedGeneration")
        && i("/status/updatedReplicas") == 10
        && i("/status/replicas") == 10
        && i("/status/availableReplicas") == 10
}

fn all_done(sim: &KubeSim, n: usize) -> bool {
    (0..n).all(|i| {
        sim.get_json(Resource::Deployments, "bench", &format!("d{i}"))
            .is_some_and(|d| done(&d))
    })
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a small vector"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn watch_latency(sim: &KubeSim, samples: usize, pause: Duration, tag: &str) -> Vec<Duration> {
    let mut s = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect");
    let req = "GET /apis/apps/v1/namespaces/bench/deployments?watch=true&fieldSelector=metadata.name%3Dd0 HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n";
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = String::new();
    let mut out = Vec::new();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await;
    for n in 0..samples {
        let marker = format!("bench-{tag}-{n}-x");
        let patch = json!({"metadata": {"annotations": {"bench": marker}}});
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let t0 = Instant::now();
        sim.with_world(|w| {
            w.patch(
                Resource::Deployments,
                "bench",
                "d0",
                PatchType::Merge,
                &patch,
                false,
                false,
            )
        })
        .expect("patch");
        loop {
            let k = s.read(&mut buf).await.expect("read");
            seen.push_str(&String::from_utf8_lossy(&buf[..k]));
            if seen.contains(&marker) {
                out.push(t0.elapsed());
                seen.clear();
                break;
            }
        }
    }
    out
}

fn main() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut out = std::io::stdout().lock();
    rt.block_on(async {
        let n = 100;
        let mut manifests = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n");
        for i in 0..n {
            manifests.push_str(&deployment(&format!("d{i}"), "registry.example/app:1.0"));
        }
        let images = ImageCatalogue::new(vec![ImageSpec::ok("registry.example/app:*").ready_after(Duration::from_secs(2))]);
        let config = Config { time_scale: 1.0, images, manifests, ..Config::default() };
        let t = Instant::now();
        let sim = KubeSim::start(config).await.expect("start");
        while !all_done(&sim, n) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let create = t.elapsed();
        writeln!(out, "100 deployments x 10 replicas created and available: {:.2}s wall (ideal 3.0s: 1s pull + 2s ready)", create.as_secs_f64())?;

        let t = Instant::now();
        for i in 0..n {
            let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:2.0"}]}}}});
            sim.with_world(|w| w.patch(Resource::Deployments, "bench", &format!("d{i}"), PatchType::Strategic, &patch, false, false)).expect("patch");
        }
        while !all_done(&sim, n) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let roll = t.elapsed();
        let pods = sim.list::<k8s_openapi::api::core::v1::Pod>(Some("bench")).len();
        writeln!(out, "100 concurrent rolling updates (25%/25%) complete: {:.2}s wall; pods now {pods}", roll.as_secs_f64())?;
        writeln!(out, "max controller timer lag: {:.1} ms", sim.max_timer_lag().as_secs_f64() * 1000.0)?;

        for (pause, tag) in [(Duration::ZERO, "back-to-back"), (Duration::from_millis(2), "2 ms apart")] {
            let mut lat = watch_latency(&sim, 1000, pause, tag).await;
            lat.sort();
            writeln!(
                out,
                "watch latency over {} changes ({tag}): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
                lat.len(),
                percentile(&lat, 0.5).as_secs_f64() * 1000.0,
                percentile(&lat, 0.99).as_secs_f64() * 1000.0,
                lat.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
            )?;
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        writeln!(out, "load average during the run: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "))?;
        writeln!(out, "RSS now {} KiB, peak {} KiB (simulator and client in one process)", rss_kib("VmRSS:"), rss_kib("VmHWM:"))?;
        Ok(())
    })
}

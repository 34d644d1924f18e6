//! Shared test helpers: manifests, an image catalogue, a tiny HTTP client and a kubectl runner.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kube_sim::{Config, ImageCatalogue, ImageSpec, KubeSim};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const IMAGES_YAML: &str = "images:
  - image: \"registry.example/app:1.*\"
    ready_after: 2s
    logs: [\"listening on :8080\"]
  - image: \"registry.example/app:crash\"
    crash: true
    logs: [\"starting\"]
    last_words: [\"panic: no database configured\"]
  - image: \"registry.example/app:slow\"
    ready_after: 120s
  - image: \"registry.example/app:never-ready\"
    ready_after: 1000000s
";

pub fn deployment_yaml(
    ns: &str,
    name: &str,
    replicas: u32,
    image: &str,
    extra_spec: &str,
) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
{extra_spec}  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: app
        image: {image}
"
    )
}

pub fn images() -> ImageCatalogue {
    ImageCatalogue::new(vec![
        ImageSpec::ok("registry.example/app:1.*").ready_after(Duration::from_secs(2)),
        ImageSpec::crashing("registry.example/app:crash"),
        ImageSpec::ok("registry.example/app:slow").ready_after(Duration::from_secs(120)),
    ])
}

pub fn config(time_scale: f64, manifests: &str) -> Config {
    Config {
        time_scale,
        images: images(),
        manifests: manifests.to_owned(),
        ..Config::default()
    }
}

pub async fn start(time_scale: f64, manifests: &str) -> KubeSim {
    KubeSim::start(config(time_scale, manifests))
        .await
        .expect("simulator starts")
}

/// A raw HTTP/1.1 response.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub body: String,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Minimal HTTP/1.1 client (Connection: close), enough for non-streaming calls.
pub async fn http(sim: &KubeSim, method: &str, path: &str, content_type: &str, body: &str) -> Raw {
    let mut s = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        sim.addr(),
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Raw { status, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub async fn get(sim: &KubeSim, path: &str) -> Raw {
    http(sim, "GET", path, "application/json", "").await
}

/// The standalone binary, started with `--kubeconfig-out`; killed on drop.
pub struct Binary {
    pub child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Binary {
    pub fn start(manifests: &str, time_scale: f64) -> Self {
        Self::start_with(manifests, time_scale, &[])
    }

    /// As [`Binary::start`], with extra command-line arguments.
    pub fn start_with(manifests: &str, time_scale: f64, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("m.yaml"), manifests).expect("write manifests");
        std::fs::write(dir.path().join("images.yaml"), IMAGES_YAML).expect("write images");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube-sim"))
            .args(["--port", "0", "--manifests"])
            .arg(dir.path().join("m.yaml"))
            .arg("--images")
            .arg(dir.path().join("images.yaml"))
            .arg("--kubeconfig-out")
            .arg(dir.path().join("kubeconfig"))
            .args(["--time-scale", &time_scale.to_string()])
            .args(args)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kube-sim");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("read url");
        let url = first.trim().to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
            "first stdout line is the URL: {url:?}"
        );
        Self { child, url, dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn kubectl(&self, args: &[&str]) -> Out {
        kubectl(&self.kubeconfig(), self.dir.path(), args)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What kubectl did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn kubectl_path() -> PathBuf {
    let p = PathBuf::from("/usr/bin/kubectl");
    assert!(
        p.exists(),
        "kubectl not found at /usr/bin/kubectl: install kubectl (.ci/run does)"
    );
    p
}

pub use gantry_testkit::hermetic;

/// Runs the stock kubectl with a clean environment (no GITHUB_*, RUNNER_*, ACTIONS_*, KUBECONFIG).
pub fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Out {
    let out = Command::new(kubectl_path())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run kubectl");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Polls `kubectl get` with a jsonpath until it prints `want` (30 s at most).
pub fn wait_for_jsonpath(bin: &Binary, ns: &str, what: &str, path: &str, want: &str) {
    for _ in 0..300 {
        let out = bin.kubectl(&["-n", ns, "get", what, "-o", &format!("jsonpath={path}")]);
        if out.stdout == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} never had {path} = {want}");
}

/// Replaces every run of spaces with one space, so table columns compare regardless of width.
pub fn squash(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `kubectl rollout status` for a Deployment, per kubectl's `DeploymentStatusViewer`:
/// Ok((message, done)) or Err(message).
pub fn rollout_status(d: &Value) -> Result<(String, bool), String> {
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let int = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if int("/metadata/generation") <= int("/status/observedGeneration") {
        let progressing = d
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"));
        if progressing.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
            return Err(format!(
                "deployment {name:?} exceeded its progress deadline"
            ));
        }
        let (updated, replicas, available) = (
            int("/status/updatedReplicas"),
            int("/status/replicas"),
            int("/status/availableReplicas"),
        );
        if let Some(spec) = d.pointer("/spec/replicas").and_then(Value::as_i64)
            && updated < spec
        {
            return Ok((
                format!(
                    "Waiting for deployment {name:?} rollout to finish: {updated} out of {spec} new replicas have been updated...\n"
                ),
                false,
            ));
        }
        if replicas > updated {
            return Ok((
                format!(
                    "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...\n",
                    replicas - updated
                ),
                false,
            ));
        }
        if available < updated {
            return Ok((
                format!(
                    "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available...\n"
                ),
                false,
            ));
        }
        return Ok((
            format!("deployment {name:?} successfully rolled out\n"),
            true,
        ));
    }
    Ok((
        "Waiting for deployment spec update to be observed...\n".to_owned(),
        false,
    ))
}

//! A real Prometheus for tests: Debian's `prometheus`, started on 127.0.0.1 with its own port,
//! storage directory and generated configuration scraping the given targets every second,
//! stopped when dropped. Queries that gate a rollout are then answered by the real query engine
//! (`rate`, histograms, staleness), not by a stand-in.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often the generated configuration scrapes and evaluates.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`, the base of its HTTP API.
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus (which must be installed: `.ci/install` installs Debian's package)
    /// scraping each `http://host:port/path` in `targets` every [`SCRAPE_INTERVAL`], and waits
    /// until it answers `/-/ready`.
    pub fn start(targets: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, config_yaml(targets)).expect("write prometheus.yml");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let mut command = Command::new("prometheus");
        crate::hermetic(&mut command);
        let child = command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus runs (apt-get install prometheus; .ci/install does)");
        let mut prometheus = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir,
        };
        let until = Instant::now() + Duration::from_secs(30);
        while !prometheus
            .get("/-/ready")
            .is_ok_and(|(status, _)| status == 200)
        {
            if let Ok(Some(status)) = prometheus.child.try_wait() {
                panic!("prometheus exited ({status}): {}", prometheus.log());
            }
            assert!(
                Instant::now() < until,
                "prometheus was not ready on port {port}: {}",
                prometheus.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        prometheus
    }

    /// Waits until every target has been scraped successfully at least once.
    pub fn wait_until_scraped(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        loop {
            let (_, body) = self.get("/api/v1/targets?state=active").unwrap_or_default();
            let targets: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let active = targets
                .pointer("/data/activeTargets")
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !active.is_empty() && active.iter().all(|t| t["health"] == "up") {
                return;
            }
            assert!(
                Instant::now() < until,
                "prometheus did not scrape its targets: {body}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An instant query through the HTTP API (`/api/v1/query`), the parsed JSON answer.
    pub fn query(&self, promql: &str) -> serde_json::Value {
        let (status, body) = self
            .get(&format!("/api/v1/query?query={}", percent_encode(promql)))
            .expect("prometheus answers");
        assert_eq!(status, 200, "query {promql}: {body}");
        serde_json::from_str(&body).expect("prometheus answers JSON")
    }

    /// What Prometheus logged (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The directory holding the configuration, storage and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A GET over HTTP/1.0 to 127.0.0.1 (no client crate needed): status and body.
    fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
            .to_owned();
        Ok((status, body))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration: one job per target, scraped every second, its labels kept as served.
fn config_yaml(targets: &[&str]) -> String {
    let secs = SCRAPE_INTERVAL.as_secs();
    let mut yaml = format!(
        "global:\n  scrape_interval: {secs}s\n  evaluation_interval: {secs}s\nscrape_configs:\n"
    );
    for (i, target) in targets.iter().enumerate() {
        let rest = target
            .strip_prefix("http://")
            .expect("targets are http:// URLs");
        let (host, path) = rest.split_once('/').unwrap_or((rest, "metrics"));
        let _ = write!(
            yaml,
            "  - job_name: target-{i}\n    honor_labels: true\n    scrape_timeout: {secs}s\n    metrics_path: /{path}\n    static_configs:\n      - targets: ['{host}']\n"
        );
    }
    yaml
}

/// Query-string encoding of a `PromQL` expression (everything but unreserved characters).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

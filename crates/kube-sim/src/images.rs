//! The image catalogue: per image reference or glob pattern, whether it pulls, how long the
//! container takes to become ready, and whether it crashes. Unknown images fail to pull, as with
//! a real registry. An image also declares the traffic its ready pods serve (`traffic`), so that
//! a bad version is measurably bad to a metrics query.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// How a pulled container behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// Glob over the full image reference (`*` any run of characters, `?` one character).
    pub pattern: String,
    pub pull: bool,
    /// Simulated time from container start to `ready: true`.
    pub ready_after: Duration,
    /// Simulated time a pull takes.
    pub pull_time: Duration,
    /// The container exits with code 1 after `crash_after`, forever (CrashLoopBackOff).
    pub crash: bool,
    pub crash_after: Duration,
    /// With `crash`: only containers whose `args` hold every one of these crash (a bug in one
    /// mode of the image, such as `--grpc`); empty: every container of the image.
    pub crash_args: Vec<String>,
    /// `sha256:<hex>`; derived from the reference when not given.
    pub digest: Option<String>,
    /// Lines the container prints when it starts (`kubectl logs`).
    pub logs: Vec<String>,
    /// What a crashing container prints before it exits (`kubectl logs --previous`).
    pub last_words: Vec<String>,
    /// What a ready pod of this image serves (see [`crate::traffic`]).
    pub traffic: TrafficSpec,
}

/// The requests a ready pod of an image serves: a steady rate, a share answered 500, and
/// latencies drawn from a log-normal distribution with the given median and 99th percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficSpec {
    /// Requests per simulated second per ready pod.
    pub rps: f64,
    /// Share of requests answered with status 500 (0 to 1); the rest are 200.
    pub error_ratio: f64,
    pub latency_p50: Duration,
    pub latency_p99: Duration,
}

impl Default for TrafficSpec {
    fn default() -> Self {
        Self {
            rps: 10.0,
            error_ratio: 0.0,
            latency_p50: Duration::from_millis(20),
            latency_p99: Duration::from_millis(100),
        }
    }
}

impl ImageSpec {
    pub fn ok(pattern: &str) -> Self {
        Self {
            pattern: pattern.to_owned(),
            pull: true,
            ready_after: Duration::from_secs(2),
            pull_time: Duration::from_secs(1),
            crash: false,
            crash_after: Duration::from_secs(1),
            crash_args: Vec::new(),
            digest: None,
            logs: Vec::new(),
            last_words: Vec::new(),
            traffic: TrafficSpec::default(),
        }
    }

    #[must_use]
    pub fn traffic(mut self, traffic: TrafficSpec) -> Self {
        self.traffic = traffic;
        self
    }

    #[must_use]
    pub fn logs(mut self, logs: &[&str], last_words: &[&str]) -> Self {
        self.logs = logs.iter().map(|l| (*l).to_owned()).collect();
        self.last_words = last_words.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    #[must_use]
    pub fn ready_after(mut self, d: Duration) -> Self {
        self.ready_after = d;
        self
    }

    pub fn unpullable(pattern: &str) -> Self {
        Self {
            pull: false,
            ..Self::ok(pattern)
        }
    }

    pub fn crashing(pattern: &str) -> Self {
        Self {
            crash: true,
            ..Self::ok(pattern)
        }
    }
}

/// The catalogue: first matching entry wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageCatalogue {
    pub entries: Vec<ImageSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    image: String,
    #[serde(default)]
    pull: Option<String>,
    #[serde(default)]
    ready_after: Option<serde_yaml::Value>,
    #[serde(default)]
    pull_time: Option<serde_yaml::Value>,
    #[serde(default)]
    crash: bool,
    #[serde(default)]
    crash_after: Option<serde_yaml::Value>,
    #[serde(default)]
    crash_args: Vec<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    logs: Vec<String>,
    #[serde(default)]
    last_words: Vec<String>,
    #[serde(default)]
    traffic: Option<RawTraffic>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    #[serde(default)]
    rps: Option<f64>,
    #[serde(default)]
    error_ratio: Option<f64>,
    #[serde(default)]
    latency_p50: Option<serde_yaml::Value>,
    #[serde(default)]
    latency_p99: Option<serde_yaml::Value>,
}

impl RawTraffic {
    fn parse(&self, image: &str) -> Result<TrafficSpec, String> {
        let base = TrafficSpec::default();
        let rps = self.rps.unwrap_or(base.rps);
        if !rps.is_finite() || rps < 0.0 {
            return Err(format!(
                "image {image}: traffic.rps must be a number of requests per second, 0 or more"
            ));
        }
        let error_ratio = self.error_ratio.unwrap_or(base.error_ratio);
        if !(0.0..=1.0).contains(&error_ratio) {
            return Err(format!(
                "image {image}: traffic.error_ratio must be between 0 and 1"
            ));
        }
        let latency_p50 = yaml_duration(
            self.latency_p50.as_ref(),
            "traffic.latency_p50",
            base.latency_p50,
        )?;
        // Without a 99th percentile the tail is five times the median, as with the defaults.
        let latency_p99 = yaml_duration(
            self.latency_p99.as_ref(),
            "traffic.latency_p99",
            latency_p50 * 5,
        )?;
        if latency_p50.is_zero() || latency_p99 < latency_p50 {
            return Err(format!(
                "image {image}: traffic.latency_p50 must be above 0 and at most traffic.latency_p99"
            ));
        }
        Ok(TrafficSpec {
            rps,
            error_ratio,
            latency_p50,
            latency_p99,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawCatalogue {
    Wrapped { images: Vec<RawEntry> },
    List(Vec<RawEntry>),
}

/// Parses `1.5s`, `500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

fn yaml_duration(
    v: Option<&serde_yaml::Value>,
    field: &str,
    default: Duration,
) -> Result<Duration, String> {
    match v {
        None => Ok(default),
        Some(serde_yaml::Value::Number(n)) => n
            .as_f64()
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("{field}: not a duration")),
        Some(serde_yaml::Value::String(s)) => {
            parse_duration(s).ok_or_else(|| format!("{field}: cannot parse duration {s:?}"))
        }
        Some(_) => Err(format!("{field}: not a duration")),
    }
}

/// Glob match over the whole string.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl ImageCatalogue {
    pub fn new(entries: Vec<ImageSpec>) -> Self {
        Self { entries }
    }

    /// Parses the YAML catalogue: a list of entries, or `images:` holding that list.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let raw: RawCatalogue =
            serde_yaml::from_str(text).map_err(|e| format!("invalid image catalogue: {e}"))?;
        let raw = match raw {
            RawCatalogue::Wrapped { images } | RawCatalogue::List(images) => images,
        };
        let mut entries = Vec::new();
        for e in raw {
            let base = ImageSpec::ok(&e.image);
            let pull = match e.pull.as_deref() {
                None | Some("ok") => true,
                Some("fail") => false,
                Some(other) => {
                    return Err(format!(
                        "image {}: pull must be ok or fail, got {other:?}",
                        e.image
                    ));
                }
            };
            entries.push(ImageSpec {
                pull,
                ready_after: yaml_duration(
                    e.ready_after.as_ref(),
                    "ready_after",
                    base.ready_after,
                )?,
                pull_time: yaml_duration(e.pull_time.as_ref(), "pull_time", base.pull_time)?,
                crash: e.crash,
                crash_after: yaml_duration(
                    e.crash_after.as_ref(),
                    "crash_after",
                    base.crash_after,
                )?,
                crash_args: e.crash_args,
                digest: e.digest,
                logs: e.logs,
                last_words: e.last_words,
                traffic: match &e.traffic {
                    Some(t) => t.parse(&e.image)?,
                    None => TrafficSpec::default(),
                },
                pattern: e.image,
            });
        }
        Ok(Self { entries })
    }

    /// How a container of `image` started with `args` behaves: its entry, crashing only when
    /// the entry's `crash_args` are all among `args`.
    pub fn behaviour(&self, image: &str, args: &[String]) -> Option<ImageSpec> {
        self.lookup(image).map(|spec| {
            let mut spec = spec.clone();
            spec.crash = spec.crash && spec.crash_args.iter().all(|arg| args.contains(arg));
            spec
        })
    }

    pub fn lookup(&self, image: &str) -> Option<&ImageSpec> {
        let full = normalize_reference(image);
        self.entries
            .iter()
            .find(|e| glob_match(&e.pattern, image) || glob_match(&e.pattern, &full))
    }
}

/// `nginx` → `docker.io/library/nginx:latest`, as the container runtime reports references.
pub fn normalize_reference(image: &str) -> String {
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n.to_owned(), format!(":{t}")),
        _ if image.contains('@') => (image.to_owned(), String::new()),
        _ => (image.to_owned(), ":latest".to_owned()),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        name
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}{tag}")
}

/// `imageID` as the kubelet reports it: `<repository>@sha256:<digest>`, the digest a reference
/// names, else the catalogue entry's, else one derived from the reference.
pub fn image_id(image: &str, spec: &ImageSpec) -> String {
    let full = normalize_reference(image);
    let repo = match full.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => r.to_owned(),
        _ => full.clone(),
    };
    let repo = repo.split('@').next().unwrap_or(&repo).to_owned();
    // A reference by digest pulls exactly that digest.
    let named = image.rsplit_once('@').map(|(_, digest)| digest.to_owned());
    let digest = named.or_else(|| spec.digest.clone()).unwrap_or_else(|| {
        let hash = Sha256::digest(full.as_bytes());
        let hex = hash.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        format!("sha256:{hex}")
    });
    format!("{repo}@{digest}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn crash_args_make_only_that_mode_of_the_image_crash() {
        let catalogue = ImageCatalogue::from_yaml(
            "images:\n  - image: \"api:2\"\n    crash: true\n    crash_args: [\"--grpc\"]\n  - image: \"web:1\"\n    crash: true\n",
        )
        .unwrap();
        let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let crashes =
            |image: &str, list: &[&str]| catalogue.behaviour(image, &args(list)).unwrap().crash;
        assert!(crashes("api:2", &["serve", "--grpc"]));
        assert!(!crashes("api:2", &["serve", "--http"]));
        assert!(!crashes("api:2", &[]));
        assert!(
            crashes("web:1", &[]),
            "without crash_args every container crashes"
        );
        assert!(catalogue.behaviour("unknown:1", &[]).is_none());
    }

    use super::*;

    #[test]
    fn parses_catalogue_and_matches_globs() {
        let cat = ImageCatalogue::from_yaml(
            "images:\n  - image: \"registry.example/app:1.*\"\n    ready_after: 3s\n  - image: \"registry.example/app:bad\"\n    pull: fail\n  - image: nginx*\n    crash: true\n    digest: sha256:abc\n",
        )
        .unwrap();
        assert_eq!(
            cat.lookup("registry.example/app:1.2").unwrap().ready_after,
            Duration::from_secs(3)
        );
        assert!(!cat.lookup("registry.example/app:bad").unwrap().pull);
        assert!(cat.lookup("nginx:1.25").unwrap().crash);
        assert!(cat.lookup("registry.example/app:2.0").is_none());
        assert_eq!(
            image_id("nginx:1.25", cat.lookup("nginx").unwrap()),
            "docker.io/library/nginx@sha256:abc"
        );
        assert_eq!(
            image_id(
                "nginx@sha256:0123",
                cat.lookup("nginx@sha256:0123").unwrap()
            ),
            "docker.io/library/nginx@sha256:0123"
        );
        assert!(ImageCatalogue::from_yaml("- image: x\n  pull: maybe\n").is_err());
    }

    #[test]
    fn traffic_behaviour() {
        let cat = ImageCatalogue::from_yaml(
            "- image: app:bad\n  traffic:\n    rps: 50\n    error_ratio: 0.2\n    latency_p50: 40ms\n- image: app:*\n",
        )
        .unwrap();
        let bad = cat.lookup("app:bad").unwrap().traffic;
        assert!((bad.rps - 50.0).abs() < 1e-9 && (bad.error_ratio - 0.2).abs() < 1e-9);
        assert_eq!(bad.latency_p99, Duration::from_millis(200));
        assert_eq!(cat.lookup("app:1").unwrap().traffic, TrafficSpec::default());
        for wrong in [
            "error_ratio: 1.5",
            "rps: -1",
            "latency_p50: 0s",
            "latency_p50: 2s\n    latency_p99: 1s",
            "errors: 0.1",
        ] {
            let yaml = format!("- image: x\n  traffic:\n    {wrong}\n");
            assert!(ImageCatalogue::from_yaml(&yaml).is_err(), "{wrong}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn references() {
        assert_eq!(
            normalize_reference("nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(normalize_reference("ghcr.io/o/app:v1"), "ghcr.io/o/app:v1");
        assert_eq!(
            normalize_reference("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
    }
}

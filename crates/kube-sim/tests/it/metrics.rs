//! The traffic exporter: per-pod counters of ready pods by image behaviour, checked with
//! `promtool check metrics` (Prometheus's own parser and linter) and scraped by a real
//! Prometheus whose query engine computes the error ratio of each Deployment.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use gantry_testkit::prometheus::Prometheus;
use k8s_openapi::api::core::v1::Pod;
use kube_sim::images::TrafficSpec;
use kube_sim::{Config, ImageCatalogue, ImageSpec, KubeSim, Resource};

use crate::common::{deployment_yaml, hermetic};

const FROZEN: f64 = 0.000_001;

fn catalogue() -> ImageCatalogue {
    ImageCatalogue::new(vec![
        ImageSpec::ok("registry.example/app:bad").traffic(TrafficSpec {
            rps: 10.0,
            error_ratio: 0.2,
            ..TrafficSpec::default()
        }),
        ImageSpec::ok("registry.example/app:1.*"),
    ])
}

fn start(time_scale: f64) -> kube_sim::SimHandle {
    let manifests = format!(
        "{}---\n{}",
        deployment_yaml("prod", "web", 2, "registry.example/app:1.0", ""),
        deployment_yaml("prod", "web-canary", 1, "registry.example/app:bad", "")
            .split_once("---\n")
            .expect("namespace, then deployment")
            .1
    );
    KubeSim::spawn(Config {
        time_scale,
        images: catalogue(),
        manifests,
        metrics_port: Some(0),
        ..Config::default()
    })
    .expect("simulator starts")
}

/// `GET /metrics`: the content type and the body.
fn scrape(sim: &KubeSim) -> (String, String) {
    let url = sim.metrics_url().expect("metrics served");
    let addr = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .expect("metrics URL");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("http response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (content_type, body.to_owned())
}

/// The value of the one series whose line starts with `prefix` and contains `part`.
fn value(text: &str, prefix: &str, part: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix) && l.contains(part))
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse().ok())
}

fn promtool_accepts(text: &str) {
    let mut command = Command::new("promtool");
    hermetic(&mut command);
    let mut child = command
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (apt-get install prometheus; .ci/install does)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool ends");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ready_pods_serve_their_image_behaviour_in_the_prometheus_format() {
    let sim = start(FROZEN);
    sim.settle();
    let (content_type, before) = scrape(&sim);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!before.contains("pod=\""), "no pod is ready yet: {before}");
    // Pulled after 1 s, ready 2 s later; then 100 s of traffic.
    sim.advance(Duration::from_secs(3));
    sim.advance(Duration::from_secs(100));
    let (_, text) = scrape(&sim);
    promtool_accepts(&text);
    let canary: Vec<Pod> = sim
        .list::<Pod>(Some("prod"))
        .into_iter()
        .filter(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("web-canary-"))
        })
        .collect();
    let canary = canary[0].metadata.name.clone().expect("name");
    let series = format!("pod=\"{canary}\",deployment=\"web-canary\"");
    let canary_line = |code: &str| {
        text.lines()
            .find(|l| l.contains(&series) && l.contains(&format!("code=\"{code}\"")))
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {code} series of {canary}: {text}"))
    };
    let (bad_ok, bad_errors) = (canary_line("200"), canary_line("500"));
    let good = value(&text, "http_requests_total{", "deployment=\"web\"").expect("web serves");
    assert!((990.0..=1010.0).contains(&good), "{text}");
    // 10 requests a second for about 100 s, a fifth of them 500.
    assert!((990.0..=1010.0).contains(&(bad_ok + bad_errors)), "{text}");
    assert!(
        (bad_errors / (bad_ok + bad_errors) - 0.2).abs() < 0.005,
        "{text}"
    );
    assert!(text.contains("image=\"registry.example/app:bad\",label_app=\"web-canary\""));
    // The good image answers no 500 at all: its series does not exist, as with client libraries.
    assert_eq!(text.matches("code=\"500\"").count(), 1, "{text}");
    assert!(text.contains(&format!(
        "http_request_duration_seconds_count{{namespace=\"prod\",pod=\"{canary}\""
    )));
    // Counters only grow; a deleted pod's series are gone once it has terminated.
    sim.advance(Duration::from_secs(10));
    let (_, later) = scrape(&sim);
    let later_line = |code: &str| {
        later
            .lines()
            .find(|l| l.contains(&series) && l.contains(&format!("code=\"{code}\"")))
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .expect("series still there")
    };
    assert!(later_line("200") > bad_ok && later_line("500") > bad_errors);
    sim.with_world(|w| w.delete(Resource::Pods, "prod", &canary, false, false))
        .expect("delete pod");
    sim.advance(Duration::from_secs(5));
    let (_, after) = scrape(&sim);
    assert!(!after.contains(&format!("pod=\"{canary}\"")), "{after}");
    promtool_accepts(&after);
}

#[test]
fn a_real_prometheus_sees_the_error_ratio_of_each_deployment() {
    let sim = start(10.0);
    let prometheus = Prometheus::start(&[&sim.metrics_url().expect("metrics served")]);
    prometheus.wait_until_scraped(Duration::from_secs(30));
    let query = "sum by (deployment) (rate(http_requests_total{code=~\"5..\"}[5s])) / sum by (deployment) (rate(http_requests_total[5s]))";
    let mut answer = serde_json::Value::Null;
    for _ in 0..100 {
        answer = prometheus.query(query);
        if answer.pointer("/data/result/0/value/1").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let result = answer
        .pointer("/data/result")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Only the canary's pods answer 500, so only its Deployment has a ratio.
    assert_eq!(result.len(), 1, "{answer}");
    assert_eq!(result[0]["metric"]["deployment"], "web-canary", "{answer}");
    let ratio: f64 = result[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a number");
    assert!((ratio - 0.2).abs() < 0.02, "{answer}");
}

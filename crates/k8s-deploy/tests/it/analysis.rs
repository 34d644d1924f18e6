//! Analysis gates against the real thing: Debian's Prometheus scraping kube-sim's exporter, where
//! a canary Deployment of an image answering 20 % of its requests with 500 fails an error-ratio
//! analysis and one of a good image passes; and the HTTP probe against a local endpoint.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gantry_runner::NetworkSettings;
use gantry_runner::cancel::Cancellation;
use gantry_testkit::prometheus::Prometheus;
use k8s_deploy::analysis::{AnalysisOutcome, AnalysisSpec, Measurement, Phase, Substitutions};
use k8s_openapi::api::core::v1::Pod;
use kube_sim::{KubeSim, SimHandle};

use crate::canary::{BAD, error_ratio_analysis, metered};
use crate::common::{DEPLOYMENT, GOOD, NAMESPACE, NEXT, manifests};

const CANARY: &str = "web-canary";

fn sim() -> SimHandle {
    metered(manifests("", ""))
}

/// A canary Deployment of `image` next to the main one (same pod labels, as a Service would
/// select both), waited until its pod is ready.
fn canary(sim: &KubeSim, image: &str) {
    let main = manifests("", "").replace(GOOD, image);
    let deployment = main
        .split_once("---\n")
        .expect("namespace, then deployment")
        .1
        .replacen(
            &format!("name: {DEPLOYMENT}\n"),
            &format!("name: {CANARY}\n"),
            1,
        )
        .replace("replicas: 2", "replicas: 1");
    sim.apply_manifests(&deployment).expect("canary created");
    assert!(sim.wait_until_blocking(Duration::from_secs(20), |s| {
        s.list::<Pod>(Some(NAMESPACE)).iter().any(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(CANARY))
                && p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
    }));
}

fn vars(image: &str) -> Substitutions {
    let version = image.rsplit_once(':').map_or("", |(_, tag)| tag);
    Substitutions::new(image, version, NAMESPACE, DEPLOYMENT, CANARY)
}

fn run(spec: &AnalysisSpec, vars: &Substitutions) -> (AnalysisOutcome, Vec<Measurement>) {
    let client = k8s_deploy::analysis::http_client(NetworkSettings::default()).expect("client");
    let mut seen = Vec::new();
    let outcome = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(spec.run(
            &client,
            vars,
            &Cancellation::default(),
            &mut |m: &Measurement| seen.push(m.clone()),
        ))
        .expect("a verdict");
    (outcome, seen)
}

fn error_ratio(prometheus: &Prometheus) -> AnalysisSpec {
    AnalysisSpec::from_yaml(&error_ratio_analysis(&prometheus.url, 4)).expect("spec")
}

/// Seconds since the epoch of the first sample of a series with a 5xx code Prometheus holds.
fn first_error_sample(prometheus: &Prometheus) -> Option<f64> {
    let answer = prometheus.query(&format!(
        "http_requests_total{{deployment=\"{CANARY}\",code=~\"5..\"}}[5m]"
    ));
    answer
        .pointer("/data/result")?
        .as_array()?
        .iter()
        .filter_map(|series| series["values"][0][0].as_f64())
        .reduce(f64::min)
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "reports the detection time (first 5xx sample to the verdict), measured, not asserted"
)]
fn a_canary_answering_a_fifth_of_requests_with_500_fails_its_error_ratio_analysis() {
    let sim = sim();
    let prometheus = Prometheus::start(&[&sim.metrics_url().expect("metrics served")]);
    prometheus.wait_until_scraped(Duration::from_secs(30));
    canary(&sim, BAD);
    let (outcome, seen) = run(&error_ratio(&prometheus), &vars(BAD));
    let failed_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    assert!(!outcome.passed, "{outcome:?}");
    assert_eq!(outcome.measurements, seen, "every measurement was observed");
    let last = outcome.measurements.last().expect("measured");
    assert!(
        outcome
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("failure-limit of 0")),
        "{outcome:?}"
    );
    // A real measurement of the canary's ratio, not an error or an empty answer.
    assert_eq!(last.phase, Phase::Failed, "{outcome:?}");
    let ratio: f64 = last.value.parse().expect("a number");
    assert!((ratio - 0.2).abs() < 0.05, "{outcome:?}");
    assert_eq!(outcome.first_failure_at, Some(last.at));
    if let Some(first) = first_error_sample(&prometheus) {
        eprintln!(
            "first 5xx sample to the analysis failing: {:.2} s (first failing measurement at {:?}, verdict at {:?} after the analysis started)",
            failed_at - first,
            outcome.first_failure_at.unwrap_or_default(),
            outcome.ended_at
        );
    }
}

#[test]
fn a_canary_of_a_good_image_passes_every_measurement() {
    let sim = sim();
    let prometheus = Prometheus::start(&[&sim.metrics_url().expect("metrics served")]);
    prometheus.wait_until_scraped(Duration::from_secs(30));
    canary(&sim, NEXT);
    let (outcome, _) = run(&error_ratio(&prometheus), &vars(NEXT));
    assert!(outcome.passed, "{outcome:?}");
    assert_eq!(outcome.measurements.len(), 4);
    assert!(
        outcome
            .measurements
            .iter()
            .all(|m| m.ok && m.value == "0" && m.at >= Duration::from_secs(3)),
        "{outcome:?}"
    );
    assert_eq!(outcome.first_failure_at, None);
}

#[test]
fn no_data_is_inconclusive_and_fails_past_the_inconclusive_limit() {
    let sim = sim();
    let prometheus = Prometheus::start(&[&sim.metrics_url().expect("metrics served")]);
    prometheus.wait_until_scraped(Duration::from_secs(30));
    // No canary exists: the query has no data.
    let spec = AnalysisSpec {
        inconclusive_limit: 1,
        initial_delay: Duration::ZERO,
        ..error_ratio(&prometheus)
    };
    let (outcome, _) = run(&spec, &vars(NEXT));
    assert!(!outcome.passed);
    let phases: Vec<Phase> = outcome.measurements.iter().map(|m| m.phase).collect();
    assert_eq!(
        phases,
        [Phase::Inconclusive, Phase::Inconclusive],
        "{outcome:?}"
    );
    assert!(
        outcome
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("inconclusive-limit of 1")),
        "{outcome:?}"
    );
}

mod http_probe {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::Json;
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;
    use serde_json::json;

    use super::*;

    /// `/healthz` says ok, `/degraded` says degraded, `/down` is 503, `/flaky` is ok every
    /// other time.
    async fn endpoint() -> SocketAddr {
        let calls = Arc::new(AtomicU32::new(0));
        let app = Router::new()
            .route(
                "/healthz",
                get(|| async { Json(json!({"status": "ok", "checks": {"db": true}})) }),
            )
            .route(
                "/degraded",
                get(|| async { Json(json!({"status": "degraded"})) }),
            )
            .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
            .route(
                "/flaky",
                get(move || {
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        Json(json!({"status": if n.is_multiple_of(2) { "ok" } else { "degraded" }}))
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    fn probe(addr: SocketAddr, extra: &str) -> AnalysisSpec {
        AnalysisSpec::from_yaml(
            &format!("interval: 100ms\ncount: 3\n{extra}").replace("ADDR", &addr.to_string()),
        )
        .expect("spec")
    }

    async fn outcome(spec: &AnalysisSpec) -> AnalysisOutcome {
        let client = k8s_deploy::analysis::http_client(NetworkSettings::default()).expect("client");
        spec.run(
            &client,
            &vars(NEXT),
            &Cancellation::default(),
            &mut |_: &Measurement| {},
        )
        .await
        .expect("a verdict")
    }

    #[tokio::test]
    async fn status_and_json_pointer_decide() {
        let addr = endpoint().await;
        let ok = outcome(&probe(
            addr,
            "http: {url: 'http://ADDR/healthz?v={{version}}', json-pointer: /status}\nsuccess-condition: result == \"ok\"\n",
        ))
        .await;
        assert!(ok.passed && ok.measurements.len() == 3, "{ok:?}");
        assert_eq!(ok.measurements[0].value, "\"ok\"");
        let boolean = outcome(&probe(
            addr,
            "http: {url: 'http://ADDR/healthz', json-pointer: /checks/db}\nsuccess-condition: result == true\n",
        ))
        .await;
        assert!(boolean.passed, "{boolean:?}");
        let degraded = outcome(&probe(
            addr,
            "http: {url: 'http://ADDR/degraded', json-pointer: /status}\nsuccess-condition: result == \"ok\"\n",
        ))
        .await;
        assert!(
            !degraded.passed && degraded.measurements.len() == 1,
            "{degraded:?}"
        );
        assert_eq!(degraded.measurements[0].phase, Phase::Failed);
        let down = outcome(&probe(addr, "http: {url: 'http://ADDR/down'}\n")).await;
        assert!(!down.passed, "{down:?}");
        assert_eq!(down.measurements[0].value, "status 503, expected 200");
        let expected_down = outcome(&probe(
            addr,
            "http: {url: 'http://ADDR/down', status: 503}\n",
        ))
        .await;
        assert!(expected_down.passed, "{expected_down:?}");
        // One failure tolerated, the second fails it: ok, degraded, ok passes with limit 1.
        let flaky = outcome(&probe(
            addr,
            "http: {url: 'http://ADDR/flaky', json-pointer: /status}\nsuccess-condition: result == \"ok\"\nfailure-limit: 1\n",
        ))
        .await;
        assert!(flaky.passed, "{flaky:?}");
        assert_eq!(flaky.first_failure_at, Some(flaky.measurements[1].at));
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_fails_after_the_errors_in_a_row() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let spec = probe(
            addr,
            "http: {url: 'http://ADDR/healthz'}\nconsecutive-error-limit: 1\n",
        );
        let out = outcome(&spec).await;
        assert!(!out.passed);
        assert_eq!(out.measurements.len(), 2, "{out:?}");
        assert!(
            out.measurements
                .iter()
                .all(|m| m.phase == Phase::Error && m.value.starts_with("unreachable"))
        );
        assert!(
            out.reason
                .as_deref()
                .is_some_and(|r| r.contains("consecutive-error-limit of 1"))
        );
    }

    #[tokio::test]
    async fn cancellation_ends_the_analysis_at_once() {
        let addr = endpoint().await;
        let spec = AnalysisSpec {
            interval: Duration::from_secs(3600),
            ..probe(addr, "http: {url: 'http://ADDR/healthz'}\n")
        };
        let cancel = Cancellation::default();
        let later = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            later.cancel("SIGINT");
        });
        let client = k8s_deploy::analysis::http_client(NetworkSettings::default()).expect("client");
        let mut seen = 0;
        let error = spec
            .run(&client, &vars(NEXT), &cancel, &mut |_: &Measurement| {
                seen += 1;
            })
            .await
            .expect_err("cancelled");
        assert_eq!(error.to_string(), "the analysis was cancelled (SIGINT)");
        assert_eq!(seen, 1, "one measurement before the long wait");
    }
}

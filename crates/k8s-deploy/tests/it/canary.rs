//! The canary strategy against kube-sim with a Service in front of `prod/web`: a good image is
//! promoted through the steps (canary gone, main on the new image); a bad one fails its first step
//! and only the canary is removed; a re-run takes over an earlier run's canary; a cancellation
//! removes it; bad steps are refused before any request.

use std::time::Duration;

use gantry_testkit::prometheus::Prometheus;
use gantry_testkit::{RunningStep, Transcript};
use k8s_openapi::api::apps::v1::Deployment;
use kube_sim::images::TrafficSpec;
use kube_sim::{Config, ImageCatalogue, ImageSpec, KubeSim, Resource, SimHandle, Verb};

use crate::common::{
    CRASHING, DEPLOYMENT, GOOD, NAMESPACE, NEXT, OTHER, action, assert_exit, deployment,
    generated_run_line, image, manifests, rolled_out, sim_of,
};

pub const SERVICE: &str = "---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: prod}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";

const STEPS: &str = "- weight: 50\n- weight: 100\n";

/// `prod/web` (2 pods of GOOD) behind the Service `prod/web`, plus `extra` manifests.
pub fn sim_with_service(extra: &str) -> SimHandle {
    sim_of(format!("{}{SERVICE}{extra}", manifests("", "")), true)
}

/// As [`sim_with_service`], each pod requesting `cpu` of the simulated node's 4 CPUs: how many
/// fit decides when a rollout's surge pod stays unschedulable.
pub fn sim_with_service_of_pods_of(cpu: &str) -> SimHandle {
    let container = format!("        resources: {{requests: {{cpu: {cpu}}}}}\n");
    sim_of(format!("{}{SERVICE}", manifests("", &container)), true)
}

/// Cancels `step` as the runner does once the main Deployment has taken the image (its surge pod
/// unschedulable, so the promotion waits), after `meanwhile` looked at the cluster; checks the
/// step says it was cancelled, the Deployment rolled back and the promotion stage shows it.
pub fn cancelled_during_the_promotion(
    sim: &KubeSim,
    step: RunningStep,
    meanwhile: impl FnOnce(&KubeSim),
) -> Transcript {
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| image(sim) == NEXT));
    meanwhile(sim);
    let (run, signals) = step.cancel_as_runner();
    assert_eq!(signals, ["SIGINT"], "{}", run.render());
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("was cancelled (SIGINT)"),
        "{}",
        errors[0]
    );
    assert_eq!(image(sim), GOOD, "the main Deployment rolled back");
    assert!(
        run.summary.contains("| promote prod/web | rolled-back |"),
        "{}",
        run.summary
    );
    run
}

/// The `web-<track>` Deployment an earlier run left, running `image`.
pub fn left_by_an_earlier_run(track: &str, replicas: u32, image: &str) -> String {
    format!(
        "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{track}
  namespace: prod
  labels: {{app: web, gantry.dev/track: {track}}}
  annotations: {{gantry.dev/derived-from: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web, gantry.dev/track: {track}}}
  template:
    metadata:
      labels: {{app: web, gantry.dev/track: {track}}}
    spec:
      containers:
      - name: app
        image: {image}
"
    )
}

fn canary(sim: &KubeSim) -> Option<Deployment> {
    sim.get::<Deployment>(NAMESPACE, &format!("{DEPLOYMENT}-canary"))
}

/// The pods behind the Service's ready addresses.
pub fn ready_endpoints(sim: &KubeSim) -> Vec<String> {
    let endpoints =
        sim.with_world(|world| world.get(Resource::Endpoints, NAMESPACE, "web").cloned());
    endpoints
        .as_ref()
        .and_then(|e| e.pointer("/subsets/0/addresses"))
        .and_then(serde_json::Value::as_array)
        .map(|addresses| {
            addresses
                .iter()
                .filter_map(|a| {
                    a.pointer("/targetRef/name")
                        .and_then(serde_json::Value::as_str)
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn writes(sim: &KubeSim) -> usize {
    [Verb::Create, Verb::Update, Verb::Patch, Verb::Delete]
        .into_iter()
        .map(|verb| sim.count_requests(verb, None))
        .sum()
}

#[test]
fn a_good_canary_is_promoted_and_removed() {
    let sim = sim_with_service("");
    let run = action(&sim, NEXT)
        .input("strategy", "canary")
        .input("steps", STEPS)
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(image(&sim), NEXT);
    assert!(canary(&sim).is_none(), "the canary is removed");
    assert_eq!(
        sim.count_requests(Verb::Create, Some(Resource::Deployments)),
        1
    );
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        2,
        "step 2 resized the canary, then the main Deployment took the image"
    );
    for line in [
        "| step 1 (weight 50%: 1 of 2 pods) | passed | 1 of 1 canary pods ready and running the image |",
        "| step 2 (weight 100%: 2 of 2 pods) | passed | 2 of 2 canary pods ready and running the image |",
        "| promote prod/web | deployed |  |",
    ] {
        assert!(run.summary.contains(line), "{line}\n{}", run.summary);
    }
}

#[test]
fn a_canary_that_cannot_start_is_removed_and_the_deployment_untouched() {
    let sim = sim_with_service("");
    let run = action(&sim, CRASHING)
        .input("strategy", "canary")
        .input("steps", STEPS)
        .run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("canary step 1 (weight 50%: 1 of 2 pods) failed: ")
            && errors[0].contains("CrashLoopBackOff")
            && errors[0].ends_with("prod/web-canary was removed and prod/web left unchanged"),
        "{}",
        errors[0]
    );
    assert!(canary(&sim).is_none());
    assert_eq!(image(&sim), GOOD);
    assert_eq!(deployment(&sim).metadata.generation, Some(1));
    assert_eq!(sim.count_requests(Verb::Patch, None), 0);
    assert!(
        run.summary
            .contains("| step 1 (weight 50%: 1 of 2 pods) | failed: "),
        "{}",
        run.summary
    );
}

#[test]
fn a_rerun_takes_over_the_canary_an_earlier_run_left() {
    // An earlier run's canary of another image, as a runner that died mid-step leaves it.
    let left = left_by_an_earlier_run("canary", 1, OTHER);
    let sim = sim_with_service(&left);
    let run = action(&sim, NEXT)
        .input("strategy", "canary")
        .input("steps", STEPS)
        .run();
    assert_exit(&run, 0);
    assert!(
        run.stdout.contains(&format!(
            "Deployment prod/web-canary from an earlier run (running {OTHER}) is taken over"
        )),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), NEXT);
    assert!(canary(&sim).is_none());
    assert_eq!(
        sim.count_requests(Verb::Create, Some(Resource::Deployments)),
        0
    );
}

#[test]
fn a_canary_not_made_by_k8s_deploy_is_refused_before_any_write() {
    let foreign = "---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-canary, namespace: prod}
spec:
  selector:
    matchLabels: {app: other}
  template:
    metadata:
      labels: {app: other}
    spec:
      containers:
      - {name: app, image: registry.example/app:1.0}
";
    let sim = sim_with_service(foreign);
    let run = action(&sim, NEXT)
        .input("strategy", "canary")
        .input("steps", STEPS)
        .run();
    assert_exit(&run, 2);
    assert!(
        run.errors()[0].contains(
            "input `deployment`: deployment prod/web-canary exists and k8s-deploy did not derive it"
        ),
        "{}",
        run.render()
    );
    assert_eq!(writes(&sim), 0);
}

#[test]
fn a_cancelled_canary_is_removed() {
    let sim = sim_with_service("");
    let step = action(&sim, NEXT)
        .input("strategy", "canary")
        .input("steps", "- weight: 50\n  pause: 1h\n")
        .start_as_script(&generated_run_line());
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        canary(sim)
            .and_then(|d| d.status)
            .is_some_and(|s| s.ready_replicas == Some(1))
    }));
    // The Service spreads traffic over the canary's pod and the main Deployment's two.
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        ready_endpoints(sim).len() == 3
    }));
    assert_eq!(
        ready_endpoints(&sim)
            .iter()
            .filter(|name| name.starts_with("web-canary-"))
            .count(),
        1
    );
    let (run, signals) = step.cancel_as_runner();
    assert_eq!(signals, ["SIGINT"], "{}", run.render());
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "cancelled", "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains(
            "was cancelled (SIGINT): cancelled during canary step 1; prod/web-canary was removed"
        ),
        "{}",
        errors[0]
    );
    assert!(canary(&sim).is_none());
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_cancellation_during_the_promotion_rolls_the_deployment_back_and_removes_the_canary() {
    // The main Deployment's two pods and the canary's one fit (3 x 1.3 CPUs); the promotion's
    // surge pod does not, so the promotion waits (unschedulable-grace 1h) until cancelled.
    let sim = sim_with_service_of_pods_of("1300m");
    let step = action(&sim, NEXT)
        .input("strategy", "canary")
        .input("steps", "- weight: 50\n")
        .input("unschedulable-grace", "1h")
        .start_as_script(&generated_run_line());
    let run = cancelled_during_the_promotion(&sim, step, |sim| {
        assert!(
            canary(sim).is_some(),
            "the canary stays until the promotion ends"
        );
    });
    assert!(canary(&sim).is_none(), "the canary removed");
    assert!(
        run.summary
            .contains("| step 1 (weight 50%: 1 of 2 pods) | passed |")
    );
    assert!(sim.wait_until_blocking(Duration::from_secs(30), rolled_out));
}

#[test]
fn bad_steps_are_refused_before_any_request() {
    let sim = sim_with_service("");
    for (steps, says) in [
        ("- weight: 120\n", "step 1 has weight 120"),
        ("weight: 50\n", "is not a list of steps"),
        ("- weight: 50\n  pause: later\n", "step 1 has pause `later`"),
        ("- weight: 50\n  wait: 1m\n", "unknown field `wait`"),
        (
            "- weight: 50\n  analysis: {interval: 1s}\n",
            "analysis needs `prometheus` (address, query) or `http`",
        ),
        (
            "- weight: 50\n  analysis:\n    prometheus: {address: 'http://p:9090', query: 'up{job=\"{{pod}}\"}'}\n    success-condition: result == 1\n",
            "analysis `prometheus.query`",
        ),
    ] {
        let run = action(&sim, NEXT)
            .input("strategy", "canary")
            .input("steps", steps)
            .run();
        assert_exit(&run, 2);
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{}", run.render());
        assert!(
            errors[0].contains("input `steps`: ") && errors[0].contains(says),
            "{}",
            errors[0]
        );
    }
    assert!(
        sim.with_world(|world| world.requests.is_empty()),
        "no request reached the cluster"
    );
}

/// An image that answers a fifth of its requests with 500.
pub const BAD: &str = "registry.example/app:bad";

/// The canary's error ratio over the last 5 s in the real Prometheus at `address`, as an
/// `analysis` mapping: no 500 at all is 0, no traffic at all is no data, and the first of `count`
/// measurements waits for a few scrapes of the new pods (`rate` needs two samples).
pub fn error_ratio_analysis(address: &str, count: u32) -> String {
    format!(
        r#"prometheus:
  address: {address}
  query: >-
    (sum(rate(http_requests_total{{namespace="{{{{namespace}}}}",deployment="{{{{canary}}}}",code=~"5.."}}[5s])) or vector(0))
    / sum(rate(http_requests_total{{namespace="{{{{namespace}}}}",deployment="{{{{canary}}}}"}}[5s]))
success-condition: result < 0.01
interval: 1s
count: {count}
initial-delay: 3s
"#
    )
}

/// One step at half the replicas, gated on [`error_ratio_analysis`].
pub fn analysed_steps(address: &str) -> String {
    let mut steps = String::from("- weight: 50\n  analysis:\n");
    for line in error_ratio_analysis(address, 3).lines() {
        steps.push_str("    ");
        steps.push_str(line);
        steps.push('\n');
    }
    steps
}

/// kube-sim holding `manifests` (which define `prod/web`, rolled out), serving per-pod metrics
/// in which `BAD` answers a fifth of its requests with 500.
pub fn metered(manifests: String) -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 10.0,
        images: ImageCatalogue::new(vec![
            ImageSpec::ok(BAD).traffic(TrafficSpec {
                error_ratio: 0.2,
                ..TrafficSpec::default()
            }),
            ImageSpec::ok("registry.example/app:1.*"),
        ]),
        manifests,
        metrics_port: Some(0),
        ..Config::default()
    })
    .expect("simulator starts");
    assert!(sim.wait_until_blocking(Duration::from_secs(20), rolled_out));
    sim
}

/// kube-sim with the Service, serving per-pod metrics, and Prometheus scraping them.
pub fn measured() -> (SimHandle, Prometheus) {
    let sim = metered(format!("{}{SERVICE}", manifests("", "")));
    let prometheus = Prometheus::start(&[&sim.metrics_url().expect("metrics served")]);
    prometheus.wait_until_scraped(Duration::from_secs(30));
    (sim, prometheus)
}

#[test]
fn a_canary_whose_analysis_passes_in_prometheus_is_promoted() {
    let (sim, prometheus) = measured();
    let run = action(&sim, NEXT)
        .input("strategy", "canary")
        .input("steps", analysed_steps(&prometheus.url))
        .run();
    assert_exit(&run, 0);
    assert_eq!(image(&sim), NEXT);
    assert!(canary(&sim).is_none());
    let step = run
        .summary
        .lines()
        .find(|line| line.starts_with("| step 1 (weight 50%: 1 of 2 pods) | passed | "))
        .unwrap_or_else(|| panic!("{}", run.summary));
    assert_eq!(step.matches("(successful)").count(), 3, "{step}");
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "reports the time from the first failing measurement to the canary's removal, measured, not asserted"
)]
fn a_canary_failing_its_analysis_in_prometheus_is_removed() {
    let (sim, prometheus) = measured();
    let step = action(&sim, BAD)
        .input("strategy", "canary")
        .input("steps", analysed_steps(&prometheus.url))
        .start_as_script(&generated_run_line());
    // The canary's pod ready: from here the analysis measures it.
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        canary(sim)
            .and_then(|d| d.status)
            .is_some_and(|s| s.ready_replicas == Some(1))
    }));
    let mut first_failure = None;
    assert!(sim.wait_until_blocking(Duration::from_secs(60), |sim| {
        if first_failure.is_none() {
            first_failure = prometheus
                .query(r#"sum(rate(http_requests_total{deployment="web-canary",code=~"5.."}[5s])) > 0"#)
                .pointer("/data/result/0")
                .map(|_| std::time::Instant::now());
        }
        canary(sim).is_none()
    }));
    let removed = std::time::Instant::now();
    let run = step.finish();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("canary step 1 (weight 50%: 1 of 2 pods) failed: analysis failed: 1 failed measurement(s), more than the failure-limit of 0 (first failing measurement: ")
            && errors[0].ends_with("prod/web-canary was removed and prod/web left unchanged"),
        "{}",
        errors[0]
    );
    assert_eq!(image(&sim), GOOD);
    assert_eq!(deployment(&sim).metadata.generation, Some(1));
    if let Some(first) = first_failure {
        eprintln!(
            "bad canary: {:.2} s from Prometheus first showing its 5xx rate to its removal",
            removed.duration_since(first).as_secs_f64()
        );
    }
}

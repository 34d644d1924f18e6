//! The blue-green strategy against kube-sim with a Service in front of `prod/web`: a good image
//! gets a ready `web-green`, the Service switched to it while the old pods are kept for the
//! rollback window, then `web` takes the image, the selector switches back and green goes; a bad
//! image never switches; a re-run after the switch carries on; a cancellation switches back; an
//! ambiguous Service is refused before any write.

use std::collections::BTreeMap;
use std::time::Duration;

use gantry_testkit::Transcript;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube_sim::{KubeSim, Resource, Verb};

use crate::canary::{
    BAD, cancelled_during_the_promotion, error_ratio_analysis, left_by_an_earlier_run, measured,
    ready_endpoints, sim_with_service, sim_with_service_of_pods_of,
};
use crate::common::{
    CRASHING, DEPLOYMENT, GOOD, NAMESPACE, NEXT, action, assert_exit, generated_run_line, image,
};

fn green(sim: &KubeSim) -> Option<Deployment> {
    sim.get::<Deployment>(NAMESPACE, &format!("{DEPLOYMENT}-green"))
}

fn selector(sim: &KubeSim) -> BTreeMap<String, String> {
    sim.get::<Service>(NAMESPACE, "web")
        .and_then(|s| s.spec)
        .and_then(|s| s.selector)
        .unwrap_or_default()
}

fn original() -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_owned(), "web".to_owned())])
}

fn switched(sim: &KubeSim) -> bool {
    selector(sim).get("gantry.dev/track").map(String::as_str) == Some("green")
}

#[test]
fn a_good_green_takes_the_traffic_then_the_deployment_takes_the_image() {
    let sim = sim_with_service("");
    let step = action(&sim, NEXT)
        .input("strategy", "blue-green")
        .input("rollback-window", "3s")
        .start_as_script(&generated_run_line());
    // Switched, with the old pods kept and still on the old image.
    assert!(sim.wait_until_blocking(Duration::from_secs(30), switched));
    assert_eq!(image(&sim), GOOD);
    // The Service's endpoints follow the selector to green's two pods.
    assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
        let addresses = ready_endpoints(sim);
        addresses.len() == 2 && addresses.iter().all(|name| name.starts_with("web-green-"))
    }));
    let run = step.finish();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(image(&sim), NEXT);
    assert_eq!(selector(&sim), original());
    assert!(green(&sim).is_none(), "green is removed");
    for line in [
        "| prod/web-green ready | passed | 2 of 2 pods ready and running the image |",
        "| switch prod/web to prod/web-green | done |  |",
        "| rollback window (3s) | passed |  |",
        "| promote prod/web | deployed |  |",
        "| switch prod/web back to prod/web | done |  |",
    ] {
        assert!(run.summary.contains(line), "{line}\n{}", run.summary);
    }
}

#[test]
fn a_green_that_never_gets_ready_is_removed_and_the_service_untouched() {
    let sim = sim_with_service("");
    let run = action(&sim, CRASHING)
        .input("strategy", "blue-green")
        .input("rollback-window", "0s")
        .run();
    assert_never_switched(&sim, &run, "green prod/web-green did not get ready: ");
    assert_eq!(sim.count_requests(Verb::Patch, None), 0);
}

/// Green failed for `why`: removed, the Service never patched, the Deployment on its old image.
fn assert_never_switched(sim: &KubeSim, run: &Transcript, why: &str) {
    assert_exit(run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains(why)
            && errors[0].ends_with("service prod/web was not switched; prod/web-green was removed and prod/web left unchanged"),
        "{}",
        errors[0]
    );
    assert_eq!(selector(sim), original());
    assert!(green(sim).is_none());
    assert_eq!(image(sim), GOOD);
    assert_eq!(sim.count_requests(Verb::Patch, Some(Resource::Services)), 0);
}

#[test]
fn a_rerun_after_the_switch_carries_on() {
    let left = left_by_an_earlier_run("green", 2, NEXT);
    let sim = sim_with_service(&left);
    // The earlier run had switched the Service when it died.
    sim.with_world(|world| {
        world
            .patch(
                Resource::Services,
                NAMESPACE,
                "web",
                kube_sim::patch::PatchType::Merge,
                &serde_json::json!({"spec": {"selector": {"gantry.dev/track": "green"}}}),
                false,
                false,
            )
            .expect("switched");
    });
    let run = action(&sim, NEXT)
        .input("strategy", "blue-green")
        .input("rollback-window", "0s")
        .run();
    assert_exit(&run, 0);
    assert!(
        run.stdout
            .contains("(an earlier run switched it); carrying on after the switch"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), NEXT);
    assert_eq!(selector(&sim), original());
    assert!(green(&sim).is_none());
    assert_eq!(
        sim.count_requests(Verb::Create, Some(Resource::Deployments)),
        0
    );
}

#[test]
fn a_cancellation_after_the_switch_switches_back() {
    let sim = sim_with_service("");
    let step = action(&sim, NEXT)
        .input("strategy", "blue-green")
        .input("rollback-window", "1h")
        .start_as_script(&generated_run_line());
    assert!(sim.wait_until_blocking(Duration::from_secs(30), switched));
    let (run, signals) = step.cancel_as_runner();
    assert_eq!(signals, ["SIGINT"], "{}", run.render());
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "cancelled", "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("was cancelled (SIGINT): cancelled before prod/web took the image; service prod/web was switched back to prod/web; prod/web-green was removed"),
        "{}",
        errors[0]
    );
    assert_eq!(selector(&sim), original());
    assert!(green(&sim).is_none());
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_cancellation_during_the_promotion_rolls_back_switches_back_and_removes_green() {
    // The main Deployment's two pods and green's two fit (4 x 0.9 CPUs); the promotion's surge
    // pod does not, so the main Deployment's update waits (unschedulable-grace 1h) while the
    // traffic is on green, until cancelled.
    let sim = sim_with_service_of_pods_of("900m");
    let step = action(&sim, NEXT)
        .input("strategy", "blue-green")
        .input("rollback-window", "0s")
        .input("unschedulable-grace", "1h")
        .start_as_script(&generated_run_line());
    let run = cancelled_during_the_promotion(&sim, step, |sim| {
        assert!(
            switched(sim),
            "the traffic is on green during the promotion"
        );
    });
    assert_eq!(selector(&sim), original(), "the Service switched back");
    assert!(
        run.summary
            .contains("| switch prod/web back to prod/web | done |"),
        "{}",
        run.summary
    );
    assert!(green(&sim).is_none(), "green removed");
}

#[test]
fn an_ambiguous_service_is_refused_before_any_write() {
    let second = "---
apiVersion: v1
kind: Service
metadata: {name: web-internal, namespace: prod}
spec:
  selector: {app: web}
  ports: [{port: 81}]
";
    let sim = sim_with_service(second);
    let run = action(&sim, NEXT).input("strategy", "blue-green").run();
    assert_exit(&run, 2);
    assert!(
        run.errors()[0].contains("input `service`: several Services in prod select the pods of prod/web (web, web-internal); name one in service"),
        "{}",
        run.render()
    );
    for verb in [Verb::Create, Verb::Update, Verb::Patch, Verb::Delete] {
        assert_eq!(sim.count_requests(verb, None), 0);
    }
}

#[test]
fn an_analysis_that_cannot_be_read_is_refused_before_any_request() {
    let sim = sim_with_service("");
    let run = action(&sim, NEXT)
        .input("strategy", "blue-green")
        .input("analysis", "http: {url: 'ftp://probe', status: 200}\n")
        .run();
    assert_exit(&run, 2);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains("input `analysis`: is not an analysis: ")
            && errors[0].contains("is not an http:// or https:// URL"),
        "{}",
        errors[0]
    );
    assert!(
        sim.with_world(|world| world.requests.is_empty()),
        "no request reached the cluster"
    );
}

#[test]
fn a_green_failing_its_analysis_in_prometheus_is_removed_and_the_service_untouched() {
    let (sim, prometheus) = measured();
    // The analysis of a canary step, as the blue-green input: `{{canary}}` names green.
    let analysis = error_ratio_analysis(&prometheus.url, 3);
    let run = action(&sim, BAD)
        .input("strategy", "blue-green")
        .input("rollback-window", "0s")
        .input("analysis", analysis)
        .run();
    assert_never_switched(
        &sim,
        &run,
        "green prod/web-green: analysis failed: 1 failed measurement(s)",
    );
}

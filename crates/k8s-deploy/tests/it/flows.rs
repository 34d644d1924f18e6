//! Stories: a good image, the no-op, the dry-run, env files, and the refusals that change nothing.

use base64::Engine as _;
use kube_sim::{Resource, Verb};

use crate::common::{
    DEPLOYMENT, GOOD, NAMESPACE, NEXT, TOKEN, action, assert_exit, deployment, image, sim, sim_with,
};

#[test]
fn a_good_image_is_deployed_verified_and_annotated() {
    let sim = sim();
    let run = action(&sim, NEXT).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
    assert_eq!(run.output("previous-image"), GOOD);
    assert_eq!(run.output("image"), NEXT);
    assert_eq!(run.output("revision"), "2");
    assert_eq!(run.output("rollback-revision"), "");
    assert_eq!(run.output("failure-reason"), "");
    assert_eq!(image(&sim), NEXT);
    let annotations = deployment(&sim).metadata.annotations.unwrap();
    assert_eq!(
        annotations["kubernetes.io/change-cause"],
        format!("k8s-deploy set {NEXT} (https://github.com/acme/service/actions/runs/4242)")
    );
    assert_eq!(
        annotations["gantry.dev/source-sha"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(annotations["gantry.dev/source-ref"], "v1.1.0");
    // One patch: image and annotations together; a handful of requests in all.
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        1
    );
    let requests: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    // A get, the patch, and a list and a watch each for the deployment, replica sets and pods.
    assert_eq!(requests.len(), 8, "{requests:#?}");
    assert!(run.summary.contains("```mermaid\ngantt"), "{}", run.summary);
    assert!(
        run.summary
            .contains("| pod | state | image | image ID | restarts |")
    );
    assert_eq!(
        run.summary.matches("| Ready |").count(),
        2,
        "{}",
        run.summary
    );
    assert!(
        run.stdout
            .contains("Deployed registry.example/app:1.1: 2 of 2 pods ready")
    );
}

#[test]
fn a_soak_period_passes_without_restarts() {
    let sim = sim();
    let run = action(&sim, NEXT).input("soak", "300ms").run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
    assert!(
        run.stdout.contains("Rolled out; soaking for"),
        "{}",
        run.render()
    );
}

#[test]
fn the_image_already_deployed_is_a_no_op() {
    let sim = sim();
    let run = action(&sim, GOOD).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "unchanged");
    assert_eq!(run.output("revision"), "1");
    assert_eq!(sim.count_requests(Verb::Patch, None), 0);
    // "unchanged" is a verified claim: the rollout was checked complete and healthy.
    assert!(
        run.stdout
            .contains("verifying that its rollout is complete and healthy"),
        "{}",
        run.render()
    );
    assert!(!run.output("image-digest").is_empty());
}

#[test]
fn a_pull_request_gets_a_server_side_dry_run_that_stores_nothing() {
    let sim = sim();
    let before = deployment(&sim);
    let run = action(&sim, NEXT)
        .event("pull_request", &serde_json::json!({"number": 7}))
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "dry-run");
    let after = deployment(&sim);
    assert_eq!(image(&sim), GOOD);
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );
    assert_eq!(after.metadata.generation, before.metadata.generation);
    assert!(
        run.summary.contains(
            "| `spec.template.spec.containers[app].image` | `registry.example/app:1.0` | `registry.example/app:1.1` |"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("`metadata.annotations[kubernetes.io/change-cause]`")
    );
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"resourceVersion \d+", "resourceVersion [RV]"),
        (r"duration-ms=\d+", "duration-ms=[MS]"),
        (r#"duration-ms="\d+""#, r#"duration-ms="[MS]""#),
        (r"(?m)^(    [a-z -]+ :[a-z, ]*e\d+), \d+, \d+$", "$1, [START], [END]"),
        (r"(?m)^::add-mask::.*\n", ""),
    ]}, {
        insta::assert_snapshot!(run.render());
    });
    // An explicit `dry-run: false` deploys even on a pull request.
    let run = action(&sim, NEXT)
        .event("pull_request", &serde_json::json!({"number": 7}))
        .input("dry-run", "false")
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
}

#[test]
fn an_env_file_names_the_image_and_the_deployment() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pre-prod.env");
    std::fs::write(
        &path,
        format!(
            "# pre-prod\nexport IMAGE_NAME=\"registry.example/app\"\nexport IMAGE_VERSION='1.1' # bumped\nexport NAME=service\nexport DEPLOYMENT_NAME={DEPLOYMENT}\n"
        ),
    )
    .unwrap();
    let run = gantry_testkit::ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .input("kubeconfig", sim.kubeconfig_yaml())
        .input("namespace", NAMESPACE)
        .input("env-file", &path)
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn a_base64_kubeconfig_with_its_namespace_works() {
    let sim = sim();
    let kubeconfig = sim
        .kubeconfig_yaml()
        .replace("namespace: default", "namespace: prod");
    let encoded = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
    let run = gantry_testkit::ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .input("kubeconfig", encoded)
        .input("deployment", DEPLOYMENT)
        .input("image", NEXT)
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
}

#[test]
fn a_missing_deployment_fails_with_a_clear_error() {
    let sim = sim();
    let run = action(&sim, NEXT).input("deployment", "nope").run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed");
    assert_eq!(
        run.errors(),
        ["failed to deploy to prod/nope: deployment prod/nope not found"]
    );
    assert_eq!(
        run.summary,
        "## k8s-deploy: nothing deployed to prod/nope\n\nfailed to deploy to prod/nope: deployment prod/nope not found\n\n"
    );
    assert_eq!(sim.count_requests(Verb::Patch, None), 0);
}

#[test]
fn a_paused_deployment_is_refused_and_left_alone() {
    let sim = sim_with("  paused: true\n", "");
    let run = action(&sim, NEXT).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed");
    assert!(
        run.errors()[0].contains("deployment prod/web is paused; resume it"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
    assert_eq!(sim.count_requests(Verb::Patch, None), 0);
}

#[test]
fn a_bad_kubeconfig_is_bad_input_and_never_echoed() {
    let sim = sim();
    let bad = format!("apiVersion: v1\nclusters: [{{token: {TOKEN}");
    let run = action(&sim, NEXT).input("kubeconfig", &bad).run();
    assert_exit(&run, 2);
    assert!(
        run.errors()[0].starts_with("input `kubeconfig`: is not valid YAML (line"),
        "{}",
        run.render()
    );
    let run = action(&sim, NEXT).input("kubeconfig", "garbage").run();
    assert_exit(&run, 2);
    assert_eq!(
        run.errors(),
        [
            "input `kubeconfig`: is neither kubeconfig YAML, base64 of kubeconfig YAML, nor the path of a readable file"
        ]
    );
    let run = action(&sim, NEXT).input("context", "staging").run();
    assert_exit(&run, 2);
    assert_eq!(run.errors(), ["input `context`: has no context `staging`"]);
    assert!(sim.requests().is_empty(), "{:#?}", sim.requests());
}

#[test]
fn a_bad_env_file_is_bad_input_and_changes_nothing() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.env");
    std::fs::write(
        &path,
        "export IMAGE_NAME=registry.example/app\nexport IMAGE_VERSION\n",
    )
    .unwrap();
    let run = gantry_testkit::ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .input("kubeconfig", sim.kubeconfig_yaml())
        .input("env-file", &path)
        .run();
    assert_exit(&run, 2);
    assert_eq!(
        run.errors(),
        [format!(
            "input `env-file`: `{}`: line 2 is not `export NAME=value`",
            path.display()
        )]
    );
    let missing = dir.path().join("missing.env");
    let run = gantry_testkit::ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .input("kubeconfig", sim.kubeconfig_yaml())
        .input("env-file", &missing)
        .run();
    assert_exit(&run, 2);
    assert!(run.errors()[0].starts_with("input `env-file`: cannot read"));
    assert!(sim.requests().is_empty());
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn the_kubeconfig_token_never_shows_even_in_debug_logs() {
    let sim = sim();
    let run = action(&sim, NEXT).env("RUNNER_DEBUG", "1").run();
    assert_exit(&run, 0);
    assert!(run.stdout.contains(&format!("::add-mask::{TOKEN}")));
}

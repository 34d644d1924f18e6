//! A cluster that serves TLS and checks tokens: the server is verified against the kubeconfig's
//! CA, an unknown token (401) and a token that may not patch (403) fail the step clearly and
//! change nothing; a client-side dry-run works with a read-only token, and reads only.

use std::time::Duration;

use kube_sim::{Access, Config, KubeSim, Resource, SimHandle, TokenGrant, Verb};
use serde_json::json;

use crate::common::{
    GOOD, NEXT, TOKEN, UNPULLABLE, action, assert_exit, deployment, image, images, manifests,
    patch_deployment, rolled_out,
};

const READER: &str = "kube-CANARY-reader-81d2";
const DEPLOYER: &str = "kube-CANARY-deployer-3e7b";

/// A TLS cluster whose tokens are `TOKEN` (admin), `READER` and `DEPLOYER`, rolled out.
fn secured() -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 40.0,
        images: images(),
        manifests: manifests("", ""),
        token: TOKEN.to_owned(),
        tls: Some(sim_tls::Identity::self_made("kube-sim").expect("certificates")),
        tokens: vec![
            TokenGrant::new(TOKEN, "admin", Access::admin()),
            TokenGrant::new(READER, "system:serviceaccount:ci:reader", Access::read()),
            TokenGrant::new(
                DEPLOYER,
                "system:serviceaccount:ci:deployer",
                Access::deploy(),
            ),
        ],
        ..Config::default()
    })
    .expect("simulator starts");
    assert!(sim.wait_until_blocking(Duration::from_secs(20), rolled_out));
    sim
}

#[test]
fn a_tls_cluster_is_verified_against_the_kubeconfig_ca_and_deployed_to() {
    let sim = secured();
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    let run = action(&sim, NEXT)
        .input("kubeconfig", sim.kubeconfig_for(DEPLOYER))
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    run.assert_never_shows(DEPLOYER);
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn a_server_the_ca_did_not_sign_is_refused() {
    let sim = secured();
    let impostor = secured();
    // The kubeconfig trusts the impostor's CA but points at the real server.
    let kubeconfig = impostor
        .kubeconfig_for(TOKEN)
        .replace(&impostor.url(), &sim.url());
    let run = action(&sim, NEXT).input("kubeconfig", kubeconfig).run();
    assert_exit(&run, 1);
    let error = run.errors().join("\n");
    assert!(error.contains("certificate"), "{}", run.render());
    assert_eq!(image(&sim), GOOD, "nothing changed");
}

#[test]
fn an_unknown_token_fails_with_401_and_changes_nothing() {
    let sim = secured();
    let wrong = "kube-CANARY-wrong-token-0a9c";
    let run = action(&sim, NEXT)
        .input("kubeconfig", sim.kubeconfig_for(wrong))
        .run();
    assert_exit(&run, 1);
    run.assert_never_shows(wrong);
    let error = run.errors().join("\n");
    assert!(error.contains("Unauthorized"), "{}", run.render());
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_read_only_token_fails_with_403_and_changes_nothing() {
    let sim = secured();
    let run = action(&sim, NEXT)
        .input("kubeconfig", sim.kubeconfig_for(READER))
        .run();
    assert_exit(&run, 1);
    run.assert_never_shows(READER);
    let error = run.errors().join("\n");
    assert!(
        error.contains(
            "User \"system:serviceaccount:ci:reader\" cannot patch resource \"deployments\""
        ),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), GOOD);
}

/// The requests the step made, as `VERB path status`.
fn requests(sim: &KubeSim) -> Vec<String> {
    sim.requests()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.verb.map_or("?", Verb::as_str),
                r.path,
                r.status
            )
        })
        .collect()
}

/// Asserts that the step sent no write: only get, list and watch.
fn assert_read_only(sim: &KubeSim) {
    let writes: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| !matches!(r.verb, Some(Verb::Get | Verb::List | Verb::Watch)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
}

#[test]
fn a_client_dry_run_needs_only_get_and_works_with_a_read_only_token() {
    let sim = secured();
    let before = deployment(&sim);
    let run = action(&sim, NEXT)
        .event("pull_request", &json!({"number": 7}))
        .input("kubeconfig", sim.kubeconfig_for(READER))
        .input("dry-run", "client")
        .run();
    assert_exit(&run, 0);
    run.assert_never_shows(READER);
    assert_eq!(run.output("result"), "dry-run", "{}", run.render());
    assert_eq!(run.output("previous-image"), GOOD);
    assert_eq!(run.output("image"), NEXT);
    assert_eq!(run.output("revision"), "1");
    assert_eq!(run.output("failure-reason"), "");
    // One request: a get of the Deployment.
    assert_eq!(
        requests(&sim),
        ["get /apis/apps/v1/namespaces/prod/deployments/web 200"]
    );
    let after = deployment(&sim);
    assert_eq!(image(&sim), GOOD);
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );
    // The diff shows the old and the new image, labelled as computed locally.
    assert!(
        run.stdout.contains(
            "Client-side diff, computed locally from the live Deployment; what the server would add or refuse (admission, defaulting, validation) is not checked; nothing was sent:\n  spec.template.spec.containers[app].image: registry.example/app:1.0 -> registry.example/app:1.1\n"
        ),
        "{}",
        run.render()
    );
    assert!(
        run.summary.contains(
            "### What the deploy would change (client-side diff)\n\nThe client-side diff: computed locally from the live Deployment; what the server would add or refuse (admission, defaulting, validation) is not checked.\n\n"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(
            "| `spec.template.spec.containers[app].image` | `registry.example/app:1.0` | `registry.example/app:1.1` |"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| `metadata.annotations[kubernetes.io/change-cause]` |  | `k8s-deploy set registry.example/app:1.1"),
        "{}",
        run.summary
    );
}

#[test]
fn a_server_dry_run_is_refused_to_a_read_only_token() {
    let sim = secured();
    for mode in ["server", "true"] {
        let run = action(&sim, NEXT)
            .input("kubeconfig", sim.kubeconfig_for(READER))
            .input("dry-run", mode)
            .run();
        assert_exit(&run, 1);
        assert_eq!(run.output("result"), "failed", "{}", run.render());
        let error = run.errors().join("\n");
        assert!(
            error.contains("failed to dry-run the patch of deployment prod/web")
                && error.contains(
                    "User \"system:serviceaccount:ci:reader\" cannot patch resource \"deployments\""
                ),
            "{}",
            run.render()
        );
    }
    assert_eq!(image(&sim), GOOD);
}

#[test]
fn a_client_dry_run_of_the_running_image_checks_the_rollout_with_reads_only() {
    let sim = secured();
    let run = action(&sim, GOOD)
        .input("kubeconfig", sim.kubeconfig_for(READER))
        .input("dry-run", "client")
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "unchanged", "{}", run.render());
    assert_read_only(&sim);
}

#[test]
fn a_client_dry_run_never_rolls_back_even_a_failing_image_of_ours() {
    let sim = secured();
    // An interrupted deploy of ours left an image that cannot be pulled.
    patch_deployment(
        &sim,
        json!({
            "metadata": {"annotations": {"gantry.dev/image": UNPULLABLE}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": UNPULLABLE}]}}},
        }),
    );
    let run = action(&sim, UNPULLABLE)
        .input("kubeconfig", sim.kubeconfig_for(TOKEN))
        .input("dry-run", "client")
        .run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    assert!(
        run.output("failure-reason")
            .ends_with("not rolled back: this is a dry-run, which changes nothing"),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), UNPULLABLE);
    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        0
    );
    assert_read_only(&sim);
}

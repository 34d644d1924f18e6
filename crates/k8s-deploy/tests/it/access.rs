//! A cluster that serves TLS and checks tokens: the server is verified against the kubeconfig's
//! CA, an unknown token (401) and a token that may not patch (403) fail the step clearly and
//! change nothing.

use std::time::Duration;

use kube_sim::{Access, Config, KubeSim, SimHandle, TokenGrant};

use crate::common::{GOOD, NEXT, TOKEN, action, assert_exit, image, images, manifests, rolled_out};

const READER: &str = "kube-CANARY-reader-81d2";
const DEPLOYER: &str = "kube-CANARY-deployer-3e7b";

/// A TLS cluster whose tokens are `TOKEN` (admin), `READER` and `DEPLOYER`, rolled out.
fn secured() -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 40.0,
        images: images(),
        manifests: manifests("", ""),
        token: TOKEN.to_owned(),
        tls: true,
        tokens: vec![
            TokenGrant::new(TOKEN, "admin", Access::Admin),
            TokenGrant::new(READER, "system:serviceaccount:ci:reader", Access::Read),
            TokenGrant::new(
                DEPLOYER,
                "system:serviceaccount:ci:deployer",
                Access::PatchDeployments,
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

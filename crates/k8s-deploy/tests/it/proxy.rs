//! A cluster reachable only through the corporate proxy: a real forwarding proxy (tinyproxy) must
//! see the Kubernetes API's `CONNECT`, whether the proxy comes from `HTTPS_PROXY` or from the
//! kubeconfig's `proxy-url`; `NO_PROXY` naming the cluster's host goes around it. The API server's
//! certificate is signed by a private CA the kubeconfig names (by file) or `SSL_CERT_FILE` holds.

use std::time::Duration;

use gantry_testkit::proxy::Tinyproxy;
use kube_sim::{Access, Config, KubeSim, SimHandle, TokenGrant};

use crate::common::{NEXT, TOKEN, action, assert_exit, image, images, manifests, rolled_out};

/// A TLS cluster with a CA of its own, rolled out.
fn cluster() -> SimHandle {
    cluster_serving(sim_tls::Identity::self_made("kube-sim").expect("certificates"))
}

/// A TLS cluster serving `tls`'s certificate, rolled out.
fn cluster_serving(tls: sim_tls::Identity) -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 40.0,
        images: images(),
        manifests: manifests("", ""),
        token: TOKEN.to_owned(),
        tls: Some(tls),
        tokens: vec![TokenGrant::new(TOKEN, "admin", Access::admin())],
        ..Config::default()
    })
    .expect("simulator starts");
    assert!(sim.wait_until_blocking(Duration::from_secs(20), rolled_out));
    sim
}

fn authority(sim: &SimHandle) -> String {
    sim.url().trim_start_matches("https://").to_owned()
}

/// Deploys `NEXT` with `kubeconfig` and `HTTPS_PROXY` set to `proxy`, which must have tunnelled
/// to the cluster.
fn deploys_through(sim: &SimHandle, proxy: &Tinyproxy, kubeconfig: String) {
    let run = action(sim, NEXT)
        .input("kubeconfig", kubeconfig)
        .env("HTTPS_PROXY", &proxy.url)
        .run();
    assert_exit(&run, 0);
    assert_eq!(image(sim), NEXT);
    assert!(
        proxy.connects().contains(&authority(sim)),
        "the proxy saw {:?}",
        proxy.connects()
    );
}

#[test]
fn the_kubernetes_api_is_reached_through_https_proxy() {
    let (sim, proxy) = (cluster(), Tinyproxy::start());
    deploys_through(&sim, &proxy, sim.kubeconfig_for(TOKEN));
}

#[test]
fn the_kubeconfig_proxy_url_is_used_and_no_proxy_goes_around_the_runner_proxy() {
    let (sim, proxy) = (cluster(), Tinyproxy::start());
    let kubeconfig = sim.kubeconfig_for(TOKEN).replacen(
        "server:",
        &format!("proxy-url: {}\n    server:", proxy.url),
        1,
    );
    assert!(kubeconfig.contains("proxy-url:"), "{kubeconfig}");
    let run = action(&sim, NEXT).input("kubeconfig", kubeconfig).run();
    assert_exit(&run, 0);
    let connects = proxy.connects();
    assert!(
        !connects.is_empty() && connects.iter().all(|to| *to == authority(&sim)),
        "the proxy saw {connects:?}"
    );

    let bypassed = Tinyproxy::start();
    let run = action(&sim, crate::common::GOOD)
        .input("kubeconfig", sim.kubeconfig_for(TOKEN))
        .env("HTTPS_PROXY", &bypassed.url)
        .env("NO_PROXY", "example.com,127.0.0.0/8")
        .run();
    assert_exit(&run, 0);
    assert_eq!(
        bypassed.connects(),
        Vec::<String>::new(),
        "NO_PROXY names the cluster"
    );
}

/// The kubeconfig without its `certificate-authority-data` line.
fn without_ca(kubeconfig: &str) -> String {
    let mut trimmed = kubeconfig
        .lines()
        .filter(|line| !line.contains("certificate-authority-data:"))
        .collect::<Vec<_>>()
        .join("\n");
    trimmed.push('\n');
    assert_ne!(trimmed, kubeconfig, "the kubeconfig named a CA");
    trimmed
}

#[test]
fn a_cluster_a_private_ca_signed_is_reached_through_the_proxy_trusting_the_kubeconfig_ca_file() {
    let ca = sim_tls::Ca::new("corp CA").unwrap();
    let (sim, proxy) = (
        cluster_serving(ca.issue("kube-sim").unwrap()),
        Tinyproxy::start(),
    );
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("corp-ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let kubeconfig = without_ca(&sim.kubeconfig_for(TOKEN)).replacen(
        "server:",
        &format!("certificate-authority: {}\n    server:", ca_file.display()),
        1,
    );
    deploys_through(&sim, &proxy, kubeconfig);
}

#[test]
fn without_the_ca_the_cluster_is_refused_naming_the_certificate_and_ssl_cert_file_can_give_it() {
    let ca = sim_tls::Ca::new("corp CA").unwrap();
    let (sim, proxy) = (
        cluster_serving(ca.issue("kube-sim").unwrap()),
        Tinyproxy::start(),
    );
    let kubeconfig = without_ca(&sim.kubeconfig_for(TOKEN));
    let run = action(&sim, NEXT)
        .input("kubeconfig", &kubeconfig)
        .env("HTTPS_PROXY", &proxy.url)
        .run();
    assert_exit(&run, 1);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains(
            "the API server's TLS certificate is not trusted (invalid peer certificate: UnknownIssuer); set the cluster's certificate-authority-data (or certificate-authority) in the kubeconfig to the CA that signed it (without one, SSL_CERT_FILE, which replaces the system roots, must hold it)"
        ),
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), crate::common::GOOD, "nothing changed");
    assert_eq!(
        proxy.connects(),
        [authority(&sim)],
        "tried once, not retried"
    );

    // The runner's trust store, when the kubeconfig names no CA.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    std::fs::write(&bundle, ca.pem()).unwrap();
    let run = action(&sim, NEXT)
        .input("kubeconfig", kubeconfig)
        .env("HTTPS_PROXY", &proxy.url)
        .env("SSL_CERT_FILE", &bundle)
        .run();
    assert_exit(&run, 0);
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn a_proxy_that_is_not_a_url_is_bad_input_naming_where_it_came_from() {
    let sim = cluster();
    let run = action(&sim, NEXT)
        .input("kubeconfig", sim.kubeconfig_for(TOKEN))
        .env("HTTPS_PROXY", "http://bad host:3128")
        .run();
    assert_exit(&run, 2);
    assert_eq!(
        run.errors(),
        ["environment variable `HTTPS_PROXY`: is not a URL; set it as http://host:port"],
        "{}",
        run.render()
    );
    assert_eq!(image(&sim), crate::common::GOOD, "nothing changed");
}

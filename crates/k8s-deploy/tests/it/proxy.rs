//! A cluster reachable only through the corporate proxy: a real forwarding proxy (tinyproxy) must
//! see the Kubernetes API's `CONNECT`, whether the proxy comes from `HTTPS_PROXY` or from the
//! kubeconfig's `proxy-url`; `NO_PROXY` naming the cluster's host goes around it.

use std::time::Duration;

use gantry_testkit::proxy::Tinyproxy;
use kube_sim::{Access, Config, KubeSim, SimHandle, TokenGrant};

use crate::common::{NEXT, TOKEN, action, assert_exit, image, images, manifests, rolled_out};

/// A TLS cluster, rolled out.
fn cluster() -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 40.0,
        images: images(),
        manifests: manifests("", ""),
        token: TOKEN.to_owned(),
        tls: true,
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

#[test]
fn the_kubernetes_api_is_reached_through_https_proxy() {
    let (sim, proxy) = (cluster(), Tinyproxy::start());
    let run = action(&sim, NEXT)
        .input("kubeconfig", sim.kubeconfig_for(TOKEN))
        .env("HTTPS_PROXY", &proxy.url)
        .run();
    assert_exit(&run, 0);
    assert_eq!(image(&sim), NEXT);
    assert!(
        proxy.connects().contains(&authority(&sim)),
        "the proxy saw {:?}",
        proxy.connects()
    );
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

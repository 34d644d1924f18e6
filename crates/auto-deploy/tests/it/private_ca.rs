//! Self-hosted runners behind a corporate proxy with a private CA, with real parts: github-sim
//! and the verify endpoint serve HTTPS with certificates one private CA signed, a real tinyproxy
//! tunnels every connection (its log must show the `CONNECT`s), and the CA reaches the action the
//! way a runner gives it, as `SSL_CERT_FILE`, which replaces the system roots as the README says.

use std::path::{Path, PathBuf};

use gantry_testkit::Transcript;
use gantry_testkit::proxy::Tinyproxy;
use github_sim::SimHandle;
use sim_tls::Ca;

use crate::common::{
    BOT_TOKEN, Service, action, action_run_by, assert_deployed, assert_no_writes,
    following_service_tls, is_prerelease, sim_over_tls,
};

/// `host:port` of a URL, as a `CONNECT` names it.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or_default().to_owned()
}

/// A PEM bundle of `pems` in `dir`, as `SSL_CERT_FILE` names one.
fn bundle(dir: &Path, pems: &[&str]) -> PathBuf {
    let path = dir.join("bundle.pem");
    std::fs::write(&path, pems.concat()).expect("write the bundle");
    path
}

/// The corporate network: a private CA that signed github-sim's certificate, a proxy, and a
/// bundle of the CA (not yet given to the action).
struct Corporate {
    ca: Ca,
    sim: SimHandle,
    proxy: Tinyproxy,
    bundle: PathBuf,
    _dir: tempfile::TempDir,
}

impl Corporate {
    fn new() -> Self {
        let ca = Ca::new("corp CA").unwrap();
        let sim = sim_over_tls(ca.issue("github-sim").unwrap());
        let dir = tempfile::tempdir().unwrap();
        Self {
            bundle: bundle(dir.path(), &[&ca.pem()]),
            sim,
            ca,
            proxy: Tinyproxy::start(),
            _dir: dir,
        }
    }

    /// Deploys v1.4.0 through the proxy, trusting the bundle, verifying `service`.
    fn deploy_verifying(&self, service: &Service) -> Transcript {
        action(&self.sim, "v1.4.0")
            .input("verify-url", &service.url)
            .env("HTTPS_PROXY", &self.proxy.url)
            .env("SSL_CERT_FILE", &self.bundle)
            .run()
    }
}

fn the_deploy_and_its_verification_go_through_the_proxy_trusting_the_ca_in_ssl_cert_file() {
    let corporate = Corporate::new();
    let (sim, proxy) = (&corporate.sim, &corporate.proxy);
    assert!(sim.url().starts_with("https://127.0.0.1:"), "{}", sim.url());
    let service = following_service_tls(sim, corporate.ca.issue("service").unwrap());
    let run = corporate.deploy_verifying(&service);
    assert_deployed(&run);
    assert_eq!(run.output("verified"), "true");
    assert!(
        run.output("pr-url")
            .starts_with(&format!("{}/acme/landing-zone/pull/", sim.url())),
        "html_url says https: {}",
        run.output("pr-url")
    );
    let connects = proxy.connects();
    for server in [authority(sim.url()), authority(&service.url)] {
        assert!(
            connects.contains(&server),
            "{server}: the proxy saw {connects:?}"
        );
    }
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .all(|request| request.starts_with("CONNECT ")),
        "nothing went through the proxy in clear text: {requests:?}"
    );
}

fn without_the_ca_the_first_request_fails_naming_the_certificate_and_nothing_is_written() {
    let Corporate { sim, proxy, .. } = Corporate::new();
    let run = action(&sim, "v1.4.0").env("HTTPS_PROXY", &proxy.url).run();
    assert_eq!(run.code, 1, "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    let server = authority(sim.url());
    assert!(
        errors[0].contains(&format!(
            "the TLS certificate of {server} is not trusted (invalid peer certificate: UnknownIssuer): if a private CA signed it, set SSL_CERT_FILE to a PEM bundle of that CA and the public roots"
        )),
        "{}",
        run.render()
    );
    run.assert_never_shows(BOT_TOKEN);
    assert!(sim.requests().is_empty(), "no request got through");
    assert_eq!(proxy.connects(), [server], "tried once, not retried");
    assert!(is_prerelease(&sim, "v1.4.0"));
}

fn a_bundle_without_the_ca_is_named_as_the_trust_store_that_refused() {
    let ca = Ca::new("corp CA").unwrap();
    let sim = sim_over_tls(ca.issue("github-sim").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let other = Ca::new("another CA").unwrap();
    let path = bundle(dir.path(), &[&other.pem()]);
    let run = action(&sim, "v1.4.0").env("SSL_CERT_FILE", &path).run();
    assert_eq!(run.code, 1, "{}", run.render());
    assert_eq!(run.errors().len(), 1, "{}", run.render());
    assert!(
        run.errors()[0].contains(&format!(
            "SSL_CERT_FILE ({}) replaces the system roots and holds no CA that signed it; add that CA to the bundle",
            path.display()
        )),
        "{}",
        run.render()
    );
    assert_no_writes(&sim);
}

fn a_verify_endpoint_the_bundle_does_not_trust_fails_verification_at_once() {
    let corporate = Corporate::new();
    let (sim, proxy) = (&corporate.sim, &corporate.proxy);
    let stranger = Ca::new("someone else's CA").unwrap();
    let service = following_service_tls(sim, stranger.issue("service").unwrap());
    let run = corporate.deploy_verifying(&service);
    assert_eq!(run.code, 1, "{}", run.render());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].contains(&format!(
            "{}: the TLS certificate of {} is not trusted (invalid peer certificate: UnknownIssuer)",
            service.url,
            authority(&service.url)
        )),
        "{}",
        run.render()
    );
    let to_service = proxy
        .connects()
        .into_iter()
        .filter(|to| *to == authority(&service.url))
        .count();
    assert_eq!(to_service, 1, "probed once, not polled");
    assert!(is_prerelease(sim, "v1.4.0"), "not promoted");
}

/// Runs auto-deploy in a mount namespace of its own whose system trust store (`/etc/ssl/certs`,
/// where the platform verifier looks on Debian) holds only `roots`: a stand-in for the public
/// roots that a test can sign with. Needs `unshare` and unprivileged user namespaces (or root).
fn with_system_roots(dir: &Path, roots: &str) -> PathBuf {
    let certs = dir.join("system-certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(certs.join("ca-certificates.crt"), roots).unwrap();
    let wrapper = dir.join("auto-deploy");
    // No shell on the way: dash drops `INPUT_LANDING-ZONE-REPO` and every other name with a `-`.
    let in_namespace = "import os, subprocess, sys; \
        subprocess.run(['mount', '--bind', sys.argv[1], '/etc/ssl/certs'], check=True); \
        os.execv(sys.argv[2], sys.argv[2:])";
    std::fs::write(
        &wrapper,
        format!(
            "#!/usr/bin/env python3\nimport os, sys\nos.execvp('unshare', ['unshare', '--user', '--map-root-user', '--mount', 'python3', '-c', {in_namespace:?}, {certs:?}, {binary:?}] + sys.argv[1:])\n",
            certs = certs.display().to_string(),
            binary = env!("CARGO_BIN_EXE_auto-deploy"),
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap();
    wrapper
}

fn ssl_cert_file_replaces_the_system_roots_so_the_bundle_must_hold_both() {
    let public = Ca::new("a public root").unwrap();
    let corp = Ca::new("corp CA").unwrap();
    // GitHub's certificate chains to a root of the system store.
    let sim = sim_over_tls(public.issue("github-sim").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let run_by = with_system_roots(dir.path(), &public.pem());

    let system = action_run_by(&run_by, &sim, "v1.3.0").run();
    assert_eq!(
        system.code,
        0,
        "the system roots are trusted: {}",
        system.render()
    );
    assert_eq!(system.output("result"), "unchanged");

    let corp_only = bundle(dir.path(), &[&corp.pem()]);
    let replaced = action_run_by(&run_by, &sim, "v1.3.0")
        .env("SSL_CERT_FILE", &corp_only)
        .run();
    assert_eq!(replaced.code, 1, "{}", replaced.render());
    assert!(
        replaced.errors()[0].contains(&format!(
            "SSL_CERT_FILE ({}) replaces the system roots",
            corp_only.display()
        )),
        "{}",
        replaced.render()
    );

    let both = bundle(dir.path(), &[&public.pem(), &corp.pem()]);
    let run = action_run_by(&run_by, &sim, "v1.3.0")
        .env("SSL_CERT_FILE", &both)
        .run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert_eq!(run.output("result"), "unchanged");
}

crate::stories!(
    the_deploy_and_its_verification_go_through_the_proxy_trusting_the_ca_in_ssl_cert_file,
    without_the_ca_the_first_request_fails_naming_the_certificate_and_nothing_is_written,
    a_bundle_without_the_ca_is_named_as_the_trust_store_that_refused,
    a_verify_endpoint_the_bundle_does_not_trust_fails_verification_at_once,
    ssl_cert_file_replaces_the_system_roots_so_the_bundle_must_hold_both,
);

//! Corporate runners: requests go through `HTTPS_PROXY` unless `NO_PROXY` names the host, and an
//! extra CA bundle (`SSL_CERT_FILE`) is trusted or rejected with a message naming the file.

use std::time::Duration;

use gantry_github::{ClientConfig, GithubError};

use crate::{client, repo, runtime, sim};

/// An API address where nothing listens: only a proxy can reach "GitHub" there.
const UNREACHABLE_API: &str = "http://127.0.0.1:9";

fn config(proxy: Option<&str>, no_proxy: Option<&str>) -> ClientConfig {
    ClientConfig {
        api_url: UNREACHABLE_API.to_owned(),
        proxy: proxy.map(str::to_owned),
        no_proxy: no_proxy.map(str::to_owned),
        deadline: Duration::from_secs(2),
        ..ClientConfig::default()
    }
}

#[test]
fn requests_go_through_the_proxy() {
    let sim = sim();
    let client = client(config(Some(sim.url()), None)).unwrap();
    let commit = runtime()
        .block_on(client.tag_commit(&repo(), "v1.0.0"))
        .unwrap();
    assert!(commit.is_some_and(|sha| sha.len() == 40));
    let seen = sim.requests();
    assert!(
        seen.iter()
            .any(|r| r.path == "/repos/acme/service/git/ref/tags/v1.0.0"),
        "the proxy forwarded it: {seen:?}"
    );
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    let sim = sim();
    let client = client(config(Some(sim.url()), Some("127.0.0.1"))).unwrap();
    let error = runtime()
        .block_on(client.tag_commit(&repo(), "v1.0.0"))
        .unwrap_err();
    assert!(matches!(error, GithubError::Deadline { .. }), "{error}");
    assert!(error.to_string().contains("could not connect"), "{error}");
    assert!(sim.requests().is_empty(), "nothing went through the proxy");
}

#[test]
fn an_extra_ca_bundle_is_loaded_or_named_in_the_error() {
    let good = ClientConfig {
        extra_ca_file: Some(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/private-ca.pem").into(),
        ),
        ..ClientConfig::default()
    };
    assert!(client(good).is_ok());
    let dir = tempfile_path("not-a-cert.pem");
    std::fs::write(&dir, "hello").unwrap();
    let bad = ClientConfig {
        extra_ca_file: Some(dir.clone()),
        ..ClientConfig::default()
    };
    let error = client(bad)
        .err()
        .expect("a file without certificates is refused")
        .to_string();
    assert!(error.contains(&dir.display().to_string()), "{error}");
    let missing = ClientConfig {
        extra_ca_file: Some("/nonexistent/ca.pem".into()),
        ..ClientConfig::default()
    };
    let error = client(missing).err().unwrap().to_string();
    assert!(
        error.contains("cannot read CA bundle /nonexistent/ca.pem"),
        "{error}"
    );
}

fn tempfile_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gantry-github-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

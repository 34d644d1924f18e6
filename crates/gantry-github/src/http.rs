//! The one way the suite builds an HTTP client, for GitHub's API and for the endpoints a deploy
//! verifies alike: the runner's proxy and `NO_PROXY` (from gantry-runner, never read from the
//! environment here or by reqwest), its CA bundle, timeouts and a user agent.
//!
//! `SSL_CERT_FILE` is what the platform's certificate verifier reads as the trust store: set, it
//! *replaces* the system roots (the meaning OpenSSL, curl, git and pip give it), so a bundle for a
//! corporate CA must also hold the public roots the runner needs (`cat
//! /etc/ssl/certs/ca-certificates.crt corp-ca.pem`). Its certificates are also added to the
//! client explicitly, so that an unreadable or empty file is an error naming it.

use std::time::Duration;

use crate::config::ClientConfig;
use crate::error::GithubError;

/// A client with `config`'s proxy, CA bundle, timeouts and user agent.
pub fn client(config: &ClientConfig) -> Result<reqwest::Client, GithubError> {
    install_crypto_provider();
    let setup = |message: String| GithubError::Setup(message);
    let mut builder = reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .timeout(config.request_timeout)
        .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
        .no_proxy();
    if let Some(proxy) = &config.proxy {
        let proxy = reqwest::Url::parse(proxy).map_err(|e| setup(format!("bad proxy URL: {e}")))?;
        // `NO_PROXY` read once for every client of the suite (gantry-runner's reading, which
        // the Kubernetes client uses too), not reqwest's own.
        let no_proxy = config.no_proxy.clone();
        builder = builder.proxy(reqwest::Proxy::custom(move |url| {
            let host = url.host_str().unwrap_or_default();
            let bypassed = no_proxy
                .as_deref()
                .is_some_and(|list| gantry_runner::no_proxy::bypasses(list, host));
            (!bypassed).then(|| proxy.clone())
        }));
    }
    if let Some(path) = &config.extra_ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| setup(format!("cannot read CA bundle {}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|certificates| !certificates.is_empty())
            .ok_or_else(|| {
                setup(format!(
                    "CA bundle {} holds no PEM certificates",
                    path.display()
                ))
            })?;
        builder = builder.tls_certs_merge(certificates);
    }
    builder
        .build()
        .map_err(|e| setup(e.without_url().to_string()))
}

/// When `error` is a server certificate the trust store refused: what to say about it (the
/// server, rustls's reason, and what to change in `config`'s trust). Retrying would not help.
pub fn certificate_refused(error: &reqwest::Error, config: &ClientConfig) -> Option<String> {
    let problem = gantry_runner::certificate::problem(error)?;
    let server = error.url().map_or_else(
        || "the server".to_owned(),
        |url| {
            format!(
                "{}:{}",
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or(443)
            )
        },
    );
    Some(gantry_runner::certificate::untrusted(
        &server,
        &problem,
        config.extra_ca_file.as_deref(),
    ))
}

/// reqwest is built without a crypto provider (so kube's and ours cannot clash): install ring once.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

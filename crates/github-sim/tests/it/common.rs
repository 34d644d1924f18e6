//! Shared helpers: the test world, a small JSON client over reqwest, and the standalone binary
//! for independent clients (`PyGitHub`, octokit).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Once;

use github_sim::{GithubSim, World};
use reqwest::Method;
use serde_json::Value;

pub const WORLD: &str = r#"
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
seed: 42
identities:
  - { login: alice, kind: user, tokens: [alice-token] }
  - { login: bob, kind: user, tokens: [bob-token] }
  - { login: deploy-bot, kind: app, tokens: [app-token] }
  - { login: github-actions, kind: github_token, tokens: [workflow-token] }
  - login: reader
    kind: user
    tokens: [reader-token]
    permissions:
      acme/service: { contents: read, pull_requests: read, checks: read, statuses: read }
  - { login: tiny, kind: user, tokens: [tiny-token], rate_limit: 3 }
repos:
  - name: acme/service
    branches:
      main:
        files: { "README.md": "hello\n", "deploy/env": "export IMAGE_VERSION=1.0.0\n" }
      feature:
        files: { "feature.txt": "new\n" }
    tags: { v1.0.0: main }
    protection:
      main: { required_checks: [lint, test], required_approvals: 1 }
  - name: acme/landing-zone
    branches:
      main:
        files: { "env/prod.env": "export IMAGE_VERSION=1.0.0\n" }
ci:
  - repo: acme/landing-zone
    base: main
    checks:
      - { name: lint, after_ms: 1000 }
      - { name: test, conclusion: failure, after_ms: 2000 }
"#;

static CRYPTO: Once = Once::new();

pub fn install_crypto() {
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub async fn start() -> GithubSim {
    install_crypto();
    GithubSim::start(World::from_yaml(WORLD).expect("test world loads"))
        .await
        .expect("sim starts")
}

/// A response: status, headers, JSON body (Null when empty or not JSON).
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or_default()
    }
}

/// A client authenticated with one token (or an App's JWT).
#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    scheme: &'static str,
    http: reqwest::Client,
}

impl Api {
    pub fn new(sim: &GithubSim, token: &str) -> Api {
        install_crypto();
        Api {
            base: sim.url().to_owned(),
            token: Some(token.to_owned()),
            scheme: "token",
            http: reqwest::Client::new(),
        }
    }

    /// A client sending `Authorization: Bearer <credential>` (how a JWT must be sent).
    pub fn bearer(sim: &GithubSim, credential: &str) -> Api {
        Api {
            scheme: "Bearer",
            ..Api::new(sim, credential)
        }
    }

    pub fn anonymous(sim: &GithubSim) -> Api {
        Api {
            token: None,
            ..Api::new(sim, "")
        }
    }

    pub async fn req(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            rb = rb.header("authorization", format!("{} {t}", self.scheme));
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request is answered");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        Resp {
            status,
            headers,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.req(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.req(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.req(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.req(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str, body: Option<Value>) -> Resp {
        self.req(Method::DELETE, path, body, &[]).await
    }
}

/// The head commit of a branch.
pub async fn head(api: &Api, repo: &str, branch: &str) -> String {
    let r = api
        .get(&format!("/repos/{repo}/git/ref/heads/{branch}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["object"]["sha"].as_str().expect("sha").to_owned()
}

pub fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub use gantry_testkit::hermetic;

/// The `github-sim` binary serving a world file; killed on drop.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on `world` and returns it with its base URL (its first line of stdout).
pub fn standalone(world: &Path) -> (Server, String) {
    standalone_with(world, &[])
}

/// As [`standalone`], with more options (`--tls-cert`, `--tls-key`).
pub fn standalone_with(world: &Path, args: &[&std::ffi::OsStr]) -> (Server, String) {
    let mut child = hermetic(
        Command::new(env!("CARGO_BIN_EXE_github-sim"))
            .arg("--world")
            .arg(world)
            .args(args),
    )
    .stdout(Stdio::piped())
    .spawn()
    .expect("github-sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
        "first line is the base URL: {url:?}"
    );
    (server, url)
}

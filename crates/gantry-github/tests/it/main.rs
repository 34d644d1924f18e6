//! gantry-github against the GitHub API simulator: the network settings corporate runners need,
//! and lists longer than one page.

mod network;
mod pagination;
mod queue;

use gantry_github::{Client, ClientConfig, Workflow, WorkflowToken};
use gantry_runner::Secret;
use github_sim::{SimHandle, World};

const WORLD: &str = r"
identities:
  - login: release-bot
    kind: bot
    tokens: [ghp_releasebot]
  - login: ci-app
    kind: app
    tokens: [ghs_ciapp]
repos:
  - name: acme/service
    branches:
      main:
        files: {README.md: hello}
    tags:
      v1.0.0: main
";

fn sim() -> SimHandle {
    SimHandle::spawn(World::from_yaml(WORLD).expect("world parses")).expect("simulator starts")
}

fn client(config: ClientConfig) -> Result<Client<Workflow>, gantry_github::GithubError> {
    Client::new(config, &WorkflowToken::new(Secret::new("ghp_releasebot")))
}

fn repo() -> gantry_github::RepoName {
    gantry_github::RepoName::parse("acme/service").unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

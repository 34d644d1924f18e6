//! The real `actions/create-github-app-token` (its bundled `dist/main.cjs` and `dist/post.cjs`
//! from the reference folder, run by node as the runner runs a node action) signs in as the App
//! against the simulator, mints a token narrowed to the landing zone, and its post step revokes
//! it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gantry_testkit::{ActionRun, Transcript};
use github_sim::{GithubSim, World};

use crate::apps::acts_only_on_the_landing_zone;
use crate::common::{Api, hermetic, install_crypto};
use crate::keys::{TestKey, key};

const ACTION: &str = "actions/create-github-app-token@df432ceedc7162793a195dd1713ff69aefc7379e";

/// The action's `dist/` in the reference folder (`../shared/reference` from the repository root).
fn dist() -> PathBuf {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
    let dist = reference.join("actions").join(ACTION).join("dist");
    assert!(
        dist.join("main.cjs").is_file() && dist.join("post.cjs").is_file(),
        "{} is missing: this test runs the real create-github-app-token from the reference \
         folder (../shared/reference beside the repository)",
        dist.display()
    );
    let node = hermetic(Command::new("node").arg("--version"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        node,
        "node is not installed: the test runs create-github-app-token's dist/main.cjs with node (20 or later)"
    );
    dist
}

/// The world on the wall clock (the action signs its JWT with it), with the App installed on
/// every repository of `acme`.
fn world() -> World {
    World::from_yaml(&format!(
        r#"
identities:
  - {{ login: alice, kind: user, tokens: [alice-token] }}
repos:
  - name: acme/service
  - name: acme/landing-zone
    branches: {{ main: {{ files: {{ "env/prod.env": "export IMAGE_VERSION=1.0.0\n" }} }} }}
  - name: acme/vault
    private: true
apps:
  - id: 4242
    slug: gantry-deployer
    key: {key}
    installations:
      - id: 77
        account: acme
        permissions: {{ contents: write, pull_requests: write, checks: write, statuses: write }}
"#,
        key = TestKey::yaml(&key().pkcs1, 6)
    ))
    .expect("world loads")
}

/// Runs one of the action's scripts as the runner runs a node action: `INPUT_*` for its inputs
/// (with action.yml's defaults), the job's `GITHUB_REPOSITORY*`, `GITHUB_STATE`, and `STATE_*`
/// for what the main step saved.
async fn run_step(
    script: PathBuf,
    url: &str,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Transcript {
    let mut run = ActionRun::new("node")
        .arg(script)
        .input("github-api-url", url)
        .input("skip-token-revoke", "false")
        .env("GITHUB_REPOSITORY", "acme/service")
        .env("GITHUB_REPOSITORY_OWNER", "acme");
    for (name, value) in inputs {
        run = run.input(name, *value);
    }
    for (name, value) in env {
        run = run.env(*name, *value);
    }
    tokio::task::spawn_blocking(move || run.run())
        .await
        .expect("the step ran")
}

#[tokio::test(flavor = "multi_thread")]
async fn create_github_app_token_mints_a_token_narrowed_to_the_landing_zone_and_revokes_it() {
    let dist = dist();
    install_crypto();
    let sim = GithubSim::start(world()).await.expect("sim starts");
    let state = tempfile::tempdir().expect("temp dir");
    let state_file = state.path().join("github_state");
    std::fs::write(&state_file, "").expect("GITHUB_STATE");
    let state_path = state_file.to_string_lossy().into_owned();
    let pem = &key().pkcs1;

    let main = run_step(
        dist.join("main.cjs"),
        sim.url(),
        &[
            ("app-id", "4242"),
            ("private-key", pem),
            ("repositories", "landing-zone"),
            ("permission-contents", "write"),
            ("permission-pull-requests", "write"),
        ],
        &[("GITHUB_STATE", &state_path)],
    )
    .await;
    assert_eq!(main.code, 0, "{}", main.render());
    let token = main.output("token").to_owned();
    assert!(token.starts_with("ghs_"), "{token}");
    assert_eq!(main.output("installation-id"), "77");
    assert_eq!(main.output("app-slug"), "gantry-deployer");
    assert!(
        main.commands()
            .iter()
            .any(|c| c.command == "add-mask" && c.data == token),
        "the token is masked\n{}",
        main.render()
    );
    let calls: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /repos/acme/landing-zone/installation 200",
            "POST /app/installations/77/access_tokens 201",
        ]
    );

    // Exactly what was asked: contents and pull requests on the landing zone.
    let bot = Api::new(&sim, &token);
    acts_only_on_the_landing_zone(&bot, "create-github-app-token's token").await;

    // The post step revokes it with the state the main step saved.
    let saved = gantry_runner::file_command::parse(
        &std::fs::read_to_string(&state_file).expect("GITHUB_STATE"),
    )
    .expect("GITHUB_STATE parses as the runner parses it");
    assert_eq!(saved.get("token"), Some(&token));
    let expires_at = saved.get("expiresAt").expect("expiresAt saved");
    let post = run_step(
        dist.join("post.cjs"),
        sim.url(),
        &[],
        &[("STATE_token", &token), ("STATE_expiresAt", expires_at)],
    )
    .await;
    assert_eq!(post.code, 0, "{}", post.render());
    assert!(post.stdout.contains("Token revoked"), "{}", post.render());
    let after = bot.get("/repos/acme/landing-zone").await;
    assert_eq!((after.status, after.message()), (401, "Bad credentials"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_github_app_token_covers_an_owner_and_fails_outside_the_installation() {
    let dist = dist();
    install_crypto();
    let sim = GithubSim::start(world()).await.expect("sim starts");
    // An owner without repositories: every repository of the installation, private ones too.
    let owner = run_step(
        dist.join("main.cjs"),
        sim.url(),
        &[
            ("app-id", "4242"),
            ("private-key", &key().pkcs8),
            ("owner", "acme"),
        ],
        &[],
    )
    .await;
    assert_eq!(owner.code, 0, "{}", owner.render());
    assert_eq!(owner.output("installation-id"), "77");
    assert_eq!(sim.requests()[0].path, "/users/acme/installation");
    let all = Api::new(&sim, owner.output("token"));
    assert_eq!(all.get("/repos/acme/vault").await.status, 200);

    let step = run_step(
        dist.join("main.cjs"),
        sim.url(),
        &[
            ("app-id", "4242"),
            ("private-key", &key().pkcs1),
            ("owner", "other"),
            ("repositories", "tool"),
        ],
        &[],
    )
    .await;
    assert_eq!(step.code, 1, "{}", step.render());
    assert!(step.outputs.is_empty(), "{}", step.render());
    assert!(
        step.errors().iter().any(|e| e.contains("Not Found")),
        "{}",
        step.render()
    );
}

//! The world file format, the blocking handle, the binary's CLI, and mergeability states that
//! need a particular setup (strict protection, non-required failing checks).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use github_sim::{SimHandle, World, WorldError};
use serde_json::json;

use crate::common::{Api, b64, head, install_crypto};

#[test]
fn example_worlds_load_and_bad_ones_say_why() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in [
        "examples/world.yaml",
        "examples/bench-world.yaml",
        "tests/pygithub_world.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let world = World::from_yaml(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!world.identities.is_empty(), "{f}");
    }
    let w = World::from_yaml(&std::fs::read_to_string(dir.join("examples/world.yaml")).unwrap())
        .unwrap();
    assert!(
        w.repos["acme/service"]
            .refs
            .contains_key("refs/tags/v1.2.0")
    );
    assert!(matches!(
        World::from_yaml("repos: [{name: nope}]"),
        Err(WorldError::BadRepoName(_))
    ));
    assert!(matches!(
        World::from_yaml("repos: [{name: a/b, branches: {x: {from: y}}}]"),
        Err(WorldError::UnknownFrom { .. })
    ));
    assert!(matches!(
        World::from_yaml("ci: [{repo: a/b}]"),
        Err(WorldError::UnknownCiRepo(_))
    ));
    assert!(
        World::from_yaml("identities: [{login: a, colour: red}]").is_err(),
        "unknown keys are rejected"
    );
    assert!(World::from_yaml("").unwrap().repos.is_empty());
}

#[test]
fn blocking_handle_serves_until_dropped() {
    install_crypto();
    let sim = SimHandle::spawn(World::from_yaml(crate::common::WORLD).unwrap()).unwrap();
    let url = format!("{}/repos/acme/service", sim.url());
    let body = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let r = reqwest::Client::new()
                .get(&url)
                .header("authorization", "token alice-token")
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        })
    })
    .join()
    .unwrap();
    assert_eq!(body, 200);
    assert_eq!(sim.requests().len(), 1);
    let addr = sim.url().trim_start_matches("http://").to_owned();
    drop(sim);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the listener is gone after drop"
    );
}

#[test]
fn binary_prints_its_url_first_and_starts_empty() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_github-sim"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    install_crypto();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/_sim/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(status, 200);
    let bad = Command::new(env!("CARGO_BIN_EXE_github-sim"))
        .args(["--world", "/nonexistent.yaml"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("failed to read world file /nonexistent.yaml")
    );
}

#[tokio::test]
async fn strict_protection_reports_behind_and_failing_extra_checks_unstable() {
    install_crypto();
    let world = r#"
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
identities:
  - { login: alice, tokens: [a] }
  - { login: app, kind: app, tokens: [app] }
repos:
  - name: o/r
    branches:
      main: { files: { f: "1" } }
      topic: { files: { g: "1" } }
    protection:
      main: { strict: true }
"#;
    let sim = github_sim::GithubSim::start(World::from_yaml(world).unwrap())
        .await
        .unwrap();
    let api = Api::new(&sim, "a");
    let app = Api::new(&sim, "app");
    let pr = api
        .post(
            "/repos/o/r/pulls",
            json!({"title": "t", "head": "topic", "base": "main"}),
        )
        .await;
    let path = format!("/repos/o/r/pulls/{}", pr.json["number"]);
    api.get(&path).await;
    assert_eq!(api.get(&path).await.json["mergeable_state"], "clean");

    let sha = head(&api, "o/r", "topic").await;
    app.post(
        "/repos/o/r/check-runs",
        json!({"name": "extra", "head_sha": sha, "conclusion": "failure"}),
    )
    .await;
    api.get(&path).await;
    assert_eq!(api.get(&path).await.json["mergeable_state"], "unstable");

    api.put(
        "/repos/o/r/contents/h",
        json!({"message": "base moves", "content": b64("x")}),
    )
    .await;
    api.get(&path).await;
    assert_eq!(api.get(&path).await.json["mergeable_state"], "behind");
    let refused = api.put(&format!("{path}/merge"), json!({})).await;
    assert_eq!(refused.status, 405);

    let updated = api
        .put(
            &format!("{path}/update-branch"),
            json!({"expected_head_sha": sha}),
        )
        .await;
    assert_eq!(updated.status, 202, "{}", updated.json);
    let new_head = head(&api, "o/r", "topic").await;
    assert_ne!(new_head, sha);
    api.get(&path).await;
    assert_eq!(api.get(&path).await.json["mergeable_state"], "clean");
    let sync = sim
        .events()
        .into_iter()
        .filter(|e| e.action.as_deref() == Some("synchronize"))
        .count();
    assert_eq!(sync, 1);
}

#[tokio::test]
async fn rust_side_pushes_synchronise_pull_requests() {
    let sim = crate::common::start().await;
    let api = Api::new(&sim, "alice-token");
    let pr = api
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "t", "head": "x", "base": "main"}),
        )
        .await;
    assert_eq!(pr.status, 422, "no branch x yet");
    let sha = sim
        .world(|w| {
            w.push_files(
                "acme/landing-zone",
                "x",
                &[("a.txt", Some("a"))],
                "add a",
                Some("bob"),
            )
        })
        .unwrap();
    let pr = api
        .post(
            "/repos/acme/landing-zone/pulls",
            json!({"title": "t", "head": "x", "base": "main"}),
        )
        .await;
    assert_eq!(pr.json["head"]["sha"], sha.hex().as_str());
    let n = pr.json["number"].as_u64().unwrap();
    let next = sim
        .world(|w| w.push_files("acme/landing-zone", "x", &[("a.txt", None)], "rm a", None))
        .unwrap();
    let pr = api
        .get(&format!("/repos/acme/landing-zone/pulls/{n}"))
        .await;
    assert_eq!(pr.json["head"]["sha"], next.hex().as_str());
    let actions: Vec<_> = sim.events().into_iter().filter_map(|e| e.action).collect();
    assert!(actions.contains(&"synchronize".to_owned()));
    let commit = api
        .get(&format!("/repos/acme/landing-zone/git/commits/{sha}"))
        .await;
    assert_eq!(commit.json["author"]["name"], "bob");
}

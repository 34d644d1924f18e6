//! Story: a release tool creates, moves and deletes refs, and every change is a real commit.

use serde_json::json;

use crate::common::{Api, head, start};

#[tokio::test]
async fn create_update_and_delete_refs_like_github() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let main = head(&api, "acme/service", "main").await;
    assert_eq!(main.len(), 40);

    let created = api
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/release", "sha": main}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["ref"], "refs/heads/release");
    assert_eq!(created.json["object"]["sha"], main.as_str());

    let again = api
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/release", "sha": main}),
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(again.message(), "Reference already exists");
    assert_eq!(again.json["status"], "422");

    let bad = api
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/x", "sha": "0".repeat(40)}),
        )
        .await;
    assert_eq!((bad.status, bad.message()), (422, "Object does not exist"));
    let short = api
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "heads", "sha": main}),
        )
        .await;
    assert_eq!(short.status, 422);

    // Moving `release` back to an unrelated commit (feature is not a descendant of main's
    // future) is a non-fast-forward unless forced.
    let feature = head(&api, "acme/service", "feature").await;
    let ff = api
        .patch(
            "/repos/acme/service/git/refs/heads/release",
            json!({"sha": feature}),
        )
        .await;
    assert_eq!(ff.status, 200, "feature descends from main: {}", ff.json);
    let back = api
        .patch(
            "/repos/acme/service/git/refs/heads/release",
            json!({"sha": main}),
        )
        .await;
    assert_eq!(
        (back.status, back.message()),
        (422, "Update is not a fast forward")
    );
    let forced = api
        .patch(
            "/repos/acme/service/git/refs/heads/release",
            json!({"sha": main, "force": true}),
        )
        .await;
    assert_eq!(forced.status, 200);

    let list = api
        .get("/repos/acme/service/git/matching-refs/heads/")
        .await;
    let names: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "refs/heads/feature",
            "refs/heads/main",
            "refs/heads/release"
        ]
    );
    let tags = api.get("/repos/acme/service/git/refs/tags").await;
    assert_eq!(tags.json[0]["ref"], "refs/tags/v1.0.0");

    assert_eq!(
        api.delete("/repos/acme/service/git/refs/heads/release", None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.get("/repos/acme/service/git/ref/heads/release")
            .await
            .status,
        404
    );
    let gone = api
        .delete("/repos/acme/service/git/refs/heads/release", None)
        .await;
    assert_eq!(
        (gone.status, gone.message()),
        (422, "Reference does not exist")
    );
}

#[tokio::test]
async fn commits_have_parents_and_git_shas() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let feature = head(&api, "acme/service", "feature").await;
    let main = head(&api, "acme/service", "main").await;
    let c = api
        .get(&format!("/repos/acme/service/git/commits/{feature}"))
        .await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json["parents"][0]["sha"], main.as_str());
    // The README blob id is git's own: `printf 'hello\n' | git hash-object --stdin`.
    let readme = api.get("/repos/acme/service/contents/README.md").await;
    assert_eq!(
        readme.json["sha"],
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
    let list = api.get("/repos/acme/service/commits?sha=feature").await;
    assert_eq!(list.json.as_array().unwrap().len(), 2);
    let single = api.get("/repos/acme/service/commits/feature").await;
    assert_eq!(single.json["sha"], feature.as_str());
}

#[tokio::test]
async fn annotated_tags_peel_to_commits() {
    crate::common::install_crypto();
    let world = r#"
identities: [{login: alice, tokens: [a]}]
repos:
  - name: o/r
    branches: { main: { files: { f: "1" } } }
    tags:
      v1: main
      v2: { target: main, message: "Release 2", tagger: alice }
"#;
    let sim = github_sim::GithubSim::start(github_sim::World::from_yaml(world).unwrap())
        .await
        .unwrap();
    let api = Api::new(&sim, "a");
    let main = head(&api, "o/r", "main").await;
    let v1 = api.get("/repos/o/r/git/ref/tags/v1").await;
    assert_eq!(
        (
            v1.json["object"]["type"].as_str(),
            v1.json["object"]["sha"].as_str()
        ),
        (Some("commit"), Some(main.as_str()))
    );
    let v2 = api.get("/repos/o/r/git/ref/tags/v2").await;
    assert_eq!(v2.json["object"]["type"], "tag");
    let tag_sha = v2.json["object"]["sha"].as_str().unwrap();
    assert_ne!(tag_sha, main);
    let tag = api.get(&format!("/repos/o/r/git/tags/{tag_sha}")).await;
    assert_eq!(tag.status, 200);
    assert_eq!(
        (
            tag.json["object"]["type"].as_str(),
            tag.json["object"]["sha"].as_str()
        ),
        (Some("commit"), Some(main.as_str()))
    );
    assert_eq!(tag.json["message"], "Release 2");
    assert_eq!(tag.json["tagger"]["name"], "alice");
    // Everything that takes a ref peels the tag.
    assert_eq!(
        api.get("/repos/o/r/commits/v2").await.json["sha"],
        main.as_str()
    );

    let created = api
        .post(
            "/repos/o/r/git/tags",
            json!({"tag": "v3", "message": "three", "object": main, "type": "commit"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let sha = created.json["sha"].as_str().unwrap();
    let r = api
        .post(
            "/repos/o/r/git/refs",
            json!({"ref": "refs/tags/v3", "sha": sha}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["object"]["type"], "tag");
}

#[tokio::test]
async fn tree_and_commit_ids_agree_with_git_itself() {
    crate::common::install_crypto();
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let main = head(&api, "acme/service", "main").await;
    let commit = api
        .get(&format!("/repos/acme/service/git/commits/{main}"))
        .await
        .json;
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str], input: Option<&str>| {
        use std::io::Write as _;
        let mut child = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("git runs");
        if let Some(i) = input {
            child.stdin.take().unwrap().write_all(i.as_bytes()).unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    git(&["init", "-q", "."], None);
    std::fs::write(dir.path().join("README.md"), "hello\n").unwrap();
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    std::fs::write(
        dir.path().join("deploy/env"),
        "export IMAGE_VERSION=1.0.0\n",
    )
    .unwrap();
    git(&["add", "."], None);
    let tree = git(&["write-tree"], None);
    assert_eq!(
        commit["tree"]["sha"],
        tree.as_str(),
        "git write-tree agrees"
    );
    // The world clock starts at 2026-01-01T00:00:00Z; the seed commit is GitHub's.
    let body = format!(
        "tree {tree}\nauthor GitHub <noreply@github.com> 1767225600 +0000\ncommitter GitHub <noreply@github.com> 1767225600 +0000\n\nInitial commit"
    );
    let sha = git(&["hash-object", "-t", "commit", "--stdin"], Some(&body));
    assert_eq!(sha, main, "git hash-object agrees on the commit id");
}

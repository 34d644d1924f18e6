//! Story: auto-deploy bumps a version in an env file through the contents API.

use serde_json::json;

use crate::common::{Api, b64, head, start};

#[tokio::test]
async fn update_needs_the_current_blob_sha() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let path = "/repos/acme/landing-zone/contents/env/prod.env";
    let got = api.get(path).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["encoding"], "base64");
    let content: String = got.json["content"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(content, b64("export IMAGE_VERSION=1.0.0\n"));
    let blob = got.json["sha"].as_str().unwrap().to_owned();
    let raw = api
        .req(
            reqwest::Method::GET,
            path,
            None,
            &[("accept", "application/vnd.github.raw")],
        )
        .await;
    assert_eq!(raw.status, 200);

    let before = head(&api, "acme/landing-zone", "main").await;
    let no_sha = api
        .put(
            path,
            json!({"message": "bump", "content": b64("export IMAGE_VERSION=1.1.0\n")}),
        )
        .await;
    assert_eq!(no_sha.status, 422);
    assert_eq!(
        no_sha.message(),
        "Invalid request.\n\n\"sha\" wasn't supplied."
    );

    let stale = "1".repeat(40);
    let conflict = api
        .put(
            path,
            json!({"message": "bump", "content": b64("x"), "sha": stale}),
        )
        .await;
    assert_eq!(conflict.status, 409);
    assert_eq!(
        conflict.message(),
        format!("env/prod.env does not match {stale}")
    );

    let ok = api
        .put(path, json!({"message": "bump to 1.1.0", "content": b64("export IMAGE_VERSION=1.1.0\n"), "sha": blob}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let commit = ok.json["commit"]["sha"].as_str().unwrap();
    assert_eq!(ok.json["commit"]["parents"][0]["sha"], before.as_str());
    assert_eq!(ok.json["commit"]["message"], "bump to 1.1.0");
    assert_eq!(head(&api, "acme/landing-zone", "main").await, commit);

    // The old sha is now stale.
    let again = api
        .put(
            path,
            json!({"message": "again", "content": b64("y"), "sha": blob}),
        )
        .await;
    assert_eq!(again.status, 409);

    let created = api
        .put(
            "/repos/acme/landing-zone/contents/env/new.env",
            json!({"message": "add", "content": b64("a"), "branch": "main"}),
        )
        .await;
    assert_eq!(created.status, 201);
    let listing = api.get("/repos/acme/landing-zone/contents/env").await;
    assert_eq!(listing.json.as_array().unwrap().len(), 2);
    let root = api.get("/repos/acme/landing-zone/contents/").await;
    assert_eq!(root.json[0]["type"], "dir");

    let new_sha = created.json["content"]["sha"].as_str().unwrap();
    let deleted = api
        .delete(
            "/repos/acme/landing-zone/contents/env/new.env",
            Some(json!({"message": "rm", "sha": new_sha})),
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert!(deleted.json["content"].is_null());
    assert_eq!(
        api.get("/repos/acme/landing-zone/contents/env/new.env")
            .await
            .status,
        404
    );
    let missing_branch = api
        .put(
            "/repos/acme/landing-zone/contents/x",
            json!({"message": "m", "content": b64("a"), "branch": "nope", "sha": stale}),
        )
        .await;
    assert_eq!(missing_branch.status, 404);
}

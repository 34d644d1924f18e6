//! Story: create-prerelease makes a prerelease for a tag; auto-deploy later promotes it.

use serde_json::json;

use crate::common::{Api, start};

#[tokio::test]
async fn create_get_promote_and_delete_releases() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let created = api
        .post("/repos/acme/service/releases", json!({"tag_name": "v1.1.0-rc.1", "name": "1.1.0rc1", "body": "notes", "prerelease": true}))
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["prerelease"], true);
    let id = created.json["id"].as_u64().unwrap();
    // Publishing created the tag at the default branch.
    assert_eq!(
        api.get("/repos/acme/service/git/ref/tags/v1.1.0-rc.1")
            .await
            .status,
        200
    );

    let dup = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v1.1.0-rc.1"}),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(
        dup.json["errors"][0],
        json!({"resource": "Release", "code": "already_exists", "field": "tag_name"})
    );

    assert_eq!(
        api.get(&format!("/repos/acme/service/releases/{id}"))
            .await
            .json["tag_name"],
        "v1.1.0-rc.1"
    );
    assert_eq!(
        api.get("/repos/acme/service/releases/tags/v1.1.0-rc.1")
            .await
            .json["id"],
        id
    );
    assert_eq!(
        api.get("/repos/acme/service/releases/latest").await.status,
        404
    );

    let promoted = api
        .patch(
            &format!("/repos/acme/service/releases/{id}"),
            json!({"prerelease": false, "make_latest": "true"}),
        )
        .await;
    assert_eq!(promoted.json["prerelease"], false);
    assert_eq!(
        api.get("/repos/acme/service/releases/latest").await.json["id"],
        id
    );

    let draft = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v2.0.0", "draft": true}),
        )
        .await;
    assert_eq!(draft.status, 201);
    assert!(draft.json["published_at"].is_null());
    assert_eq!(
        api.get("/repos/acme/service/git/ref/tags/v2.0.0")
            .await
            .status,
        404,
        "drafts create no tag"
    );
    assert_eq!(
        api.get("/repos/acme/service/releases/tags/v2.0.0")
            .await
            .status,
        404
    );
    let list = api.get("/repos/acme/service/releases").await;
    assert_eq!(list.json.as_array().unwrap().len(), 2);

    let notes = api
        .post(
            "/repos/acme/service/releases/generate-notes",
            json!({"tag_name": "v2.0.0", "previous_tag_name": "v1.0.0"}),
        )
        .await;
    assert_eq!(notes.status, 200);
    assert_eq!(notes.json["name"], "v2.0.0");
    assert!(
        notes.json["body"]
            .as_str()
            .unwrap()
            .contains("compare/v1.0.0...v2.0.0")
    );

    assert_eq!(
        api.delete(&format!("/repos/acme/service/releases/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.get(&format!("/repos/acme/service/releases/{id}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn make_latest_true_false_legacy_and_the_default() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let create = |tag: &'static str, latest: Option<&'static str>| {
        let mut body = json!({"tag_name": tag});
        if let Some(l) = latest {
            body["make_latest"] = json!(l);
        }
        let api = &api;
        async move {
            let r = api.post("/repos/acme/service/releases", body).await;
            assert_eq!(r.status, 201, "{}", r.json);
            r.json["id"].as_u64().unwrap()
        }
    };
    let latest =
        || async { api.get("/repos/acme/service/releases/latest").await.json["tag_name"].clone() };
    let first = create("v1.0.0", Some("true")).await;
    assert_eq!(latest().await, "v1.0.0");
    create("v1.1.0", None).await;
    assert_eq!(latest().await, "v1.1.0", "make_latest defaults to true");
    create("v1.2.0", Some("false")).await;
    assert_eq!(latest().await, "v1.1.0", "false leaves the latest alone");
    let bad = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v9", "make_latest": "maybe"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    create("v0.9.0", Some("legacy")).await;
    assert_eq!(
        latest().await,
        "v0.9.0",
        "legacy: the most recently published"
    );
    let edited = api
        .patch(
            &format!("/repos/acme/service/releases/{first}"),
            json!({"body": "edited"}),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(
        latest().await,
        "v1.0.0",
        "an update without make_latest makes it latest too"
    );
    create("v2.0.0-rc.1", None).await;
    let pre = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v2.0.0-rc.2", "prerelease": true, "make_latest": "true"}),
        )
        .await;
    assert_eq!(pre.status, 201);
    assert_eq!(
        latest().await,
        "v2.0.0-rc.1",
        "a prerelease never becomes latest"
    );
}

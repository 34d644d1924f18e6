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

//! Story: tokens map to identities with per-repo permissions; the request log says who called.

use serde_json::json;

use crate::common::{Api, b64, start};

#[tokio::test]
async fn tokens_identities_and_permissions() {
    let sim = start().await;
    let anon = Api::anonymous(&sim).get("/repos/acme/service").await;
    assert_eq!(
        (anon.status, anon.message()),
        (401, "Requires authentication")
    );
    let bad = Api::new(&sim, "nope").get("/repos/acme/service").await;
    assert_eq!((bad.status, bad.message()), (401, "Bad credentials"));

    let bearer = Api::anonymous(&sim)
        .req(
            reqwest::Method::GET,
            "/user",
            None,
            &[("authorization", "Bearer bob-token")],
        )
        .await;
    assert_eq!(bearer.status, 200);
    assert_eq!(bearer.json["login"], "bob");

    let reader = Api::new(&sim, "reader-token");
    assert_eq!(
        reader.get("/repos/acme/service").await.json["permissions"]["push"],
        false
    );
    let denied = reader
        .put(
            "/repos/acme/service/contents/x",
            json!({"message": "m", "content": b64("x")}),
        )
        .await;
    assert_eq!(
        (denied.status, denied.message()),
        (403, "Resource not accessible by personal access token")
    );
    assert_eq!(
        reader.get("/repos/acme/landing-zone").await.status,
        404,
        "repos outside the grant are invisible"
    );
    let status = reader
        .post(
            "/repos/acme/service/statuses/main",
            json!({"state": "success"}),
        )
        .await;
    assert_eq!(status.status, 403);

    let log = sim.requests();
    let who: Vec<(Option<&str>, u16)> = log
        .iter()
        .map(|r| (r.identity.as_deref(), r.status))
        .collect();
    assert_eq!(
        who,
        [
            (None, 401),
            (None, 401),
            (Some("bob"), 200),
            (Some("reader"), 200),
            (Some("reader"), 403),
            (Some("reader"), 404),
            (Some("reader"), 403)
        ]
    );
}

#[tokio::test]
async fn unknown_routes_are_loud() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let r = api
        .get("/repos/acme/service/pulls/1/requested_reviewers")
        .await;
    assert_eq!(r.status, 501);
    assert_eq!(
        r.message(),
        "github-sim does not implement GET /repos/acme/service/pulls/1/requested_reviewers"
    );
    let r = api.get("/gists").await;
    assert_eq!(r.status, 404);
    assert!(r.message().contains("GET /gists"));
    let r = api.post("/_sim/nothing", json!({})).await;
    assert_eq!(r.status, 404);
    assert!(r.message().contains("POST /_sim/nothing"));
}

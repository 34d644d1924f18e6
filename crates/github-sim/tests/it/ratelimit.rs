//! Story: a poller uses `ETags` (304s are free), pages through lists with Link headers, and runs
//! out of its hourly budget.

use serde_json::json;

use crate::common::{Api, head, start};

#[tokio::test]
async fn etags_make_polling_free() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let first = api.get("/repos/acme/service").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("5000"));
    assert_eq!(first.header("x-ratelimit-used"), Some("1"));
    assert_eq!(first.header("x-ratelimit-resource"), Some("core"));
    assert!(first.header("x-github-request-id").is_some());
    assert_eq!(
        first.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let etag = first.header("etag").unwrap().to_owned();
    let remaining = first.header("x-ratelimit-remaining").unwrap().to_owned();

    let again = api
        .req(
            reqwest::Method::GET,
            "/repos/acme/service",
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(
        again.header("x-ratelimit-remaining"),
        Some(remaining.as_str()),
        "a 304 spends nothing"
    );
    let weak = format!("W/{etag}");
    let weak_hit = api
        .req(
            reqwest::Method::GET,
            "/repos/acme/service",
            None,
            &[("if-none-match", &weak)],
        )
        .await;
    assert_eq!(weak_hit.status, 304);

    // A change to the resource changes the ETag.
    let main = head(&api, "acme/service", "main").await;
    api.post(
        "/repos/acme/service/git/refs",
        json!({"ref": "refs/heads/n", "sha": main}),
    )
    .await;
    let pulls = api.get("/repos/acme/service/pulls").await;
    let etag = pulls.header("etag").unwrap().to_owned();
    api.post(
        "/repos/acme/service/pulls",
        json!({"title": "t", "head": "feature", "base": "main"}),
    )
    .await;
    let changed = api
        .req(
            reqwest::Method::GET,
            "/repos/acme/service/pulls",
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, 200);

    let log = sim.requests();
    let conditional: Vec<_> = log
        .iter()
        .filter(|r| r.conditional)
        .map(|r| r.status)
        .collect();
    assert_eq!(conditional, [304, 304, 200]);
}

#[tokio::test]
async fn link_headers_page_like_github() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let main = head(&api, "acme/service", "main").await;
    for i in 0..5 {
        api.post(
            "/repos/acme/service/git/refs",
            json!({"ref": format!("refs/heads/b{i}"), "sha": main}),
        )
        .await;
    }
    let p1 = api
        .get("/repos/acme/service/git/matching-refs/heads/b?per_page=2")
        .await;
    assert_eq!(p1.json.as_array().unwrap().len(), 2);
    let base = sim.url();
    let path = "/repos/acme/service/git/matching-refs/heads/b";
    assert_eq!(
        p1.header("link").unwrap(),
        format!(
            "<{base}{path}?per_page=2&page=2>; rel=\"next\", <{base}{path}?per_page=2&page=3>; rel=\"last\""
        )
    );
    let p3 = api.get(&format!("{path}?per_page=2&page=3")).await;
    assert_eq!(p3.json.as_array().unwrap().len(), 1);
    assert_eq!(
        p3.header("link").unwrap(),
        format!(
            "<{base}{path}?per_page=2&page=2>; rel=\"prev\", <{base}{path}?per_page=2&page=1>; rel=\"first\""
        )
    );
}

#[tokio::test]
async fn budget_runs_out_with_githubs_403() {
    let sim = start().await;
    let tiny = Api::new(&sim, "tiny-token");
    for left in ["2", "1", "0"] {
        let r = tiny.get("/repos/acme/service").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(left));
    }
    let limited = tiny.get("/repos/acme/service").await;
    assert_eq!(limited.status, 403);
    assert!(
        limited.message().starts_with("API rate limit exceeded"),
        "{}",
        limited.json
    );
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = limited
        .header("x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    // The world clock starts at 2026-01-01T00:00:00Z and is frozen: the window ends an hour later.
    assert_eq!(reset, 1_767_225_600 + 3600);
    let rate = tiny.get("/rate_limit").await;
    assert_eq!(rate.json["resources"]["core"]["remaining"], 0);
    // Another token has its own budget.
    assert_eq!(
        Api::new(&sim, "alice-token")
            .get("/repos/acme/service")
            .await
            .status,
        200
    );
    // The window resets after simulated time passes.
    sim.advance(std::time::Duration::from_secs(3601));
    assert_eq!(tiny.get("/repos/acme/service").await.status, 200);
}

//! Story: what independent clients (`PyGitHub`, octokit, `gh`, curl) send on the wire is answered
//! as GitHub answers it: encoded `Link` URLs, HEAD, Basic auth, API versions, typed bodies,
//! and rate-limit headers on every answer.

use std::io::{Read as _, Write as _};

use github_sim::{Fault, FaultAction};
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, b64, head, start};

#[tokio::test]
async fn link_urls_are_encoded_and_a_malformed_request_line_gets_an_error_body() {
    let sim = start().await;
    let app = Api::new(&sim, "app-token");
    let main = head(&app, "acme/service", "main").await;
    for _ in 0..2 {
        let r = app
            .post(
                "/repos/acme/service/check-runs",
                json!({"name": "test (ubuntu, 3.11)", "head_sha": main}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
    let page = app
        .get(&format!(
            "/repos/acme/service/commits/{main}/check-runs?check_name=test%20%28ubuntu%2C%203.11%29&filter=all&per_page=1"
        ))
        .await;
    assert_eq!(page.json["total_count"], 2);
    let link = page.header("link").expect("a Link header");
    assert!(
        link.contains("check_name=test+%28ubuntu%2C+3.11%29&filter=all&per_page=1&page=2"),
        "{link}"
    );
    assert!(!link.contains(' ') || !link.split(", ").any(|l| l.contains("? ")));
    // Following the link as a client does gives the second page.
    let next = link
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .and_then(|l| l.split(['<', '>']).nth(1))
        .expect("next link");
    let second = app.get(next.trim_start_matches(sim.url())).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.json["check_runs"][0]["name"], "test (ubuntu, 3.11)");

    // A client that sends raw spaces back gets a 400 with a body saying what is wrong.
    let addr = sim.url().trim_start_matches("http://").to_owned();
    let raw = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /repos/acme/service/commits/main/check-runs?check_name=test (ubuntu) HTTP/1.1\r\nHost: x\r\nAuthorization: token alice-token\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    })
    .await
    .unwrap();
    assert!(raw.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{raw}");
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON error body");
    assert!(v["message"].as_str().unwrap().starts_with("Bad Request"));
    assert_eq!(v["status"], "400");
}

#[tokio::test]
async fn head_answers_as_get_without_a_body_and_costs_the_same() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let get = api.get("/repos/acme/service").await;
    let head = api
        .req(Method::HEAD, "/repos/acme/service", None, &[])
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(
        head.header("content-length"),
        get.header("content-length"),
        "HEAD announces the GET body's length"
    );
    assert!(head.json.is_null(), "no body");
    assert_eq!(
        head.header("x-ratelimit-used"),
        Some("2"),
        "HEAD spends budget"
    );
    let missing = api
        .req(Method::HEAD, "/repos/acme/nothing", None, &[])
        .await;
    assert_eq!(missing.status, 404);
    let log = sim.requests();
    assert_eq!(log[1].method, "HEAD");
}

#[tokio::test]
async fn basic_authentication_with_a_token_as_password_or_user() {
    let sim = start().await;
    let anon = Api::anonymous(&sim);
    for credentials in [
        "x-access-token:alice-token",
        "alice:alice-token",
        "alice-token:x-oauth-basic",
        "alice-token:",
    ] {
        let r = anon
            .req(
                Method::GET,
                "/user",
                None,
                &[("authorization", &format!("Basic {}", b64(credentials)))],
            )
            .await;
        assert_eq!(
            (r.status, &r.json["login"]),
            (200, &json!("alice")),
            "{credentials}"
        );
    }
    let wrong = anon
        .req(
            Method::GET,
            "/user",
            None,
            &[("authorization", &format!("Basic {}", b64("alice:nope")))],
        )
        .await;
    assert_eq!((wrong.status, wrong.message()), (401, "Bad credentials"));
}

#[tokio::test]
async fn api_versions_are_checked_and_echoed() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let default = api.get("/repos/acme/service").await;
    assert_eq!(
        default.header("x-github-api-version-selected"),
        Some("2022-11-28")
    );
    for version in ["2022-11-28", "2026-03-10"] {
        let r = api
            .req(
                Method::GET,
                "/repos/acme/service",
                None,
                &[("x-github-api-version", version)],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-github-api-version-selected"), Some(version));
    }
    let bad = api
        .req(
            Method::GET,
            "/repos/acme/service",
            None,
            &[("x-github-api-version", "v3")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.message().contains("\"v3\", is not a supported version")
            && bad.message().contains("\"2022-11-28\""),
        "{}",
        bad.message()
    );
}

#[tokio::test]
async fn a_wrongly_typed_field_is_422_naming_it() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let r = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v2", "make_latest": true}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.message(),
        "Invalid request.\n\nFor 'properties/make_latest', true is not a string."
    );
    let r = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v2", "draft": "yes"}),
        )
        .await;
    assert_eq!(
        r.message(),
        "Invalid request.\n\nFor 'properties/draft', \"yes\" is not a boolean."
    );
    let r = api
        .req(
            Method::POST,
            "/repos/acme/service/releases",
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(
        r.status, 422,
        "an empty body is an empty object: tag_name is missing"
    );
    let broken = reqwest::Client::new()
        .post(format!("{}/repos/acme/service/releases", sim.url()))
        .header("authorization", "token alice-token")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status().as_u16(), 400);
    assert!(
        api.get("/repos/acme/service/releases/tags/v2").await.status == 404,
        "nothing was created"
    );
}

#[tokio::test]
async fn every_answer_carries_rate_headers_and_rate_limit_lists_every_resource() {
    let sim = start().await;
    let anon = Api::anonymous(&sim).get("/repos/acme/service").await;
    assert_eq!(anon.status, 401);
    assert_eq!(anon.header("x-ratelimit-limit"), Some("60"));
    assert_eq!(anon.header("x-ratelimit-used"), Some("1"));
    let bad = Api::new(&sim, "nope").get("/repos/acme/service").await;
    assert_eq!(bad.header("x-ratelimit-remaining"), Some("58"));

    let api = Api::new(&sim, "alice-token");
    api.get("/repos/acme/service").await;
    sim.add_fault(Fault::new("GET", "/repos/*/*", FaultAction::Status { status: 502 }).times(1));
    let fault = api.get("/repos/acme/service").await;
    assert_eq!(fault.status, 502);
    assert_eq!(fault.header("x-ratelimit-limit"), Some("5000"));
    assert_eq!(
        fault.header("x-ratelimit-used"),
        Some("1"),
        "a fault at the edge spends nothing"
    );

    let limits = api.get("/rate_limit").await;
    let resources = limits.json["resources"].as_object().expect("resources");
    for name in [
        "core",
        "search",
        "graphql",
        "integration_manifest",
        "source_import",
        "code_scanning_upload",
        "actions_runner_registration",
        "scim",
        "dependency_snapshots",
        "code_search",
    ] {
        let r = &resources[name];
        assert!(
            r["limit"].is_u64()
                && r["remaining"].is_u64()
                && r["reset"].is_i64()
                && r["used"].is_u64(),
            "{name}: {r}"
        );
    }
    assert_eq!(resources["core"]["used"], 1);
    assert_eq!(limits.json["rate"]["limit"], 5000);
    let workflow = Api::new(&sim, "workflow-token").get("/rate_limit").await;
    assert_eq!(workflow.json["resources"]["graphql"]["limit"], 1000);
}

//! Story: clients survive server errors, secondary rate limits, dropped connections, cut bodies
//! and responses slower than their timeout.

use std::time::Duration;

use github_sim::{Fault, FaultAction};
use serde_json::json;

use crate::common::{Api, start};

#[tokio::test]
async fn status_faults_and_secondary_limits() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    sim.add_fault(Fault::new("GET", "/repos/*/*", FaultAction::Status { status: 503 }).times(1));
    assert_eq!(api.get("/repos/acme/service").await.status, 503);
    assert_eq!(
        api.get("/repos/acme/service").await.status,
        200,
        "a counted fault runs out"
    );

    sim.add_fault(
        Fault::new(
            "PUT",
            "/repos/**",
            FaultAction::SecondaryRateLimit {
                status: 403,
                retry_after: 7,
            },
        )
        .times(1),
    );
    let limited = api
        .put("/repos/acme/service/pulls/1/merge", json!({}))
        .await;
    assert_eq!(limited.status, 403);
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert!(
        limited
            .message()
            .starts_with("You have exceeded a secondary rate limit")
    );
    let log = sim.requests();
    assert_eq!(
        log[2].fault.as_deref(),
        Some("secondary rate limit 403 retry-after 7")
    );

    // Same seed, same pattern of failures.
    let pattern = |seed: u64| async move {
        let sim = start().await;
        sim.load(
            github_sim::World::from_yaml(
                &crate::common::WORLD.replace("seed: 42", &format!("seed: {seed}")),
            )
            .unwrap(),
        );
        sim.add_fault(
            Fault::new("GET", "/repos/**", FaultAction::Status { status: 500 }).probability(0.5),
        );
        let api = Api::new(&sim, "alice-token");
        let mut out = Vec::new();
        for _ in 0..12 {
            out.push(api.get("/repos/acme/service").await.status);
        }
        out
    };
    let a = pattern(1).await;
    assert_eq!(a, pattern(1).await);
    assert!(a.contains(&500) && a.contains(&200));
}

#[tokio::test]
async fn connection_faults() {
    let sim = start().await;
    crate::common::install_crypto();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/repos/acme/service", sim.url());
    let get = || {
        client
            .get(&url)
            .header("authorization", "token alice-token")
            .send()
    };

    sim.add_fault(Fault::new("GET", "/repos/*/*", FaultAction::ConnectionReset).times(1));
    let err = get()
        .await
        .expect_err("the connection is reset without a response");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("ConnectionReset"),
        "a reset, not a clean close: {chain}"
    );

    sim.add_fault(Fault::new("GET", "/repos/*/*", FaultAction::CloseMidBody).times(1));
    let resp = get().await.expect("headers arrive");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err(), "the body is cut short");

    sim.add_fault(Fault::new("GET", "/repos/*/*", FaultAction::Latency { ms: 1000 }).times(1));
    let err = get().await.expect_err("slower than the client's timeout");
    assert!(err.is_timeout());

    assert_eq!(get().await.unwrap().status(), 200);
    let statuses: Vec<(u16, Option<String>)> = sim
        .requests()
        .into_iter()
        .map(|r| (r.status, r.fault))
        .collect();
    assert_eq!(statuses[0], (0, Some("connection reset".into())));
    assert_eq!(statuses[1], (200, Some("close mid-body".into())));
}

#[tokio::test]
async fn admin_api_over_http() {
    let sim = start().await;
    let admin = Api::anonymous(&sim);
    let r = admin
        .post("/_sim/faults", json!({"method": "GET", "path": "/repos/**", "times": 1, "action": {"kind": "status", "status": 502}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let api = Api::new(&sim, "alice-token");
    assert_eq!(api.get("/repos/acme/service").await.status, 502);
    let log = admin.get("/_sim/requests").await;
    assert_eq!(log.json[0]["status"], 502);
    assert_eq!(
        log.json[0]["identity"], "alice",
        "faulted requests still name the caller"
    );
    assert_eq!(log.json[0]["fault"], "status 502");

    let t0 = admin.get("/_sim/time").await.json["unix_ms"]
        .as_i64()
        .unwrap();
    let t1 = admin.post("/_sim/advance", json!({"ms": 5000})).await.json["unix_ms"]
        .as_i64()
        .unwrap();
    assert_eq!(t1 - t0, 5000);

    let patched = admin
        .req(reqwest::Method::PATCH, "/_sim/world", None, &[])
        .await;
    assert_eq!(patched.status, 200, "an empty patch is fine");
    let client = reqwest::Client::new();
    let yaml = "identities: [{login: carol, tokens: [carol-token]}]\nrepos: [{name: acme/new}]\n";
    let resp = client
        .patch(format!("{}/_sim/world", sim.url()))
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        Api::new(&sim, "carol-token")
            .get("/repos/acme/new")
            .await
            .status,
        200
    );
    let resp = client
        .put(format!("{}/_sim/world", sim.url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        Api::new(&sim, "carol-token")
            .get("/repos/acme/new")
            .await
            .status,
        401,
        "a loaded world replaces the old"
    );
}

#[tokio::test]
async fn a_write_can_be_applied_and_its_answer_lost() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    sim.add_fault(
        Fault::new(
            "POST",
            "/repos/*/*/releases",
            FaultAction::StatusAfterApply { status: 504 },
        )
        .times(1),
    );
    let lost = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v5.0.0"}),
        )
        .await;
    assert_eq!(lost.status, 504);
    assert_eq!(lost.message(), "Gateway Timeout");
    assert_eq!(
        lost.header("x-ratelimit-used"),
        Some("1"),
        "the write was counted"
    );
    let found = api.get("/repos/acme/service/releases/tags/v5.0.0").await;
    assert_eq!(found.status, 200, "GitHub applied the write");
    let retry = api
        .post(
            "/repos/acme/service/releases",
            json!({"tag_name": "v5.0.0"}),
        )
        .await;
    assert_eq!(
        retry.status, 422,
        "a blind retry collides with what was applied"
    );
    let log = sim.requests();
    assert_eq!(log[0].fault.as_deref(), Some("status 504 after apply"));
    assert_eq!(log[0].identity.as_deref(), Some("alice"));
    let fault: Fault = serde_json::from_value(json!({
        "method": "PUT", "path": "/repos/**", "action": {"kind": "status_after_apply", "status": 502}
    }))
    .expect("the admin API spells it status_after_apply");
    assert_eq!(fault.action, FaultAction::StatusAfterApply { status: 502 });
}

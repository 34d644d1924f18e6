//! Story: secondary rate limits, per identity, as GitHub documents them. An App's installation
//! tokens share one budget; a refused write is not applied and is answered with GitHub's 403 and
//! how long to wait; the style of that answer is a fault switch; the counters are readable.

use std::time::Duration;

use github_sim::limits::{Limit, LimitsReport};
use serde_json::json;

use crate::apps::{app_jwt, mint};
use crate::common::{Api, head, start};

/// The login the App's bot is kept under (shown as `gantry-deployer[bot]`).
const BOT: &str = "gantry-deployer";

fn report(sim: &github_sim::GithubSim) -> LimitsReport {
    sim.limits()
}

#[tokio::test]
async fn installation_tokens_share_one_content_budget_and_a_refused_write_is_not_applied() {
    let sim = crate::apps::start().await;
    let admin = Api::anonymous(&sim);
    let patched = admin
        .patch("/_sim/world", json!({"limits": {"content_per_minute": 3}}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.json);
    let app = Api::bearer(&sim, &app_jwt());
    let first = Api::new(&sim, &mint(&app, 77, json!({})).await);
    let second = Api::new(&sim, &mint(&app, 77, json!({})).await);
    // Minting the two tokens was the App's first two writes (the App signs in as its bot).
    let main = head(&first, "acme/landing-zone", "main").await;
    let create = |api: &Api, name: &str| {
        let body = json!({"ref": format!("refs/heads/{name}"), "sha": main});
        let api = api.clone();
        async move { api.post("/repos/acme/landing-zone/git/refs", body).await }
    };
    assert_eq!(create(&first, "one").await.status, 201);
    let refused = create(&second, "two").await;
    assert_eq!(refused.status, 403, "{}", refused.json);
    assert!(
        refused
            .message()
            .starts_with("You have exceeded a secondary rate limit. Please wait a few minutes"),
        "{}",
        refused.message()
    );
    let request_id = refused.header("x-github-request-id").expect("request id");
    assert!(refused.message().contains(request_id));
    assert_eq!(
        refused.json["documentation_url"],
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
    );
    // The clock is frozen: the wait is in simulated seconds, until the first write leaves.
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_ne!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        first
            .get("/repos/acme/landing-zone/git/ref/heads/two")
            .await
            .status,
        404,
        "a refused create is not applied"
    );
    // Another identity has its own budget; reads are no content.
    let alice = Api::new(&sim, "alice-token");
    let other = alice
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/alice", "sha": head(&alice, "acme/service", "main").await}),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.json);

    sim.advance(Duration::from_secs(60));
    assert_eq!(create(&second, "two").await.status, 201);

    let counted = report(&sim);
    assert_eq!(counted.limits.content_per_minute, 3);
    assert_eq!(
        counted.limits.content_per_hour, 500,
        "GitHub's default kept"
    );
    assert_eq!(counted.limited, 1);
    let bot = &counted.identities[BOT];
    assert_eq!(bot.limited.get(&Limit::ContentPerMinute), Some(&1));
    assert_eq!(bot.writes, 4);
    assert_eq!(bot.peak_writes_per_minute, 3);
    assert_eq!(counted.identities["alice"].writes, 1);
    let over_http = admin.get("/_sim/limits").await;
    assert_eq!(
        over_http.json["identities"][BOT]["peak_writes_per_minute"],
        3
    );
}

#[tokio::test]
async fn points_count_per_route_template_and_hourly_content_is_limited_too() {
    let sim = start().await;
    let admin = Api::anonymous(&sim);
    admin
        .patch(
            "/_sim/world",
            json!({"limits": {"points_per_minute": 5, "content_per_hour": 1}}),
        )
        .await;
    let alice = Api::new(&sim, "alice-token");
    for _ in 0..5 {
        assert_eq!(alice.get("/repos/acme/service").await.status, 200);
    }
    // Another repository is the same endpoint, `GET /repos/{owner}/{repo}`.
    let refused = alice.get("/repos/acme/landing-zone").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(alice.get("/repos/acme/service/branches").await.status, 200);

    sim.advance(Duration::from_secs(61));
    let first = alice
        .post(
            "/repos/acme/service/issues/1/comments",
            json!({"body": "one"}),
        )
        .await;
    assert_ne!(first.status, 403, "{}", first.json);
    // Another endpoint, so only the hourly content limit stands in the way.
    let main = head(&alice, "acme/service", "main").await;
    let second = alice
        .post(
            "/repos/acme/service/git/refs",
            json!({"ref": "refs/heads/two", "sha": main}),
        )
        .await;
    assert_eq!(second.status, 403);
    assert_eq!(second.header("retry-after"), Some("3600"));
    let usage = &report(&sim).identities["alice"];
    assert_eq!(usage.limited.get(&Limit::PointsPerMinute), Some(&1));
    assert_eq!(usage.limited.get(&Limit::ContentPerHour), Some(&1));
}

#[tokio::test]
async fn the_answer_style_is_a_fault_switch() {
    let sim = start().await;
    let admin = Api::anonymous(&sim);
    admin
        .patch("/_sim/world", json!({"limits": {"points_per_minute": 1}}))
        .await;
    let alice = Api::new(&sim, "alice-token");
    assert_eq!(alice.get("/repos/acme/service").await.status, 200);

    let bad = admin
        .put("/_sim/faults/secondary-limit", json!({"status": 500}))
        .await;
    assert_eq!(bad.status, 422);
    let set = admin
        .put(
            "/_sim/faults/secondary-limit",
            json!({"status": 429, "headers": "reset"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.json);
    let reset = alice.get("/repos/acme/service").await;
    assert_eq!(reset.status, 429);
    assert!(reset.message().contains("secondary rate limit"));
    assert_eq!(reset.header("retry-after"), None);
    assert_eq!(reset.header("x-ratelimit-remaining"), Some("0"));
    // `x-ratelimit-reset` is the answer's `Date` (the simulator's clock) plus the wait.
    let start = 1_767_225_600;
    assert_eq!(
        reset.header("x-ratelimit-reset"),
        Some((start + 60).to_string().as_str())
    );
    assert_eq!(reset.header("date"), Some("Thu, 01 Jan 2026 00:00:00 GMT"));

    admin
        .put(
            "/_sim/faults/secondary-limit",
            json!({"headers": "neither"}),
        )
        .await;
    let neither = alice.get("/repos/acme/service").await;
    assert_eq!(neither.status, 403);
    assert_eq!(neither.header("retry-after"), None);
    assert_ne!(neither.header("x-ratelimit-remaining"), Some("0"));

    // Clearing the faults restores GitHub's usual answer.
    admin.delete("/_sim/faults", None).await;
    let usual = alice.get("/repos/acme/service").await;
    assert_eq!(usual.status, 403);
    assert_eq!(usual.header("retry-after"), Some("60"));
    assert_eq!(
        report(&sim).identities["alice"].limited[&Limit::PointsPerMinute],
        3
    );
}

#[tokio::test]
async fn requests_in_flight_beyond_the_concurrent_limit_are_refused() {
    let sim = start().await;
    sim.world(|w| w.limits.concurrent = 1);
    sim.add_fault(github_sim::Fault::new(
        "GET",
        "/repos/acme/service",
        github_sim::FaultAction::Latency { ms: 1500 },
    ));
    let alice = Api::new(&sim, "alice-token");
    let slow = tokio::spawn({
        let alice = alice.clone();
        async move { alice.get("/repos/acme/service").await.status }
    });
    // Wait until the slow request is in flight (no timing: the counter says so).
    while report(&sim)
        .identities
        .get("alice")
        .is_none_or(|u| u.in_flight == 0)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = alice.get("/repos/acme/service/branches").await;
    assert_eq!(refused.status, 403);
    assert!(refused.message().contains("secondary rate limit"));
    assert_eq!(refused.header("retry-after"), Some("1"));
    // Another identity is not held up.
    assert_eq!(
        Api::new(&sim, "bob-token")
            .get("/repos/acme/service/branches")
            .await
            .status,
        200
    );
    assert_eq!(slow.await.expect("slow request"), 200);
    let usage = &report(&sim).identities["alice"];
    assert_eq!(usage.limited.get(&Limit::Concurrent), Some(&1));
    assert_eq!(usage.peak_in_flight, 2);
    assert_eq!(usage.in_flight, 0);
}

#[tokio::test]
async fn at_a_fast_clock_retry_after_is_in_real_seconds() {
    crate::common::install_crypto();
    let world = github_sim::World::from_yaml(
        r#"
clock: { scale: 60 }
limits: { content_per_minute: 1 }
identities: [{ login: alice, tokens: [alice-token] }]
repos: [{ name: acme/service, branches: { main: { files: { "a": "a\n" } } } }]
"#,
    )
    .expect("world loads");
    let sim = github_sim::GithubSim::start(world)
        .await
        .expect("sim starts");
    let alice = Api::new(&sim, "alice-token");
    let main = head(&alice, "acme/service", "main").await;
    let create = |name: &str| {
        alice.post(
            "/repos/acme/service/git/refs",
            json!({"ref": format!("refs/heads/{name}"), "sha": main}),
        )
    };
    assert_eq!(create("a").await.status, 201);
    let refused = create("b").await;
    assert_eq!(refused.status, 403);
    // Under a simulated minute is under a real second at 60 times: one second, rounded up.
    assert_eq!(refused.header("retry-after"), Some("1"));
}

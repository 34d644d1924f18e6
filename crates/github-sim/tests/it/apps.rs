//! GitHub App sign-in: an App signs its JWT, finds its installation, mints installation tokens
//! narrowed to repositories and permissions, and the token acts as `<slug>[bot]` with exactly
//! those, until it expires or is revoked.

use std::time::Duration;

use github_sim::{GithubSim, World};
use serde_json::{Value, json};

use crate::common::{Api, b64, install_crypto};
use crate::keys::{TestKey, key, stranger};

/// 2026-01-01T00:00:00Z, where the world's frozen clock stands.
const NOW: i64 = 1_767_225_600;

fn world(app_key: &str) -> String {
    format!(
        r#"
clock: {{ start: "2026-01-01T00:00:00Z", scale: 0 }}
identities:
  - {{ login: alice, kind: user, tokens: [alice-token] }}
repos:
  - name: acme/service
    branches: {{ main: {{ files: {{ "README.md": "service\n" }} }} }}
  - name: acme/landing-zone
    branches: {{ main: {{ files: {{ "env/prod.env": "export IMAGE_VERSION=1.0.0\n" }} }} }}
  - name: acme/vault
    private: true
  - name: other/tool
apps:
  - id: 4242
    slug: gantry-deployer
    name: Gantry Deployer
    key: {key}
    installations:
      - id: 77
        account: acme
        permissions: {{ contents: write, pull_requests: write, checks: write, statuses: write }}
      - id: 78
        account: other
        account_type: User
        repositories: [tool]
        permissions: {{ contents: read }}
"#,
        key = TestKey::yaml(app_key, 6)
    )
}

pub(crate) async fn start() -> GithubSim {
    install_crypto();
    let world = World::from_yaml(&world(&key().pkcs1)).expect("world with an app loads");
    GithubSim::start(world).await.expect("sim starts")
}

/// A JWT of App 4242 issued a minute ago, valid for nine more minutes.
pub(crate) fn app_jwt() -> String {
    key().jwt(&json!({"iss": 4242, "iat": NOW - 60, "exp": NOW + 540}))
}

pub(crate) async fn mint(app: &Api, installation: u64, body: Value) -> String {
    let r = app
        .post(
            &format!("/app/installations/{installation}/access_tokens"),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn an_app_signs_in_with_its_jwt_and_mints_a_token_narrowed_to_the_landing_zone() {
    let sim = start().await;
    let app = Api::bearer(&sim, &app_jwt());

    let me = app.get("/app").await;
    assert_eq!(me.status, 200, "{}", me.json);
    assert_eq!(me.json["id"], 4242);
    assert_eq!(me.json["slug"], "gantry-deployer");
    assert_eq!(me.json["name"], "Gantry Deployer");
    assert_eq!(me.json["client_id"], "Iv1.0000000000001092");
    assert_eq!(me.json["owner"]["login"], "acme");
    assert_eq!(me.json["installations_count"], 2);
    assert_eq!(me.json["permissions"]["metadata"], "read");
    assert_eq!(me.json["permissions"]["contents"], "write");

    let found = app.get("/repos/acme/landing-zone/installation").await;
    assert_eq!(found.status, 200, "{}", found.json);
    assert_eq!(found.json["id"], 77);
    assert_eq!(found.json["app_id"], 4242);
    assert_eq!(found.json["app_slug"], "gantry-deployer");
    assert_eq!(found.json["account"]["login"], "acme");
    assert_eq!(found.json["target_type"], "Organization");
    assert_eq!(found.json["repository_selection"], "all");
    assert_eq!(
        found.json["access_tokens_url"],
        format!("{}/app/installations/77/access_tokens", sim.url())
    );
    for path in [
        "/users/acme/installation",
        "/orgs/acme/installation",
        "/app/installations/77",
    ] {
        let r = app.get(path).await;
        assert_eq!((r.status, &r.json["id"]), (200, &json!(77)), "{path}");
    }
    assert_eq!(app.get("/users/other/installation").await.json["id"], 78);
    let listed = app.get("/app/installations").await;
    assert_eq!(listed.json.as_array().map(Vec::len), Some(2));
    for missing in [
        "/orgs/other/installation",
        "/users/nobody/installation",
        "/repos/acme/nope/installation",
        "/repos/other/elsewhere/installation",
        "/app/installations/79",
    ] {
        let r = app.get(missing).await;
        assert_eq!((r.status, r.message()), (404, "Not Found"), "{missing}");
    }

    let minted = app
        .post(
            "/app/installations/77/access_tokens",
            json!({"repositories": ["landing-zone"], "permissions": {"contents": "write", "pull_requests": "write"}}),
        )
        .await;
    assert_eq!(minted.status, 201, "{}", minted.json);
    let token = minted.json["token"].as_str().expect("token");
    assert!(
        token.starts_with("ghs_") && token.len() == 40,
        "GitHub's installation token shape: {token}"
    );
    assert_eq!(minted.json["expires_at"], "2026-01-01T01:00:00Z");
    assert_eq!(
        minted.json["permissions"],
        json!({"contents": "write", "metadata": "read", "pull_requests": "write"})
    );
    assert_eq!(minted.json["repository_selection"], "selected");
    let repos: Vec<&Value> = minted.json["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| &r["full_name"])
        .collect();
    assert_eq!(repos, [&json!("acme/landing-zone")]);

    let bot = Api::new(&sim, token);
    let head = acts_only_on_the_landing_zone(&bot, "contents and pull requests").await;
    let push = sim.events().into_iter().last().expect("a push event");
    assert_eq!(
        (push.event.as_str(), push.actor.as_str()),
        ("push", "gantry-deployer")
    );

    // Without narrowing, the token has all the installation has, on all its repositories.
    let full = Api::new(&sim, &mint(&app, 77, json!({})).await);
    let all = app
        .post("/app/installations/77/access_tokens", json!({}))
        .await;
    assert_eq!(all.json["repository_selection"], "all");
    assert!(all.json.get("repositories").is_none(), "{}", all.json);
    let created = full
        .post(
            &format!("/repos/acme/landing-zone/statuses/{head}"),
            json!({"state": "success", "context": "deploy"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["creator"]["login"], "gantry-deployer[bot]");
    assert_eq!(created.json["creator"]["type"], "Bot");
    assert_eq!(full.get("/repos/acme/vault").await.status, 200);
    let run = full
        .post(
            "/repos/acme/landing-zone/check-runs",
            json!({"name": "deploy", "head_sha": head}),
        )
        .await;
    assert_eq!(run.status, 201, "{}", run.json);
    assert_eq!(run.json["app"]["id"], 4242);
    assert_eq!(run.json["app"]["slug"], "gantry-deployer");
    assert_eq!(run.json["app"]["permissions"]["checks"], "write");

    // An hour of simulated time later both tokens have expired.
    sim.advance(Duration::from_secs(3600));
    for expired in [&bot, &full] {
        let r = expired.get("/repos/acme/landing-zone").await;
        assert_eq!((r.status, r.message()), (401, "Bad credentials"));
    }
}

/// Asserts that `bot`, a token minted with `contents: write` and `pull_requests: write` for
/// `acme/landing-zone` alone (`asked` says so), bumps the landing zone's `env/prod.env` and can
/// do nothing it was not given: no statuses there, no writes to the other public repository
/// `acme/service` (which it may read, as anyone), nothing of the private `acme/vault`, no
/// `/user`. Returns the bump's commit.
pub async fn acts_only_on_the_landing_zone(bot: &Api, asked: &str) -> String {
    let zone = bot.get("/repos/acme/landing-zone").await;
    assert_eq!(zone.status, 200, "{asked}: {}", zone.json);
    assert_eq!(zone.json["permissions"]["push"], true);
    let file = bot
        .get("/repos/acme/landing-zone/contents/env/prod.env")
        .await;
    let bump = bot
        .put(
            "/repos/acme/landing-zone/contents/env/prod.env",
            json!({"message": "Deploy 1.1.0", "content": b64("export IMAGE_VERSION=1.1.0\n"), "sha": file.json["sha"]}),
        )
        .await;
    assert_eq!(bump.status, 200, "{asked}: {}", bump.json);
    let head = bump.json["commit"]["sha"].as_str().expect("sha").to_owned();
    let refused = [
        bot.post(
            &format!("/repos/acme/landing-zone/statuses/{head}"),
            json!({"state": "success", "context": "deploy"}),
        )
        .await,
        bot.put(
            "/repos/acme/service/contents/x",
            json!({"message": "x", "content": b64("x")}),
        )
        .await,
    ];
    for r in refused {
        assert_eq!(
            (r.status, r.message()),
            (403, "Resource not accessible by integration"),
            "{asked}"
        );
    }
    assert_eq!(bot.get("/repos/acme/service").await.status, 200);
    assert_eq!(bot.get("/repos/acme/vault").await.status, 404);
    assert_eq!(bot.get("/user").await.status, 403);
    head
}

#[tokio::test]
async fn narrowing_beyond_the_installation_is_refused_as_github_refuses_it() {
    let sim = start().await;
    let app = Api::bearer(&sim, &app_jwt());
    let landing_zone = Api::new(&sim, "alice-token")
        .get("/repos/acme/landing-zone")
        .await
        .json["id"]
        .clone();
    let repo_refusal = "There is at least one repository that does not exist or is not accessible to the parent installation.";
    let permission_refusal = "The permissions requested are not granted to this installation.";
    for (body, message) in [
        (json!({"repositories": ["landing-zone"]}), repo_refusal),
        (json!({"repositories": ["nope"]}), repo_refusal),
        (json!({"repository_ids": [landing_zone]}), repo_refusal),
        (
            json!({"repositories": ["tool"], "repository_ids": [1]}),
            repo_refusal,
        ),
        (
            json!({"permissions": {"contents": "write"}}),
            permission_refusal,
        ),
        (
            json!({"permissions": {"issues": "read"}}),
            permission_refusal,
        ),
        (
            json!({"permissions": {"contents": "none"}}),
            permission_refusal,
        ),
    ] {
        let r = app
            .post("/app/installations/78/access_tokens", body.clone())
            .await;
        assert_eq!((r.status, r.message()), (422, message), "{body}");
    }
    let r = app
        .post(
            "/app/installations/78/access_tokens",
            json!({"repositories": "tool"}),
        )
        .await;
    assert_eq!(r.status, 422, "a name where a list belongs: {}", r.json);
    let r = app
        .post("/app/installations/79/access_tokens", json!({}))
        .await;
    assert_eq!(r.status, 404);

    // Within it: the selected repository, read-only.
    let ok = app
        .post(
            "/app/installations/78/access_tokens",
            json!({"repositories": ["TOOL"], "permissions": {"contents": "read"}}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.json);
    assert_eq!(ok.json["repositories"][0]["full_name"], "other/tool");
    let token = Api::new(&sim, ok.json["token"].as_str().expect("token"));
    assert_eq!(token.get("/repos/other/tool/branches").await.status, 200);
    let write = token
        .post(
            "/repos/other/tool/git/refs",
            json!({"ref": "refs/heads/x", "sha": "0".repeat(40)}),
        )
        .await;
    assert_eq!(write.status, 403, "{}", write.json);
    // A selected installation's unnarrowed token lists its repositories.
    let plain = app
        .post("/app/installations/78/access_tokens", json!({}))
        .await;
    assert_eq!(plain.json["repository_selection"], "selected");
    assert_eq!(plain.json["repositories"][0]["full_name"], "other/tool");
    assert_eq!(
        plain.json["permissions"],
        json!({"contents": "read", "metadata": "read"})
    );
}

#[tokio::test]
async fn jwt_claims_are_checked_on_the_simulators_clock() {
    let sim = start().await;
    let get = |jwt: String| {
        let api = Api::bearer(&sim, &jwt);
        async move { api.get("/app").await }
    };
    let k = key();
    let accepted = [
        // GitHub's own example: a minute backdated, ten minutes ahead.
        json!({"iss": 4242, "iat": NOW - 60, "exp": NOW + 600}),
        json!({"iss": "4242", "iat": NOW, "exp": NOW + 1}),
        json!({"iss": "Iv1.0000000000001092", "iat": NOW - 3600, "exp": NOW + 60}),
    ];
    for claims in accepted {
        let r = get(k.jwt(&claims)).await;
        assert_eq!(r.status, 200, "{claims}: {}", r.json);
    }
    let refused = [
        (
            k.jwt(&json!({"iss": 4242, "iat": NOW - 600, "exp": NOW})),
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
        (
            k.jwt(&json!({"iss": 4242, "iat": NOW - 60})),
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
        (
            k.jwt(&json!({"iss": 4242, "iat": NOW, "exp": NOW + 601})),
            "'Expiration time' claim ('exp') is too far in the future",
        ),
        (
            k.jwt(&json!({"iss": 4242, "iat": NOW + 1, "exp": NOW + 300})),
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ),
        (
            k.jwt(&json!({"iss": 4242, "exp": NOW + 300})),
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ),
        (
            k.jwt(&json!({"iss": 9999, "iat": NOW, "exp": NOW + 300})),
            "Integration not found",
        ),
        (
            k.jwt(&json!({"iss": "Iv1.unknown", "iat": NOW, "exp": NOW + 300})),
            "Integration not found",
        ),
        (
            k.jwt(&json!({"iss": [4242], "iat": NOW, "exp": NOW + 300})),
            "'Issuer' claim ('iss') must be an Integer",
        ),
        (
            stranger().jwt(&json!({"iss": 4242, "iat": NOW, "exp": NOW + 300})),
            "A JSON web token could not be decoded",
        ),
        (
            k.signed(
                &json!({"alg": "HS256"}),
                &json!({"iss": 4242, "iat": NOW, "exp": NOW + 300}),
            ),
            "A JSON web token could not be decoded",
        ),
        ("a.b.c".to_owned(), "A JSON web token could not be decoded"),
    ];
    for (jwt, message) in refused {
        let r = get(jwt).await;
        assert_eq!((r.status, r.message()), (401, message));
        assert_eq!(r.json["status"], "401");
    }
    // The answer's Date is the simulator's clock, which clients correct their claims by.
    let r = get(app_jwt()).await;
    assert_eq!(r.header("date"), Some("Thu, 01 Jan 2026 00:00:00 GMT"));
    // The same JWT, ten minutes later.
    let jwt = app_jwt();
    sim.advance(Duration::from_secs(540));
    assert_eq!(get(jwt).await.status, 401);
}

#[tokio::test]
async fn a_jwt_reaches_only_the_apps_routes_and_a_token_cannot_reach_them() {
    let sim = start().await;
    let app = Api::bearer(&sim, &app_jwt());
    for (method, path) in [
        (reqwest::Method::GET, "/repos/acme/service"),
        (reqwest::Method::GET, "/user"),
        (reqwest::Method::DELETE, "/installation/token"),
    ] {
        let r = app.req(method.clone(), path, None, &[]).await;
        assert_eq!(
            (r.status, r.message()),
            (403, "Resource not accessible by integration"),
            "{method} {path}"
        );
    }
    let r = app.post("/app", json!({})).await;
    assert_eq!(r.status, 404, "{}", r.json);
    let jwt_refusal = "A JSON web token could not be decoded";
    for token in ["alice-token", "no-such-token"] {
        let r = Api::bearer(&sim, token).get("/app").await;
        assert_eq!((r.status, r.message()), (401, jwt_refusal), "{token}");
    }
    let minted = mint(&app, 77, json!({})).await;
    let r = Api::new(&sim, &minted)
        .get("/repos/acme/service/installation")
        .await;
    assert_eq!((r.status, r.message()), (401, jwt_refusal));
    let r = Api::anonymous(&sim).get("/app").await;
    assert_eq!((r.status, r.message()), (401, "Requires authentication"));
    // A JWT must come as `Bearer`.
    let r = Api::new(&sim, &app_jwt()).get("/app").await;
    assert_eq!((r.status, r.message()), (401, jwt_refusal));
    let r = Api::new(&sim, &app_jwt()).get("/repos/acme/service").await;
    assert_eq!((r.status, r.message()), (401, "Bad credentials"));
}

#[tokio::test]
async fn the_calling_installation_token_is_revoked() {
    let sim = start().await;
    let app = Api::bearer(&sim, &app_jwt());
    let token = mint(&app, 77, json!({"repositories": ["service"]})).await;
    for api in [Api::new(&sim, &token), Api::bearer(&sim, &token)] {
        assert_eq!(api.get("/repos/acme/service").await.status, 200);
    }
    let bot = Api::new(&sim, &token);
    let r = bot.delete("/installation/token", None).await;
    assert_eq!(r.status, 204, "{}", r.json);
    for path in ["/repos/acme/service", "/installation/token"] {
        let r = bot.get(path).await;
        assert_eq!((r.status, r.message()), (401, "Bad credentials"), "{path}");
    }
    let r = Api::new(&sim, "alice-token")
        .delete("/installation/token", None)
        .await;
    assert_eq!(
        (r.status, r.message()),
        (403, "Resource not accessible by personal access token")
    );
    // The other tokens of the installation live on.
    let other = Api::new(&sim, &mint(&app, 77, json!({})).await);
    assert_eq!(other.get("/repos/acme/service").await.status, 200);
}

#[tokio::test]
async fn app_keys_come_as_any_pem_github_or_openssl_writes() {
    install_crypto();
    let k = key();
    for pem in [&k.pkcs1, &k.pkcs8, &k.spki, &k.rsa_public] {
        let sim = GithubSim::start(World::from_yaml(&world(pem)).expect("loads"))
            .await
            .expect("starts");
        let r = Api::bearer(&sim, &app_jwt()).get("/app").await;
        assert_eq!(r.status, 200, "{}", pem.lines().next().unwrap_or_default());
    }
    for (key, wrong) in [
        ("not a key", "not a PEM block"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "CERTIFICATE",
        ),
    ] {
        let err = World::from_yaml(&world(key)).err().expect("refused");
        let chain = format!(
            "{err}: {}",
            std::error::Error::source(&err)
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        assert!(
            chain.contains("gantry-deployer") && chain.contains(wrong),
            "{chain}"
        );
    }
    let unknown_repo = world(&k.pkcs1).replace("repositories: [tool]", "repositories: [gone]");
    let err = World::from_yaml(&unknown_repo).err().expect("refused");
    assert!(err.to_string().contains("other/gone"), "{err}");

    // Declared through the admin API as well.
    let sim = GithubSim::start(World::empty()).await.expect("starts");
    let http = reqwest::Client::new();
    let patch = json!({
        "repos": [{"name": "acme/landing-zone"}],
        "apps": [{"id": 4242, "slug": "gantry-deployer", "key": k.spki,
                  "installations": [{"id": 77, "account": "acme", "repositories": ["landing-zone"],
                                     "permissions": {"contents": "write"}}]}],
    });
    let r = http
        .patch(format!("{}/_sim/world", sim.url()))
        .body(patch.to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let now = sim.now_ms() / 1000;
    let jwt = k.jwt(&json!({"iss": 4242, "iat": now - 30, "exp": now + 570}));
    let r = Api::bearer(&sim, &jwt)
        .get("/repos/acme/landing-zone/installation")
        .await;
    assert_eq!((r.status, &r.json["id"]), (200, &json!(77)), "{}", r.json);
    let bad = http
        .patch(format!("{}/_sim/world", sim.url()))
        .body(json!({"apps": [{"id": 1, "slug": "x", "key": "nope"}]}).to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(bad.status(), 422);
}

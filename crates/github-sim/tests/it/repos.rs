//! Story: a release tool looks a repository up (in any letter case), lists its branches and tags,
//! downloads a file through `download_url`, and reads what the repository really holds.

use github_sim::WorldSpec;
use serde_json::json;

use crate::common::{Api, b64, head, start};

const MORE: &str = r"
identities:
  - login: outsider
    tokens: [outsider-token]
    permissions: { acme/service: { contents: read } }
repos:
  - name: acme/secret
    private: true
    branches:
      main:
        files: { LICENSE: 'Permission is hereby granted, free of charge, to any person' }
      release/1.x:
        files: { notes/1.txt: 'one' }
    tags: { v0.1.0: { target: main, message: 'first' } }
";

#[tokio::test]
async fn lookups_are_case_insensitive_and_answers_canonical() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let r = api.get("/repos/ACME/Service").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["full_name"], "acme/service");
    let pulls = api.get("/repos/Acme/SERVICE/pulls?state=all").await;
    assert_eq!(pulls.status, 200);
    let made = api
        .post(
            "/repos/acme/SERVICE/git/refs",
            json!({"ref": "refs/heads/Mixed", "sha": head(&api, "acme/service", "main").await}),
        )
        .await;
    assert_eq!(made.status, 201);
    assert!(
        made.json["url"]
            .as_str()
            .unwrap()
            .contains("/repos/acme/service/git/")
    );
}

#[tokio::test]
async fn branches_and_tags_are_listed() {
    let sim = start().await;
    sim.patch_spec(&WorldSpec::from_yaml(MORE).unwrap())
        .unwrap();
    let api = Api::new(&sim, "alice-token");
    let branches = api.get("/repos/acme/service/branches").await;
    let names: Vec<&str> = branches
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["feature", "main"]);
    assert_eq!(branches.json[1]["protected"], true);
    assert_eq!(
        branches.json[1]["commit"]["sha"],
        head(&api, "acme/service", "main").await
    );
    let protected = api.get("/repos/acme/service/branches?protected=true").await;
    assert_eq!(protected.json.as_array().unwrap().len(), 1);
    let one = api.get("/repos/acme/secret/branches/release/1.x").await;
    assert_eq!(one.json["name"], "release/1.x");

    let tags = api.get("/repos/acme/secret/tags").await;
    assert_eq!(tags.status, 200);
    assert_eq!(tags.json[0]["name"], "v0.1.0");
    assert_eq!(
        tags.json[0]["commit"]["sha"],
        head(&api, "acme/secret", "main").await,
        "an annotated tag lists the commit it points at"
    );
    let paged = api.get("/repos/acme/service/tags?per_page=1").await;
    assert_eq!(paged.json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn download_url_is_served_and_private_repositories_need_a_token() {
    let sim = start().await;
    sim.patch_spec(&WorldSpec::from_yaml(MORE).unwrap())
        .unwrap();
    let api = Api::new(&sim, "alice-token");
    let file = api.get("/repos/acme/service/contents/deploy/env").await;
    let url = file.json["download_url"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200, "{url}");
    assert!(
        got.headers().get("x-ratelimit-limit").is_none(),
        "raw downloads spend no API budget"
    );
    assert_eq!(got.text().await.unwrap(), "export IMAGE_VERSION=1.0.0\n");

    let secret = api.get("/repos/acme/secret").await;
    assert_eq!(
        (
            secret.json["private"].clone(),
            secret.json["visibility"].clone()
        ),
        (json!(true), json!("private"))
    );
    let public = api.get("/repos/acme/service").await;
    assert_eq!(public.json["private"], false);
    let nested = api
        .get("/repos/acme/secret/contents/notes/1.txt?ref=release/1.x")
        .await;
    let url = nested.json["download_url"].as_str().unwrap().to_owned();
    assert!(
        url.ends_with("/_raw/acme/secret/release/1.x/notes/1.txt"),
        "{url}"
    );
    assert_eq!(
        http.get(&url).send().await.unwrap().status().as_u16(),
        404,
        "private: no token, no file"
    );
    let outsider = http
        .get(&url)
        .header("authorization", "token outsider-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        outsider.status().as_u16(),
        404,
        "a token that cannot see the repository"
    );
    let with_token = http
        .get(&url)
        .header("authorization", "token alice-token")
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.text().await.unwrap(), "one");
}

#[tokio::test]
async fn license_size_and_app_permissions_come_from_state() {
    let sim = start().await;
    sim.patch_spec(&WorldSpec::from_yaml(MORE).unwrap())
        .unwrap();
    let api = Api::new(&sim, "alice-token");
    let plain = api.get("/repos/acme/service").await;
    assert_eq!(plain.json["license"], json!(null), "no licence file");
    assert_eq!(plain.json["size"], 1);
    let mit = api.get("/repos/acme/secret").await;
    assert_eq!(mit.json["license"]["spdx_id"], "MIT");
    let big = "x".repeat(5000);
    let put = api
        .put(
            "/repos/acme/service/contents/big.txt",
            json!({"message": "big", "content": b64(&big)}),
        )
        .await;
    assert_eq!(put.status, 201);
    assert_eq!(api.get("/repos/acme/service").await.json["size"], 5);

    // A restricted app shows only what its token may do.
    sim.patch_spec(
        &WorldSpec::from_yaml(
            "identities:\n  - login: narrow\n    kind: app\n    tokens: [narrow-token]\n    permissions: { acme/service: { checks: write, contents: read } }\n",
        )
        .unwrap(),
    )
    .unwrap();
    let narrow = Api::new(&sim, "narrow-token");
    let main = head(&api, "acme/service", "main").await;
    let run = narrow
        .post(
            "/repos/acme/service/check-runs",
            json!({"name": "scan", "head_sha": main}),
        )
        .await;
    assert_eq!(run.status, 201, "{}", run.json);
    assert_eq!(
        run.json["app"]["permissions"],
        json!({"checks": "write", "contents": "read", "metadata": "read"})
    );
}

#[tokio::test]
async fn an_integration_is_not_a_user() {
    let sim = start().await;
    for token in ["app-token", "workflow-token"] {
        let r = Api::new(&sim, token).get("/user").await;
        assert_eq!(
            (r.status, r.message()),
            (403, "Resource not accessible by integration"),
            "{token}"
        );
    }
    assert_eq!(
        Api::new(&sim, "bob-token").get("/user").await.json["login"],
        "bob"
    );
}

//! Story: a deploy tool records deployments of a tag in two environments; statuses move them
//! along, a success makes the replaced one inactive, and GitHub's refusals hold.

use serde_json::{Value, json};

use crate::common::{Api, head, start};

const DEPLOYMENTS: &str = "/repos/acme/service/deployments";

async fn deploy(api: &Api, body: Value) -> Value {
    let r = api.post(DEPLOYMENTS, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json
}

async fn status(api: &Api, id: u64, body: Value) -> Value {
    let r = api
        .post(&format!("{DEPLOYMENTS}/{id}/statuses"), body)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json
}

async fn state_of(api: &Api, id: u64) -> String {
    let r = api.get(&format!("{DEPLOYMENTS}/{id}/statuses")).await;
    r.json[0]["state"].as_str().unwrap_or("none").to_owned()
}

#[tokio::test]
async fn deployments_statuses_auto_inactive_and_refusals() {
    let sim = start().await;
    let api = Api::new(&sim, "app-token");
    let tag_sha = head(&api, "acme/service", "main").await;

    // Defaults: task deploy, environment production (a production environment), payload {}.
    let first = deploy(
        &api,
        json!({"ref": "v1.0.0", "required_contexts": [], "auto_merge": false}),
    )
    .await;
    assert_eq!(first["sha"], tag_sha);
    assert_eq!(first["ref"], "v1.0.0");
    assert_eq!(first["task"], "deploy");
    assert_eq!(first["environment"], "production");
    assert_eq!(first["original_environment"], "production");
    assert_eq!(first["production_environment"], true);
    assert_eq!(first["transient_environment"], false);
    assert_eq!(first["payload"], json!({}));
    assert_eq!(first["creator"]["login"], "deploy-bot[bot]");
    assert_eq!(first["performed_via_github_app"]["slug"], "deploy-bot");
    let first_id = first["id"].as_u64().unwrap();
    assert!(
        first["statuses_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/deployments/{first_id}/statuses"))
    );

    // Staging: not production by default; the payload comes back as sent.
    let body = json!({"ref": tag_sha, "environment": "staging", "required_contexts": [],
                      "payload": {"image": "1.0.0"}, "description": "gantry"});
    let old = deploy(&api, body.clone()).await;
    assert_eq!(old["production_environment"], false);
    assert_eq!(old["payload"], json!({"image": "1.0.0"}));
    let old_id = old["id"].as_u64().unwrap();
    status(&api, old_id, json!({"state": "success"})).await;
    let new_id = deploy(&api, body).await["id"].as_u64().unwrap();

    let progress = status(
        &api,
        new_id,
        json!({"state": "in_progress", "log_url": "https://ci/run/1"}),
    )
    .await;
    assert_eq!(
        progress["target_url"], "https://ci/run/1",
        "log_url sets target_url"
    );
    assert_eq!(
        state_of(&api, old_id).await,
        "success",
        "only success inactivates"
    );
    let done = status(&api, new_id, json!({"state": "success", "environment_url": "https://staging.acme", "description": "verified"})).await;
    assert_eq!(done["environment"], "staging");
    assert_eq!(done["environment_url"], "https://staging.acme");
    assert_eq!(state_of(&api, old_id).await, "inactive", "auto_inactive");
    let sid = done["id"].as_u64().unwrap();
    let one = api
        .get(&format!("{DEPLOYMENTS}/{new_id}/statuses/{sid}"))
        .await;
    assert_eq!(one.json["description"], "verified");

    // A production success leaves the earlier production deployment as it was (GitHub:
    // "non-production environment deployments" become inactive), and auto_inactive: false
    // keeps earlier ones of other environments.
    status(&api, first_id, json!({"state": "success"})).await;
    let prod2 = deploy(
        &api,
        json!({"ref": "v1.0.0", "required_contexts": [], "auto_merge": false}),
    )
    .await;
    status(
        &api,
        prod2["id"].as_u64().unwrap(),
        json!({"state": "success"}),
    )
    .await;
    assert_eq!(state_of(&api, first_id).await, "success");
    let third = deploy(
        &api,
        json!({"ref": tag_sha, "environment": "staging", "required_contexts": []}),
    )
    .await;
    status(
        &api,
        third["id"].as_u64().unwrap(),
        json!({"state": "success", "auto_inactive": false}),
    )
    .await;
    assert_eq!(state_of(&api, new_id).await, "success");

    // Filters and pagination (newest first, Link like every other list).
    let staging = api
        .get(&format!("{DEPLOYMENTS}?environment=staging&per_page=2"))
        .await;
    assert_eq!(staging.json.as_array().unwrap().len(), 2);
    assert_eq!(staging.json[0]["id"], third["id"]);
    let link = staging.header("link").unwrap();
    assert!(
        link.contains("environment=staging&per_page=2&page=2>; rel=\"next\""),
        "{link}"
    );
    let page2 = api
        .get(&format!(
            "{DEPLOYMENTS}?environment=staging&per_page=2&page=2"
        ))
        .await;
    assert_eq!(page2.json[0]["id"], old_id);
    for (query, count) in [
        (format!("sha={tag_sha}"), 5),
        ("ref=v1.0.0".to_owned(), 2),
        ("task=deploy".to_owned(), 5),
        ("task=migrate".to_owned(), 0),
    ] {
        let r = api.get(&format!("{DEPLOYMENTS}?{query}")).await;
        assert_eq!(r.json.as_array().unwrap().len(), count, "{query}");
    }

    // Delete: refused while active, allowed once inactive.
    let refused = api.delete(&format!("{DEPLOYMENTS}/{new_id}"), None).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.message().contains("active deployment"),
        "{}",
        refused.json
    );
    assert_eq!(
        api.delete(&format!("{DEPLOYMENTS}/{old_id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.get(&format!("{DEPLOYMENTS}/{old_id}")).await.status,
        404
    );

    // Environments were created by the deployments.
    let envs = api.get("/repos/acme/service/environments").await;
    assert_eq!(envs.json["total_count"], 2);
    let names: Vec<&str> = envs.json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["production", "staging"]);

    // Events: one deployment per creation, one deployment_status per status posted.
    let events = sim.events();
    let count = |name: &str| events.iter().filter(|e| e.event == name).count();
    assert_eq!(count("deployment"), 5);
    assert_eq!(count("deployment_status"), 6);
}

#[tokio::test]
async fn deployment_refusals_follow_github() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let missing = api.post(DEPLOYMENTS, json!({"environment": "qa"})).await;
    assert_eq!(missing.status, 422);
    assert!(missing.message().contains("\"ref\" wasn't supplied"));
    let unknown = api.post(DEPLOYMENTS, json!({"ref": "nope"})).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.message(), "No ref found for: nope");
    let bad_payload = api
        .post(DEPLOYMENTS, json!({"ref": "main", "payload": 5}))
        .await;
    assert_eq!(bad_payload.status, 422);

    // Status contexts are verified unless required_contexts is [].
    let sha = head(&api, "acme/service", "main").await;
    let posted = api
        .post(
            &format!("/repos/acme/service/statuses/{sha}"),
            json!({"state": "failure", "context": "ci/test"}),
        )
        .await;
    assert_eq!(posted.status, 201);
    let conflict = api.post(DEPLOYMENTS, json!({"ref": "main"})).await;
    assert_eq!(conflict.status, 409, "{}", conflict.json);
    assert_eq!(
        conflict.message(),
        "Conflict: Commit status checks failed for main."
    );
    assert_eq!(
        conflict.json["errors"][0]["contexts"],
        json!([{"context": "ci/test", "state": "failure"}])
    );
    let named = api
        .post(
            DEPLOYMENTS,
            json!({"ref": "main", "required_contexts": ["ci/other"]}),
        )
        .await;
    assert_eq!(named.status, 409);
    assert_eq!(named.json["errors"][0]["contexts"][0]["state"], "missing");
    let bypass = api
        .post(DEPLOYMENTS, json!({"ref": "main", "required_contexts": []}))
        .await;
    assert_eq!(bypass.status, 201);
    let bypass_id = bypass.json["id"].as_u64().unwrap();

    // auto_merge (default true) on a ref behind the default branch: the sim never merges.
    sim.world(|w| {
        w.push_files(
            "acme/service",
            "main",
            &[("NEW", Some("x\n"))],
            "moves on",
            Some("alice"),
        )
    });
    let behind = api
        .post(
            DEPLOYMENTS,
            json!({"ref": "v1.0.0", "required_contexts": []}),
        )
        .await;
    assert_eq!(behind.status, 409);
    assert_eq!(behind.message(), "Conflict merging main into v1.0.0.");

    // Statuses: the seven states only; the only deployment may be deleted while active.
    let only = api
        .post(DEPLOYMENTS, json!({"ref": "v1.0.0", "required_contexts": [], "auto_merge": false, "environment": "qa"}))
        .await;
    let id = only.json["id"].as_u64().unwrap();
    let bad = api
        .post(
            &format!("{DEPLOYMENTS}/{id}/statuses"),
            json!({"state": "done"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        api.post(
            &format!("{DEPLOYMENTS}/999999/statuses"),
            json!({"state": "success"})
        )
        .await
        .status,
        404
    );

    // Permissions: deployments read to list, write to create; administration for environments.
    let reader = Api::new(&sim, "reader-token");
    assert_eq!(reader.get(DEPLOYMENTS).await.status, 403);
    let workflow = Api::new(&sim, "workflow-token");
    assert_eq!(workflow.get(DEPLOYMENTS).await.status, 200);
    let put = api
        .put("/repos/acme/service/environments/qa", json!({"wait_timer": 5, "deployment_branch_policy": {"protected_branches": true, "custom_branch_policies": false}}))
        .await;
    assert_eq!(put.status, 200, "{}", put.json);
    assert_eq!(put.json["protection_rules"][0]["wait_timer"], 5);
    assert_eq!(
        put.json["deployment_branch_policy"]["protected_branches"],
        true
    );
    let both = api
        .put("/repos/acme/service/environments/qa", json!({"deployment_branch_policy": {"protected_branches": true, "custom_branch_policies": true}}))
        .await;
    assert_eq!(both.status, 422);
    assert_eq!(
        reader
            .get("/repos/acme/service/environments/qa")
            .await
            .status,
        200
    );
    assert_eq!(
        reader
            .delete("/repos/acme/service/environments/qa", None)
            .await
            .status,
        403
    );
    assert_eq!(
        api.delete("/repos/acme/service/environments/qa", None)
            .await
            .status,
        204
    );
    assert_eq!(
        reader
            .get("/repos/acme/service/environments/qa")
            .await
            .status,
        404
    );
    assert_eq!(
        api.delete(&format!("{DEPLOYMENTS}/{id}"), None)
            .await
            .status,
        422
    );
    status(&api, bypass_id, json!({"state": "inactive"})).await;
    assert_eq!(
        api.delete(&format!("{DEPLOYMENTS}/{bypass_id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete(&format!("{DEPLOYMENTS}/{id}"), None)
            .await
            .status,
        204,
        "the only deployment may be deleted while active"
    );
}

#[tokio::test]
async fn deployment_webhook_bodies_carry_the_deployment_and_its_status() {
    let sim = start().await;
    let api = Api::new(&sim, "alice-token");
    let d = deploy(
        &api,
        json!({"ref": "main", "environment": "qa", "required_contexts": []}),
    )
    .await;
    let id = d["id"].as_u64().unwrap();
    status(
        &api,
        id,
        json!({"state": "success", "environment_url": "https://qa"}),
    )
    .await;
    let events = sim.events();
    let at = |name: &str| events.iter().position(|e| e.event == name).unwrap();
    let created = sim.webhook_payload(at("deployment")).unwrap();
    assert_eq!(created["action"], "created");
    assert_eq!(created["deployment"]["id"], id);
    assert_eq!(created["deployment"]["environment"], "qa");
    assert_eq!(created["workflow"], Value::Null);
    assert_eq!(created["sender"]["login"], "alice");
    let status = sim.webhook_payload(at("deployment_status")).unwrap();
    assert_eq!(status["deployment_status"]["state"], "success");
    assert_eq!(status["deployment_status"]["environment_url"], "https://qa");
    assert_eq!(status["deployment"]["id"], id);
    assert_eq!(status["repository"]["full_name"], "acme/service");
}

//! Webhook-shaped payloads for recorded events, rendered from the current world, so a rehearsal can
//! feed a real event to a workflow (`act release -e payload.json`).

use serde_json::{Value, json};

use crate::clock::iso;
use crate::json;
use crate::routes::deployments;
use crate::world::{Event, World};

/// The webhook body GitHub would deliver for `event` (state as of now; a deleted object falls back
/// to the ids the event recorded).
pub fn payload(base: &str, world: &World, event: &Event) -> Value {
    let Some(repo) = world.repos.get(&event.repo) else {
        return json!({"action": event.action, "payload": event.payload});
    };
    let sender = world
        .identity_by_login(&event.actor)
        .map_or(Value::Null, |i| json::identity(base, world, i.id));
    let repository = json::repo(base, world, repo, None);
    let p = &event.payload;
    match event.event.as_str() {
        "release" => {
            let release = p["id"]
                .as_u64()
                .and_then(|id| repo.releases.iter().find(|r| r.id == id))
                .map_or_else(|| p.clone(), |r| json::release(base, world, repo, r));
            json!({"action": event.action, "release": release, "repository": repository, "sender": sender})
        }
        "pull_request" => {
            let number = p["number"].as_u64().unwrap_or_default();
            let pull = repo.pull(number).map_or(Value::Null, |pr| {
                let detail = json::PullDetail {
                    mergeable: None,
                    state: "unknown".into(),
                };
                json::pull(base, world, repo, pr, Some(&detail))
            });
            json!({
                "action": event.action, "number": number, "pull_request": pull,
                "repository": repository, "sender": sender,
            })
        }
        "check_run" => {
            let run = p["id"]
                .as_u64()
                .and_then(|id| repo.check_runs.iter().find(|c| c.id == id))
                .map_or(Value::Null, |c| json::check_run(base, world, repo, c));
            json!({"action": event.action, "check_run": run, "repository": repository, "sender": sender})
        }
        "deployment" | "deployment_status" => deployment(base, world, event, &repository, &sender),
        "push" => push(base, world, event, repository, &sender),
        "merge_group" => {
            let mut v = json!({
                "action": event.action, "merge_group": p["merge_group"],
                "repository": repository, "sender": sender,
            });
            if let Some(reason) = p.get("reason") {
                v["reason"] = reason.clone();
            }
            v
        }
        _ => {
            json!({"action": event.action, "payload": p, "repository": repository, "sender": sender})
        }
    }
}

/// `deployment` (`{deployment, workflow, workflow_run}`) and `deployment_status` (also
/// `deployment_status` and `check_run`); workflows, runs and check runs are `null`, as for a
/// deployment made through the REST API.
fn deployment(
    base: &str,
    world: &World,
    event: &Event,
    repository: &Value,
    sender: &Value,
) -> Value {
    let p = &event.payload;
    let id = p["deployment_id"].as_u64().or_else(|| p["id"].as_u64());
    let found = world.repos.get(&event.repo).and_then(|r| {
        r.deployments
            .iter()
            .find(|d| Some(d.id) == id)
            .map(|d| (r, d))
    });
    let Some((r, d)) = found else {
        return json!({"action": event.action, "payload": p, "repository": repository, "sender": sender});
    };
    let mut v = json!({
        "action": event.action,
        "deployment": deployments::deployment_json(base, world, r, d),
        "workflow": null,
        "workflow_run": null,
        "repository": repository,
        "sender": sender,
    });
    if event.event == "deployment_status" {
        let status = p["id"]
            .as_u64()
            .and_then(|sid| d.statuses.iter().find(|s| s.id == sid))
            .map_or(Value::Null, |s| {
                deployments::status_json(base, world, r, d, s)
            });
        v["deployment_status"] = status;
        v["check_run"] = Value::Null;
    }
    v
}

fn push(base: &str, world: &World, event: &Event, mut repository: Value, sender: &Value) -> Value {
    let p = &event.payload;
    // Push payloads carry the repository's timestamps as unix seconds.
    if let Some(r) = world.repos.get(&event.repo) {
        repository["created_at"] = json!(r.created_at);
        repository["pushed_at"] = json!(r.pushed_at);
        repository["stargazers"] = json!(0);
        repository["master_branch"] = json!(r.default_branch);
        repository["owner"]["name"] = json!(r.owner);
        repository["owner"]["email"] = json!(format!("{}@users.noreply.github.com", r.owner));
    }
    let after = p["after"].as_str().unwrap_or_default();
    let head = after
        .parse()
        .ok()
        .and_then(|sha| world.objects.commit(&sha).map(|c| (sha, c)))
        .map_or(Value::Null, |(sha, c)| {
            json!({
                "id": sha.hex(), "tree_id": c.tree.hex(), "distinct": true, "message": &*c.message,
                "timestamp": iso(c.committer.time),
                "url": format!("{base}/{}/commit/{sha}", event.repo),
                "author": {"name": &*c.author.name, "email": &*c.author.email, "username": &*c.author.name},
                "committer": {"name": &*c.committer.name, "email": &*c.committer.email, "username": &*c.committer.name},
                "added": [], "removed": [], "modified": [],
            })
        });
    let before = p["before"].as_str().unwrap_or_default();
    json!({
        "ref": p["ref"],
        "before": before,
        "after": after,
        "repository": repository,
        "pusher": {"name": event.actor, "email": format!("{}@users.noreply.github.com", event.actor)},
        "sender": sender,
        "created": p["created"],
        "deleted": p["deleted"],
        "forced": false,
        "base_ref": null,
        "compare": format!("{base}/{}/compare/{}...{}", event.repo, &before[..before.len().min(12)], &after[..after.len().min(12)]),
        "commits": if head.is_null() { json!([]) } else { json!([head.clone()]) },
        "head_commit": head,
    })
}

//! Deployment environments: listed and read by anyone who sees the repository, created or
//! updated (wait timer, branch policy) and deleted with administration permission, and created
//! implicitly by the first deployment that names them.

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, Outcome, Reply};
use crate::clock::iso;
use crate::deployments::Environment;
use crate::error::ApiError;
use crate::json::node_id;
use crate::spec::Access;
use crate::world::{Repo, World};

const DOC_PUT: &str =
    "https://docs.github.com/rest/deployments/environments#create-or-update-an-environment";

/// Creates environment `name` in `repo` unless it exists (a deployment names it).
pub fn ensure(world: &mut World, repo: &str, name: &str) {
    let exists = world
        .repos
        .get(repo)
        .is_none_or(|r| r.environments.iter().any(|e| e.name == name));
    if exists {
        return;
    }
    let id = world.next_id();
    let now = world.clock.now_secs();
    if let Some(r) = world.repos.get_mut(repo) {
        r.environments.push(Environment {
            id,
            name: name.into(),
            created_at: now,
            updated_at: now,
            wait_timer: 0,
            branch_policy: None,
        });
    }
}

fn environment_json(base: &str, r: &Repo, e: &Environment) -> Value {
    let full = r.full_name();
    let mut rules = Vec::new();
    if e.wait_timer > 0 {
        rules.push(json!({
            "id": e.id * 10 + 1, "node_id": node_id("GA", e.id * 10 + 1),
            "type": "wait_timer", "wait_timer": e.wait_timer,
        }));
    }
    if e.branch_policy.is_some() {
        rules.push(json!({
            "id": e.id * 10 + 2, "node_id": node_id("GA", e.id * 10 + 2), "type": "branch_policy",
        }));
    }
    json!({
        "id": e.id,
        "node_id": node_id("EN", e.id),
        "name": e.name,
        "url": format!("{base}/repos/{full}/environments/{}", e.name),
        "html_url": format!("{base}/{full}/deployments/activity_log?environments_filter={}", e.name),
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
        "can_admins_bypass": true,
        "protection_rules": rules,
        "deployment_branch_policy": e.branch_policy.map(|(protected, custom)| json!({
            "protected_branches": protected, "custom_branch_policies": custom,
        })),
    })
}

/// `GET /repos/{o}/{r}/environments` as `{total_count, environments}`.
pub fn list(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.perms(world, repo)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let items = r
        .environments
        .iter()
        .map(|e| environment_json(ctx.base, r, e))
        .collect();
    Ok(Reply::Page(items, Some("environments")))
}

/// `GET /repos/{o}/{r}/environments/{name}`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.perms(world, repo)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let e = r
        .environments
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        environment_json(ctx.base, r, e),
    ))
}

#[derive(Deserialize)]
struct BranchPolicy {
    protected_branches: bool,
    custom_branch_policies: bool,
}

#[derive(Deserialize)]
struct PutBody {
    wait_timer: Option<u32>,
    reviewers: Option<Vec<Value>>,
    deployment_branch_policy: Option<BranchPolicy>,
}

/// `PUT /repos/{o}/{r}/environments/{name}`: creates or updates.
pub fn put(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.administration, Access::Write)?;
    let body: PutBody = ctx.json()?;
    if body.reviewers.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "github-sim does not implement required reviewers of environments",
        ));
    }
    if body.wait_timer.is_some_and(|w| w > 43_200) {
        return Err(ApiError::validation("Environment", "custom", "wait_timer").doc(DOC_PUT));
    }
    if body
        .deployment_branch_policy
        .as_ref()
        .is_some_and(|p| p.protected_branches == p.custom_branch_policies)
    {
        return Err(ApiError::validation_message(
            "Environment",
            "Exactly one of protected_branches or custom_branch_policies must be true",
        )
        .doc(DOC_PUT));
    }
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ApiError::validation("Environment", "custom", "name").doc(DOC_PUT));
    }
    ensure(world, repo, name);
    let now = world.clock.now_secs();
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    let e = r
        .environments
        .iter_mut()
        .find(|e| e.name == name)
        .ok_or_else(ApiError::not_found)?;
    e.updated_at = now;
    e.wait_timer = body.wait_timer.unwrap_or(e.wait_timer);
    e.branch_policy = body
        .deployment_branch_policy
        .map(|p| (p.protected_branches, p.custom_branch_policies));
    world.touch();
    get(world, ctx, repo, name)
}

/// `DELETE /repos/{o}/{r}/environments/{name}` (its deployments stay).
pub fn delete(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.administration, Access::Write)?;
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    let before = r.environments.len();
    r.environments.retain(|e| e.name != name);
    if r.environments.len() == before {
        return Err(ApiError::not_found());
    }
    world.touch();
    Ok(Reply::NoContent)
}

//! Deployments and deployment statuses: create (status checks verified unless
//! `required_contexts: []`, no auto-merge), list with filters, get, delete (inactive only), and
//! statuses with `auto_inactive`; each creation records a `deployment`/`deployment_status` event.

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::environments::ensure;
use super::{Ctx, Outcome, Reply, id_of, missing};
use crate::clock::iso;
use crate::deployments::{Deployment, DeploymentStatus, deletable, replaced_by};
use crate::error::ApiError;
use crate::git::Sha;
use crate::json::{identity, node_id};
use crate::spec::{Access, IdentityKind};
use crate::world::{Repo, World};

const DOC_CREATE: &str = "https://docs.github.com/rest/deployments/deployments#create-a-deployment";
const DOC_STATUS: &str =
    "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status";
const DOC_DELETE: &str = "https://docs.github.com/rest/deployments/deployments#delete-a-deployment";
const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

/// The App a token acts for, as `performed_via_github_app` shows it (`null` for people).
fn via_app(base: &str, world: &World, r: &Repo, creator: u64) -> Value {
    let is_app = world
        .identities
        .get(&creator)
        .is_some_and(|i| matches!(i.kind, IdentityKind::App | IdentityKind::GithubToken));
    if is_app {
        crate::json::app(base, world, r, creator)
    } else {
        Value::Null
    }
}

/// A deployment as the REST API and the `deployment` webhook show it.
pub fn deployment_json(base: &str, world: &World, r: &Repo, d: &Deployment) -> Value {
    let repo_url = format!("{base}/repos/{}", r.full_name());
    let url = format!("{repo_url}/deployments/{}", d.id);
    json!({
        "url": url,
        "id": d.id,
        "node_id": node_id("Deployment", d.id),
        "sha": d.sha.hex(),
        "ref": d.git_ref,
        "task": d.task,
        "payload": d.payload,
        "original_environment": d.original_environment,
        "environment": d.environment,
        "description": d.description,
        "creator": identity(base, world, d.creator),
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
        "statuses_url": format!("{url}/statuses"),
        "repository_url": repo_url,
        "transient_environment": d.transient_environment,
        "production_environment": d.production_environment,
        "performed_via_github_app": via_app(base, world, r, d.creator),
    })
}

/// A deployment status as the REST API and the `deployment_status` webhook show it.
pub fn status_json(
    base: &str,
    world: &World,
    r: &Repo,
    d: &Deployment,
    s: &DeploymentStatus,
) -> Value {
    let repo_url = format!("{base}/repos/{}", r.full_name());
    let deployment_url = format!("{repo_url}/deployments/{}", d.id);
    json!({
        "url": format!("{deployment_url}/statuses/{}", s.id),
        "id": s.id,
        "node_id": node_id("DeploymentStatus", s.id),
        "state": s.state,
        "creator": identity(base, world, s.creator),
        "description": s.description,
        "environment": s.environment,
        "target_url": s.target_url,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
        "deployment_url": deployment_url,
        "repository_url": repo_url,
        "environment_url": s.environment_url,
        "log_url": s.log_url,
        "performed_via_github_app": via_app(base, world, r, s.creator),
    })
}

fn find<'a>(
    world: &'a World,
    repo: &str,
    id: &str,
) -> Result<(&'a Repo, &'a Deployment), ApiError> {
    let id = id_of(id)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let d = r
        .deployments
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok((r, d))
}

/// `GET /repos/{o}/{r}/deployments?sha=&ref=&task=&environment=` (newest first).
pub fn list(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let q = |k: &str| ctx.query.get(k).map(String::as_str);
    let items = r
        .deployments
        .iter()
        .rev()
        .filter(|d| q("sha").is_none_or(|s| d.sha.hex() == s))
        .filter(|d| q("ref").is_none_or(|s| d.git_ref == s))
        .filter(|d| q("task").is_none_or(|s| d.task == s))
        .filter(|d| q("environment").is_none_or(|s| d.environment == s))
        .map(|d| deployment_json(ctx.base, world, r, d))
        .collect();
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{o}/{r}/deployments/{id}`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Read)?;
    let (r, d) = find(world, repo, id)?;
    Ok(Reply::Json(
        StatusCode::OK,
        deployment_json(ctx.base, world, r, d),
    ))
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    task: Option<String>,
    auto_merge: Option<bool>,
    required_contexts: Option<Vec<String>>,
    payload: Option<Value>,
    environment: Option<String>,
    description: Option<String>,
    transient_environment: Option<bool>,
    production_environment: Option<bool>,
}

/// The latest state of every status context and check run on `sha` (check runs by name: a
/// completed run's conclusion, `success` for `neutral`/`skipped`, else `pending`).
fn contexts(r: &Repo, sha: &Sha) -> BTreeMap<String, String> {
    let mut states = BTreeMap::new();
    for s in r.statuses.iter().filter(|s| s.sha == *sha) {
        states.insert(s.context.clone(), s.state.clone());
    }
    for c in r.check_runs.iter().filter(|c| c.head_sha == *sha) {
        let state = match c.conclusion.as_deref() {
            Some("success" | "neutral" | "skipped") => "success",
            Some(other) => other,
            None => "pending",
        };
        states.insert(c.name.clone(), state.to_owned());
    }
    states
}

/// GitHub's 409 when the required contexts are not all `success`.
fn verify_contexts(
    r: &Repo,
    sha: &Sha,
    git_ref: &str,
    required: Option<&[String]>,
) -> Result<(), ApiError> {
    let states = contexts(r, sha);
    let names: Vec<String> = match required {
        Some(list) => list.to_vec(),
        None => states.keys().cloned().collect(),
    };
    let failing: Vec<Value> = names
        .iter()
        .filter_map(|n| {
            let state = states.get(n).map_or("missing", String::as_str);
            (state != "success").then(|| json!({"context": n, "state": state}))
        })
        .collect();
    if failing.is_empty() {
        return Ok(());
    }
    let mut e = ApiError::new(
        StatusCode::CONFLICT,
        format!("Conflict: Commit status checks failed for {git_ref}."),
    )
    .doc(DOC_CREATE);
    e.errors = Some(json!([{
        "contexts": failing, "resource": "Deployment", "field": "required_contexts", "code": "invalid",
    }]));
    Err(e)
}

/// `POST /repos/{o}/{r}/deployments`
pub fn create(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Write)?;
    let body: CreateBody = ctx.json()?;
    let git_ref = body.git_ref.ok_or_else(|| missing("ref").doc(DOC_CREATE))?;
    let payload = match body.payload {
        None => json!({}),
        Some(p @ (Value::Object(_) | Value::String(_))) => p,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "Invalid request.\n\nFor 'properties/payload', {other} is not an object or a string."
            ))
            .doc(DOC_CREATE));
        }
    };
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let sha = r.resolve(&world.objects, &git_ref).ok_or_else(|| {
        ApiError::unprocessable(format!("No ref found for: {git_ref}")).doc(DOC_CREATE)
    })?;
    if body.auto_merge.unwrap_or(true) {
        // GitHub would merge the default branch into a ref that is behind it; the simulator
        // never merges and answers as GitHub does when that merge is impossible.
        let behind = r
            .branch(&r.default_branch)
            .is_some_and(|head| !world.objects.is_ancestor(&head, &sha));
        if behind {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("Conflict merging {} into {git_ref}.", r.default_branch),
            )
            .doc(DOC_CREATE));
        }
    }
    verify_contexts(r, &sha, &git_ref, body.required_contexts.as_deref())?;
    let environment = body.environment.unwrap_or_else(|| "production".into());
    let id = world.next_id();
    let now = world.clock.now_secs();
    let deployment = Deployment {
        id,
        sha,
        git_ref,
        task: body.task.unwrap_or_else(|| "deploy".into()),
        payload,
        original_environment: environment.clone(),
        production_environment: body
            .production_environment
            .unwrap_or(environment == "production"),
        environment: environment.clone(),
        description: body.description,
        creator: ctx.who.id,
        created_at: now,
        updated_at: now,
        transient_environment: body.transient_environment.unwrap_or(false),
        statuses: Vec::new(),
    };
    ensure(world, repo, &environment);
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    r.deployments.push(deployment);
    world.record_event(
        "deployment",
        Some("created"),
        repo,
        ctx.who.id,
        json!({"id": id}),
    );
    let (r, d) = find(world, repo, &id.to_string())?;
    Ok(Reply::Json(
        StatusCode::CREATED,
        deployment_json(ctx.base, world, r, d),
    ))
}

/// `DELETE /repos/{o}/{r}/deployments/{id}`: only an inactive deployment, or the only one.
pub fn delete(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Write)?;
    let id = find(world, repo, id)?.1.id;
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    if !deletable(&r.deployments, id) {
        return Err(ApiError::unprocessable(
            "We cannot delete an active deployment unless it is the only deployment in a given environment.",
        )
        .doc(DOC_DELETE));
    }
    r.deployments.retain(|d| d.id != id);
    world.touch();
    Ok(Reply::NoContent)
}

/// `GET /repos/{o}/{r}/deployments/{id}/statuses` (newest first).
pub fn list_statuses(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Read)?;
    let (r, d) = find(world, repo, id)?;
    let items = d
        .statuses
        .iter()
        .rev()
        .map(|s| status_json(ctx.base, world, r, d, s))
        .collect();
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{o}/{r}/deployments/{id}/statuses/{status_id}`
pub fn get_status(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str, sid: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Read)?;
    let (r, d) = find(world, repo, id)?;
    let sid = id_of(sid)?;
    let s = d
        .statuses
        .iter()
        .find(|s| s.id == sid)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        status_json(ctx.base, world, r, d, s),
    ))
}

#[derive(Deserialize)]
struct StatusBody {
    state: Option<String>,
    target_url: Option<String>,
    log_url: Option<String>,
    description: Option<String>,
    environment: Option<String>,
    environment_url: Option<String>,
    auto_inactive: Option<bool>,
}

/// An `inactive` status that `auto_inactive` adds to a replaced deployment.
fn inactive(id: u64, creator: u64, environment: &str, now: i64) -> DeploymentStatus {
    DeploymentStatus {
        id,
        state: "inactive".into(),
        creator,
        description: String::new(),
        environment: environment.into(),
        target_url: String::new(),
        log_url: String::new(),
        environment_url: String::new(),
        created_at: now,
    }
}

/// `POST /repos/{o}/{r}/deployments/{id}/statuses`
pub fn create_status(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.deployments, Access::Write)?;
    let deployment_id = find(world, repo, id)?.1.id;
    let body: StatusBody = ctx.json()?;
    let state = body.state.ok_or_else(|| missing("state").doc(DOC_STATUS))?;
    if !STATES.contains(&state.as_str()) {
        return Err(ApiError::unprocessable(format!(
            "Invalid request.\n\nFor 'properties/state', \"{state}\" is not one of {}.",
            STATES.map(|s| format!("\"{s}\"")).join(", ")
        ))
        .doc(DOC_STATUS));
    }
    let description = body.description.unwrap_or_default();
    if description.chars().count() > 140 {
        return Err(
            ApiError::validation("DeploymentStatus", "custom", "description").doc(DOC_STATUS),
        );
    }
    // `log_url` replaces `target_url`; setting either one sets both.
    let target_url = body
        .target_url
        .or_else(|| body.log_url.clone())
        .unwrap_or_default();
    let log_url = body.log_url.unwrap_or_else(|| target_url.clone());
    let current = find(world, repo, id)?.1.environment.clone();
    let environment = body.environment.unwrap_or(current);
    ensure(world, repo, &environment);
    let sid = world.next_id();
    let now = world.clock.now_secs();
    let status = DeploymentStatus {
        id: sid,
        state: state.clone(),
        creator: ctx.who.id,
        description,
        environment: environment.clone(),
        target_url,
        log_url,
        environment_url: body.environment_url.unwrap_or_default(),
        created_at: now,
    };
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let replaced = if state == "success" && body.auto_inactive.unwrap_or(true) {
        replaced_by(&r.deployments, deployment_id, &environment)
    } else {
        Vec::new()
    };
    let ids: Vec<u64> = replaced.iter().map(|_| world.next_id()).collect();
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    for d in &mut r.deployments {
        if d.id == deployment_id {
            d.environment.clone_from(&environment);
            d.updated_at = now;
            d.statuses.push(status.clone());
        } else if let Some(pos) = replaced.iter().position(|x| *x == d.id) {
            d.updated_at = now;
            d.statuses
                .push(inactive(ids[pos], ctx.who.id, &d.environment, now));
        }
    }
    world.record_event(
        "deployment_status",
        Some("created"),
        repo,
        ctx.who.id,
        json!({"id": sid, "deployment_id": deployment_id}),
    );
    let (r, d) = find(world, repo, &deployment_id.to_string())?;
    Ok(Reply::Json(
        StatusCode::CREATED,
        status_json(ctx.base, world, r, d, &status),
    ))
}

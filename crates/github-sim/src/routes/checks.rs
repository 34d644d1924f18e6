//! Check runs, check suites and commit statuses. Only app tokens (installations and
//! `GITHUB_TOKEN`) may write check runs; personal access tokens get GitHub's 403.

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, Outcome, Reply, id_of};
use crate::error::ApiError;
use crate::git::Sha;
use crate::json;
use crate::spec::Access;
use crate::world::{CommitStatus, World};

const DOC_RUNS: &str = "https://docs.github.com/rest/checks/runs#create-a-check-run";
const DOC_STATUS: &str = "https://docs.github.com/rest/commits/statuses#create-a-commit-status";
const CONCLUSIONS: &[&str] = &[
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
];

#[derive(Deserialize, Default)]
struct Output {
    title: Option<String>,
    summary: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct RunBody {
    name: Option<String>,
    head_sha: Option<String>,
    status: Option<String>,
    conclusion: Option<String>,
    details_url: Option<String>,
    external_id: Option<String>,
    output: Option<Output>,
}

fn must_be_app(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.who.is_app() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You must authenticate via a GitHub App.",
        )
        .doc(DOC_RUNS))
    }
}

fn check_values(status: Option<&str>, conclusion: Option<&str>) -> Result<(), ApiError> {
    if status.is_some_and(|s| !matches!(s, "queued" | "in_progress" | "completed")) {
        return Err(ApiError::validation("CheckRun", "invalid", "status").doc(DOC_RUNS));
    }
    if conclusion.is_some_and(|c| !CONCLUSIONS.contains(&c)) {
        return Err(ApiError::validation("CheckRun", "invalid", "conclusion").doc(DOC_RUNS));
    }
    if status == Some("completed") && conclusion.is_none() {
        return Err(ApiError::validation("CheckRun", "missing_field", "conclusion").doc(DOC_RUNS));
    }
    Ok(())
}

/// `POST /repos/{o}/{r}/check-runs`
pub fn create_run(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.perms(world, repo)?;
    must_be_app(ctx)?;
    ctx.need(world, repo, |p| p.checks, Access::Write)?;
    let body: RunBody = ctx.json()?;
    let name = body
        .name
        .ok_or_else(|| ApiError::validation("CheckRun", "missing_field", "name").doc(DOC_RUNS))?;
    let head = body.head_sha.ok_or_else(|| {
        ApiError::validation("CheckRun", "missing_field", "head_sha").doc(DOC_RUNS)
    })?;
    check_values(body.status.as_deref(), body.conclusion.as_deref())?;
    let sha = head
        .parse::<Sha>()
        .ok()
        .filter(|s| world.objects.commit(s).is_some())
        .ok_or_else(|| {
            ApiError::unprocessable(format!("No commit found for SHA: {head}")).doc(DOC_RUNS)
        })?;
    let status = body.status.as_deref().unwrap_or("queued");
    let branch = world.repos.get(repo).and_then(|r| {
        r.refs
            .iter()
            .find(|(n, s)| **s == sha && n.starts_with("refs/heads/"))
            .map(|(n, _)| n.trim_start_matches("refs/heads/").to_owned())
    });
    let id = world.create_check_run(repo, ctx.who.id, &name, sha, branch.as_deref(), status);
    apply(
        world,
        repo,
        id,
        body.details_url,
        body.external_id,
        body.output,
        body.conclusion.as_deref(),
    );
    run_reply(world, ctx, repo, id, StatusCode::CREATED)
}

/// Applies the optional fields of a create or update to run `id`; a conclusion completes it.
fn apply(
    world: &mut World,
    repo: &str,
    id: u64,
    details: Option<String>,
    external: Option<String>,
    output: Option<Output>,
    conclusion: Option<&str>,
) {
    if let Some(run) = world
        .repos
        .get_mut(repo)
        .and_then(|r| r.check_runs.iter_mut().find(|c| c.id == id))
    {
        if details.is_some() {
            run.details_url = details;
        }
        if external.is_some() {
            run.external_id = external;
        }
        if let Some(o) = output {
            run.title = o.title.or(run.title.take());
            run.summary = o.summary.or(run.summary.take());
            run.text = o.text.or(run.text.take());
        }
    }
    if let Some(conclusion) = conclusion {
        world.complete_check_run(repo, id, conclusion);
    }
}

fn run_reply(world: &World, ctx: &Ctx<'_>, repo: &str, id: u64, status: StatusCode) -> Outcome {
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let run = r
        .check_runs
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        status,
        json::check_run(ctx.base, world, r, run),
    ))
}

/// `PATCH /repos/{o}/{r}/check-runs/{id}`
pub fn update_run(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.perms(world, repo)?;
    must_be_app(ctx)?;
    ctx.need(world, repo, |p| p.checks, Access::Write)?;
    let id = id_of(id)?;
    let body: RunBody = ctx.json()?;
    check_values(body.status.as_deref(), body.conclusion.as_deref())?;
    let Some(run) = world
        .repos
        .get_mut(repo)
        .and_then(|r| r.check_runs.iter_mut().find(|c| c.id == id))
    else {
        return Err(ApiError::not_found());
    };
    if let Some(n) = body.name {
        run.name = n;
    }
    if let Some(s) = &body.status
        && s != "completed"
    {
        run.status.clone_from(s);
    }
    apply(
        world,
        repo,
        id,
        body.details_url,
        body.external_id,
        body.output,
        body.conclusion.as_deref(),
    );
    run_reply(world, ctx, repo, id, StatusCode::OK)
}

/// `GET /repos/{o}/{r}/check-runs/{id}`
pub fn get_run(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.checks, Access::Read)?;
    run_reply(world, ctx, repo, id_of(id)?, StatusCode::OK)
}

fn resolve(world: &World, repo: &str, rev: &str) -> Result<Sha, ApiError> {
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    r.resolve(&world.objects, rev)
        .ok_or_else(|| ApiError::unprocessable(format!("No commit found for SHA: {rev}")))
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs?check_name=&status=&filter=`
pub fn list_for_ref(world: &mut World, ctx: &Ctx<'_>, repo: &str, rev: &str) -> Outcome {
    ctx.need(world, repo, |p| p.checks, Access::Read)?;
    let sha = resolve(world, repo, rev)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let all = ctx.query.get("filter").map(String::as_str) == Some("all");
    let mut seen = std::collections::HashSet::new();
    let items: Vec<Value> = r
        .check_runs
        .iter()
        .rev()
        .filter(|c| c.head_sha == sha)
        .filter(|c| all || seen.insert((c.name.clone(), c.app)))
        .filter(|c| ctx.query.get("check_name").is_none_or(|n| *n == c.name))
        .filter(|c| ctx.query.get("status").is_none_or(|s| *s == c.status))
        .map(|c| json::check_run(ctx.base, world, r, c))
        .collect();
    Ok(Reply::Page(items, Some("check_runs")))
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-suites`
pub fn suites_for_ref(world: &mut World, ctx: &Ctx<'_>, repo: &str, rev: &str) -> Outcome {
    ctx.need(world, repo, |p| p.checks, Access::Read)?;
    let sha = resolve(world, repo, rev)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let items = r
        .check_suites
        .iter()
        .filter(|s| s.head_sha == sha)
        .filter(|s| {
            ctx.query.get("check_name").is_none_or(|n| {
                r.check_runs
                    .iter()
                    .any(|c| c.suite_id == s.id && c.name == *n)
            })
        })
        .map(|s| json::check_suite(ctx.base, world, r, s))
        .collect();
    Ok(Reply::Page(items, Some("check_suites")))
}

/// `GET /repos/{o}/{r}/check-suites/{id}`
pub fn get_suite(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.checks, Access::Read)?;
    let id = id_of(id)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let s = r
        .check_suites
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json::check_suite(ctx.base, world, r, s),
    ))
}

/// `GET /repos/{o}/{r}/check-suites/{id}/check-runs`
pub fn runs_in_suite(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.checks, Access::Read)?;
    let id = id_of(id)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if !r.check_suites.iter().any(|s| s.id == id) {
        return Err(ApiError::not_found());
    }
    let items = r
        .check_runs
        .iter()
        .rev()
        .filter(|c| c.suite_id == id)
        .filter(|c| ctx.query.get("check_name").is_none_or(|n| *n == c.name))
        .filter(|c| ctx.query.get("status").is_none_or(|s| *s == c.status))
        .map(|c| json::check_run(ctx.base, world, r, c))
        .collect();
    Ok(Reply::Page(items, Some("check_runs")))
}

#[derive(Deserialize)]
struct StatusBody {
    state: Option<String>,
    target_url: Option<String>,
    description: Option<String>,
    context: Option<String>,
}

/// `POST /repos/{o}/{r}/statuses/{sha}`
pub fn create_status(world: &mut World, ctx: &Ctx<'_>, repo: &str, sha: &str) -> Outcome {
    ctx.need(world, repo, |p| p.statuses, Access::Write)?;
    let body: StatusBody = ctx.json()?;
    let state = body
        .state
        .ok_or_else(|| ApiError::validation("Status", "missing_field", "state").doc(DOC_STATUS))?;
    if !matches!(state.as_str(), "error" | "failure" | "pending" | "success") {
        return Err(ApiError::validation("Status", "custom", "state").doc(DOC_STATUS));
    }
    let commit = sha
        .parse::<Sha>()
        .ok()
        .filter(|s| world.objects.commit(s).is_some())
        .ok_or_else(|| {
            ApiError::unprocessable(format!("No commit found for SHA: {sha}")).doc(DOC_STATUS)
        })?;
    let id = world.next_id();
    let now = world.clock.now_secs();
    let status = CommitStatus {
        id,
        sha: commit,
        state,
        context: body.context.unwrap_or_else(|| "default".into()),
        description: body.description,
        target_url: body.target_url,
        creator: ctx.who.id,
        created_at: now,
    };
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    r.statuses.push(status);
    for p in r.pulls.iter_mut().filter(|p| p.head_sha == commit) {
        p.mergeable_pending = true;
    }
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let s = r.statuses.last().ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::CREATED,
        json::status(ctx.base, world, r, s, true),
    ))
}

/// `GET /repos/{o}/{r}/commits/{ref}/statuses`
pub fn list_statuses(world: &mut World, ctx: &Ctx<'_>, repo: &str, rev: &str) -> Outcome {
    ctx.need(world, repo, |p| p.statuses, Access::Read)?;
    let sha = resolve(world, repo, rev)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let items = r
        .statuses
        .iter()
        .rev()
        .filter(|s| s.sha == sha)
        .map(|s| json::status(ctx.base, world, r, s, true))
        .collect();
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{o}/{r}/commits/{ref}/status`: the latest status per context, combined.
pub fn combined_status(world: &mut World, ctx: &Ctx<'_>, repo: &str, rev: &str) -> Outcome {
    ctx.need(world, repo, |p| p.statuses, Access::Read)?;
    let sha = resolve(world, repo, rev)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let mut latest: Vec<&CommitStatus> = Vec::new();
    for s in r.statuses.iter().rev().filter(|s| s.sha == sha) {
        if !latest.iter().any(|l| l.context == s.context) {
            latest.push(s);
        }
    }
    latest.reverse();
    let state = if latest
        .iter()
        .any(|s| s.state == "error" || s.state == "failure")
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let u = format!("{}/repos/{repo}", ctx.base);
    Ok(Reply::Json(
        StatusCode::OK,
        json!({
            "state": state,
            "statuses": latest.iter().map(|s| json::status(ctx.base, world, r, s, false)).collect::<Vec<_>>(),
            "sha": sha.hex(),
            "total_count": latest.len(),
            "repository": json::repo(ctx.base, world, r, None),
            "commit_url": format!("{u}/commits/{sha}"),
            "url": format!("{u}/commits/{sha}/status"),
        }),
    ))
}

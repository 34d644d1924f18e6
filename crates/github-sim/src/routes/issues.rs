//! Issue comments, for pull requests only (issues themselves are not simulated): list and create.

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, Outcome, Reply, missing};
use crate::clock::iso;
use crate::error::ApiError;
use crate::json;
use crate::spec::Access;
use crate::world::{IssueComment, World};

/// `GET /repos/{o}/{r}/issues/{n}/comments`
pub fn list_comments(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    r.pull(number).ok_or_else(ApiError::not_found)?;
    let items = r
        .comments
        .iter()
        .filter(|c| c.number == number)
        .map(|c| comment(ctx.base, world, repo, c))
        .collect();
    Ok(Reply::Page(items, None))
}

#[derive(Deserialize)]
struct CreateComment {
    body: Option<String>,
}

/// `POST /repos/{o}/{r}/issues/{n}/comments`
pub fn create_comment(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Write)?;
    let body: CreateComment = ctx.json()?;
    let text = body.body.ok_or_else(|| missing("body"))?;
    world
        .repos
        .get(repo)
        .and_then(|r| r.pull(number))
        .ok_or_else(ApiError::not_found)?;
    let id = world.next_id();
    let created = IssueComment {
        id,
        number,
        user: ctx.who.id,
        body: text,
        created_at: world.clock.now_secs(),
    };
    let v = comment(ctx.base, world, repo, &created);
    if let Some(r) = world.repos.get_mut(repo) {
        r.comments.push(created);
    }
    Ok(Reply::Json(StatusCode::CREATED, v))
}

fn comment(base: &str, world: &World, repo: &str, c: &IssueComment) -> Value {
    json!({
        "id": c.id,
        "node_id": json::node_id("IssueComment", c.id),
        "url": format!("{base}/repos/{repo}/issues/comments/{}", c.id),
        "html_url": format!("{base}/{repo}/pull/{}#issuecomment-{}", c.number, c.id),
        "issue_url": format!("{base}/repos/{repo}/issues/{}", c.number),
        "body": c.body,
        "user": json::identity(base, world, c.user),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.created_at),
        "author_association": world.repos.get(repo).map_or("NONE", |r| world.author_association(r, c.user)),
    })
}

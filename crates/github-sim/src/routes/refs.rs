//! Git references and commits: get, list, create, update (fast-forward unless forced), delete.

use http::StatusCode;
use serde::Deserialize;

use super::{Ctx, Outcome, Reply, missing};
use crate::error::ApiError;
use crate::git::Sha;
use crate::json;
use crate::spec::Access;
use crate::world::World;

const DOC_CREATE: &str = "https://docs.github.com/rest/git/refs#create-a-reference";
const DOC_UPDATE: &str = "https://docs.github.com/rest/git/refs#update-a-reference";
const DOC_DELETE: &str = "https://docs.github.com/rest/git/refs#delete-a-reference";

/// `GET /repos/{o}/{r}/git/ref/{ref}`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let full = format!("refs/{name}");
    let sha = r.refs.get(&full).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json::git_ref(ctx.base, world, r, &full, sha),
    ))
}

/// `GET /repos/{o}/{r}/git/refs/{ref}`: the ref itself, or the refs it prefixes.
pub fn get_or_list(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let full = format!("refs/{name}");
    if let Some(sha) = r.refs.get(&full) {
        return Ok(Reply::Json(
            StatusCode::OK,
            json::git_ref(ctx.base, world, r, &full, sha),
        ));
    }
    let prefix = format!("{}/", full.trim_end_matches('/'));
    let items: Vec<_> = r
        .refs
        .iter()
        .filter(|(n, _)| n.starts_with(&prefix))
        .map(|(n, s)| json::git_ref(ctx.base, world, r, n, s))
        .collect();
    if items.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{o}/{r}/git/matching-refs/{ref}` (and `git/refs` with no ref: all of them).
pub fn list(world: &mut World, ctx: &Ctx<'_>, repo: &str, prefix: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let prefix = format!("refs/{prefix}");
    let items = r
        .refs
        .iter()
        .filter(|(n, _)| n.starts_with(&prefix))
        .map(|(n, s)| json::git_ref(ctx.base, world, r, n, s))
        .collect();
    Ok(Reply::Page(items, None))
}

#[derive(Deserialize)]
struct CreateRef {
    #[serde(rename = "ref")]
    name: Option<String>,
    sha: Option<String>,
}

/// `POST /repos/{o}/{r}/git/refs`
pub fn create(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: CreateRef = ctx.json()?;
    let name = body.name.ok_or_else(|| missing("ref"))?;
    let sha = body.sha.ok_or_else(|| missing("sha"))?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if r.refs.is_empty() {
        return Err(
            ApiError::new(StatusCode::CONFLICT, "Git Repository is empty.").doc(DOC_CREATE),
        );
    }
    if !name.starts_with("refs/") || name.matches('/').count() < 2 || name.ends_with('/') {
        return Err(ApiError::unprocessable(
            "Reference name must contain at least three slash-separated components.",
        )
        .doc(DOC_CREATE));
    }
    let sha = existing_target(world, &sha, &name)
        .ok_or_else(|| ApiError::unprocessable("Object does not exist").doc(DOC_CREATE))?;
    if r.refs.contains_key(&name) {
        return Err(ApiError::unprocessable("Reference already exists").doc(DOC_CREATE));
    }
    world.set_ref(repo, &name, Some(sha), ctx.who.id);
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::CREATED,
        json::git_ref(ctx.base, world, r, &name, &sha),
    ))
}

fn existing_commit(world: &World, sha: &str) -> Option<Sha> {
    let sha: Sha = sha.parse().ok()?;
    world.objects.commit(&sha).map(|_| sha)
}

/// A commit, or (for tag refs) an annotated tag object.
fn existing_target(world: &World, sha: &str, name: &str) -> Option<Sha> {
    let parsed: Sha = sha.parse().ok()?;
    if name.starts_with("refs/tags/") && world.objects.tag(&parsed).is_some() {
        return Some(parsed);
    }
    existing_commit(world, sha)
}

/// `GET /repos/{o}/{r}/git/tags/{sha}`
pub fn git_tag(world: &mut World, ctx: &Ctx<'_>, repo: &str, sha: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let sha: Sha = sha.parse().map_err(|_| ApiError::not_found())?;
    if world.objects.tag(&sha).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(Reply::Json(
        StatusCode::OK,
        json::git_tag(ctx.base, world, r, &sha),
    ))
}

#[derive(Deserialize)]
struct CreateTag {
    tag: Option<String>,
    message: Option<String>,
    object: Option<String>,
}

/// `POST /repos/{o}/{r}/git/tags`: an annotated tag object (the ref is created separately).
pub fn create_tag(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: CreateTag = ctx.json()?;
    let tag = body.tag.ok_or_else(|| missing("tag"))?;
    let message = body.message.ok_or_else(|| missing("message"))?;
    let object = body.object.ok_or_else(|| missing("object"))?;
    let target = existing_target(world, &object, "refs/tags/")
        .ok_or_else(|| ApiError::unprocessable("Object does not exist"))?;
    let tagger = world.signature_of(Some(ctx.who.id));
    let sha = world.objects.put_tag(crate::git::TagObject {
        object: target,
        tag: tag.into(),
        tagger,
        message: message.into(),
    });
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::CREATED,
        json::git_tag(ctx.base, world, r, &sha),
    ))
}

#[derive(Deserialize)]
struct UpdateRef {
    sha: Option<String>,
    #[serde(default)]
    force: bool,
}

/// `PATCH /repos/{o}/{r}/git/refs/{ref}`
pub fn update(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: UpdateRef = ctx.json()?;
    let sha = body.sha.ok_or_else(|| missing("sha"))?;
    let full = format!("refs/{name}");
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let Some(current) = r.refs.get(&full).copied() else {
        return Err(ApiError::unprocessable("Reference does not exist").doc(DOC_UPDATE));
    };
    let new = existing_target(world, &sha, &full)
        .ok_or_else(|| ApiError::unprocessable("Object does not exist").doc(DOC_UPDATE))?;
    if !body.force
        && !world
            .objects
            .is_ancestor(&world.objects.peel(&current), &world.objects.peel(&new))
    {
        return Err(ApiError::unprocessable("Update is not a fast forward").doc(DOC_UPDATE));
    }
    world.set_ref(repo, &full, Some(new), ctx.who.id);
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json::git_ref(ctx.base, world, r, &full, &new),
    ))
}

/// `DELETE /repos/{o}/{r}/git/refs/{ref}`
pub fn delete(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let full = format!("refs/{name}");
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if !r.refs.contains_key(&full) {
        return Err(ApiError::unprocessable("Reference does not exist").doc(DOC_DELETE));
    }
    if full == format!("refs/heads/{}", r.default_branch) {
        return Err(ApiError::unprocessable("Cannot delete the default branch").doc(DOC_DELETE));
    }
    world.set_ref(repo, &full, None, ctx.who.id);
    Ok(Reply::NoContent)
}

/// `GET /repos/{o}/{r}/git/commits/{sha}`
pub fn git_commit(world: &mut World, ctx: &Ctx<'_>, repo: &str, sha: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let sha = existing_commit(world, sha).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json::git_commit(ctx.base, world, r, &sha),
    ))
}

/// `GET /repos/{o}/{r}/commits/{ref}`
pub fn commit(world: &mut World, ctx: &Ctx<'_>, repo: &str, rev: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let sha = r
        .resolve(&world.objects, rev)
        .ok_or_else(|| ApiError::unprocessable(format!("No commit found for SHA: {rev}")))?;
    let mut commit = json::commit(ctx.base, world, r, &sha);
    super::compare::add_changes(&mut commit, ctx.base, world, r, &sha);
    Ok(Reply::Json(StatusCode::OK, commit))
}

/// `GET /repos/{o}/{r}/commits?sha=…`: first-parent history, newest first.
pub fn list_commits(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let start = ctx
        .query
        .get("sha")
        .cloned()
        .unwrap_or_else(|| r.default_branch.clone());
    let Some(mut cur) = r.resolve(&world.objects, &start) else {
        return Err(ApiError::not_found());
    };
    let mut items = Vec::new();
    loop {
        items.push(json::commit(ctx.base, world, r, &cur));
        match world.objects.commit(&cur).and_then(|c| c.parents.first()) {
            Some(p) => cur = *p,
            None => break,
        }
    }
    Ok(Reply::Page(items, None))
}

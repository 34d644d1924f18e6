//! Releases: create (duplicate tags rejected, tag created on publish), get by id/tag/latest, list,
//! update (draft → published, prerelease → release, with the workflow events each fires), delete
//! (with its assets), and generated release notes.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{Ctx, Outcome, Reply, id_of};
use crate::error::ApiError;
use crate::json;
use crate::spec::Access;
use crate::world::{Release, Repo, World};

const DOC_CREATE: &str = "https://docs.github.com/rest/releases/releases#create-a-release";

/// `GET /repos/{o}/{r}/releases`
pub fn list(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    let perms = ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let items = r
        .releases
        .iter()
        .rev()
        .filter(|rel| !rel.draft || perms.contents == Access::Write)
        .map(|rel| json::release(ctx.base, world, r, rel))
        .collect();
    Ok(Reply::Page(items, None))
}

fn reply(
    world: &World,
    ctx: &Ctx<'_>,
    repo: &str,
    find: impl Fn(&Release) -> bool,
    status: StatusCode,
) -> Outcome {
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let rel = r
        .releases
        .iter()
        .find(|x| find(x))
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(status, json::release(ctx.base, world, r, rel)))
}

/// `GET /repos/{o}/{r}/releases/{id}`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let id = id_of(id)?;
    reply(world, ctx, repo, |r| r.id == id, StatusCode::OK)
}

/// `GET /repos/{o}/{r}/releases/tags/{tag}` (published releases only, as on GitHub).
pub fn by_tag(world: &mut World, ctx: &Ctx<'_>, repo: &str, tag: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    reply(
        world,
        ctx,
        repo,
        |r| r.tag_name == tag && !r.draft,
        StatusCode::OK,
    )
}

/// GitHub's `make_latest`: `true` (the default), `false` or `legacy`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MakeLatest {
    Yes,
    No,
    Legacy,
}

fn latest_choice(given: Option<&str>) -> Result<MakeLatest, ApiError> {
    match given {
        None | Some("true") => Ok(MakeLatest::Yes),
        Some("false") => Ok(MakeLatest::No),
        Some("legacy") => Ok(MakeLatest::Legacy),
        Some(_) => Err(ApiError::validation("Release", "invalid", "make_latest").doc(DOC_CREATE)),
    }
}

/// Marks release `id` latest as `choice` says. Drafts and prereleases never become latest;
/// `legacy` hands the choice back to creation date and version ([`latest`] decides on read).
fn apply_latest(r: &mut Repo, id: u64, choice: MakeLatest) {
    let eligible = r
        .releases
        .iter()
        .any(|rel| rel.id == id && !rel.draft && !rel.prerelease);
    match choice {
        MakeLatest::Yes if eligible => r.latest_release = Some(id),
        MakeLatest::Legacy if eligible => r.latest_release = None,
        MakeLatest::Yes | MakeLatest::No | MakeLatest::Legacy => {}
    }
}

/// `GET /repos/{o}/{r}/releases/latest`
pub fn latest(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let chosen = latest_of(r).ok_or_else(ApiError::not_found)?.id;
    reply(world, ctx, repo, |rel| rel.id == chosen, StatusCode::OK)
}

/// The latest release: the one marked `make_latest`, else the newest published full release.
pub(super) fn latest_of(r: &Repo) -> Option<&Release> {
    let eligible = |rel: &&Release| !rel.draft && !rel.prerelease;
    r.latest_release
        .and_then(|id| r.releases.iter().filter(eligible).find(|rel| rel.id == id))
        .or_else(|| {
            r.releases
                .iter()
                .filter(eligible)
                .max_by_key(|rel| (rel.published_at, rel.id))
        })
}

#[derive(Deserialize)]
struct ReleaseBody {
    tag_name: Option<String>,
    target_commitish: Option<String>,
    name: Option<String>,
    body: Option<String>,
    draft: Option<bool>,
    prerelease: Option<bool>,
    make_latest: Option<String>,
}

/// `POST /repos/{o}/{r}/releases`
pub fn create(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: ReleaseBody = ctx.json()?;
    let tag = body.tag_name.ok_or_else(|| {
        ApiError::validation("Release", "missing_field", "tag_name").doc(DOC_CREATE)
    })?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if r.releases.iter().any(|rel| rel.tag_name == tag) {
        return Err(ApiError::validation("Release", "already_exists", "tag_name").doc(DOC_CREATE));
    }
    let target = body
        .target_commitish
        .unwrap_or_else(|| r.default_branch.clone());
    let (draft, prerelease) = (
        body.draft.unwrap_or(false),
        body.prerelease.unwrap_or(false),
    );
    if !draft {
        ensure_tag(world, ctx, repo, &tag, &target)?;
    }
    let id = world.next_id();
    let now = world.clock.now_secs();
    let release = Release {
        id,
        tag_name: tag.clone(),
        target_commitish: target,
        name: body.name,
        body: body.body,
        draft,
        prerelease,
        author: ctx.who.id,
        created_at: now,
        published_at: (!draft).then_some(now),
    };
    let make_latest = latest_choice(body.make_latest.as_deref())?;
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    r.releases.push(release);
    apply_latest(r, id, make_latest);
    let payload = json!({"id": id, "tag_name": tag, "prerelease": prerelease, "draft": draft});
    world.record_event(
        "release",
        Some("created"),
        repo,
        ctx.who.id,
        payload.clone(),
    );
    if !draft {
        world.record_event(
            "release",
            Some("published"),
            repo,
            ctx.who.id,
            payload.clone(),
        );
        let action = if prerelease {
            "prereleased"
        } else {
            "released"
        };
        world.record_event("release", Some(action), repo, ctx.who.id, payload);
    }
    reply(world, ctx, repo, |rel| rel.id == id, StatusCode::CREATED)
}

/// Creates `refs/tags/{tag}` at `target` unless the tag exists.
fn ensure_tag(
    world: &mut World,
    ctx: &Ctx<'_>,
    repo: &str,
    tag: &str,
    target: &str,
) -> Result<(), ApiError> {
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let full = format!("refs/tags/{tag}");
    if r.refs.contains_key(&full) {
        return Ok(());
    }
    let sha = r.resolve(&world.objects, target).ok_or_else(|| {
        ApiError::validation("Release", "invalid", "target_commitish").doc(DOC_CREATE)
    })?;
    world.set_ref(repo, &full, Some(sha), ctx.who.id);
    Ok(())
}

/// `PATCH /repos/{o}/{r}/releases/{id}`
pub fn update(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let id = id_of(id)?;
    let body: ReleaseBody = ctx.json()?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let old = r
        .releases
        .iter()
        .find(|rel| rel.id == id)
        .ok_or_else(ApiError::not_found)?
        .clone();
    if let Some(tag) = &body.tag_name
        && *tag != old.tag_name
        && r.releases.iter().any(|rel| rel.tag_name == *tag)
    {
        return Err(ApiError::validation(
            "Release",
            "already_exists",
            "tag_name",
        ));
    }
    let tag = body
        .tag_name
        .clone()
        .unwrap_or_else(|| old.tag_name.clone());
    let target = body
        .target_commitish
        .clone()
        .unwrap_or_else(|| old.target_commitish.clone());
    let draft = body.draft.unwrap_or(old.draft);
    let prerelease = body.prerelease.unwrap_or(old.prerelease);
    let make_latest = latest_choice(body.make_latest.as_deref())?;
    if !draft {
        ensure_tag(world, ctx, repo, &tag, &target)?;
    }
    let now = world.clock.now_secs();
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    let rel = r
        .releases
        .iter_mut()
        .find(|rel| rel.id == id)
        .ok_or_else(ApiError::not_found)?;
    rel.tag_name.clone_from(&tag);
    rel.target_commitish = target;
    if body.name.is_some() {
        rel.name = body.name;
    }
    if body.body.is_some() {
        rel.body = body.body;
    }
    rel.draft = draft;
    rel.prerelease = prerelease;
    if old.draft && !draft {
        rel.published_at = Some(now);
    }
    apply_latest(r, id, make_latest);
    let payload = json!({"id": id, "tag_name": tag, "prerelease": prerelease, "draft": draft});
    world.record_event("release", Some("edited"), repo, ctx.who.id, payload.clone());
    if old.draft && !draft {
        // A published draft fires `published` (a draft prerelease does not fire `prereleased`).
        world.record_event(
            "release",
            Some("published"),
            repo,
            ctx.who.id,
            payload.clone(),
        );
        if !prerelease {
            world.record_event("release", Some("released"), repo, ctx.who.id, payload);
        }
    } else if !draft && old.prerelease && !prerelease {
        world.record_event("release", Some("released"), repo, ctx.who.id, payload);
    }
    reply(world, ctx, repo, |rel| rel.id == id, StatusCode::OK)
}

/// `DELETE /repos/{o}/{r}/releases/{id}` (the tag stays, as on GitHub).
pub fn delete(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let id = id_of(id)?;
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    let pos = r
        .releases
        .iter()
        .position(|rel| rel.id == id)
        .ok_or_else(ApiError::not_found)?;
    let rel = r.releases.remove(pos);
    r.release_assets.retain(|a| a.release_id != id);
    if r.latest_release == Some(id) {
        r.latest_release = None;
    }
    world.record_event(
        "release",
        Some("deleted"),
        repo,
        ctx.who.id,
        json!({"id": id, "tag_name": rel.tag_name}),
    );
    Ok(Reply::NoContent)
}

#[derive(Deserialize)]
struct NotesBody {
    tag_name: Option<String>,
    target_commitish: Option<String>,
    previous_tag_name: Option<String>,
}

/// `POST /repos/{o}/{r}/releases/generate-notes`: merged pull requests since the previous tag.
pub fn generate_notes(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: NotesBody = ctx.json()?;
    let tag = body
        .tag_name
        .ok_or_else(|| ApiError::validation("Release", "missing_field", "tag_name"))?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let target = body
        .target_commitish
        .or_else(|| {
            r.refs
                .contains_key(&format!("refs/tags/{tag}"))
                .then(|| tag.clone())
        })
        .unwrap_or_else(|| r.default_branch.clone());
    let head = r
        .resolve(&world.objects, &target)
        .ok_or_else(|| ApiError::validation("Release", "invalid", "target_commitish"))?;
    let previous = body.previous_tag_name.or_else(|| {
        r.releases
            .iter()
            .rev()
            .find(|rel| !rel.draft && rel.tag_name != tag)
            .map(|rel| rel.tag_name.clone())
    });
    let since = previous
        .as_deref()
        .and_then(|p| r.resolve(&world.objects, p));
    let mut lines = Vec::new();
    for p in r.pulls.iter().filter(|p| p.merged) {
        let Some(m) = p.merge_commit_sha else {
            continue;
        };
        let reachable = world.objects.is_ancestor(&m, &head);
        let before = since.is_some_and(|s| world.objects.is_ancestor(&m, &s));
        if reachable && !before {
            lines.push(format!(
                "* {} by @{} in {}/{repo}/pull/{}",
                p.title,
                world.login_of(p.user),
                ctx.base,
                p.number
            ));
        }
    }
    let mut text = String::new();
    if !lines.is_empty() {
        text.push_str("## What's Changed\n");
        text.push_str(&lines.join("\n"));
        text.push_str("\n\n\n");
    }
    let base = ctx.base;
    let changelog = match previous {
        Some(p) => format!("**Full Changelog**: {base}/{repo}/compare/{p}...{tag}"),
        None => format!("**Full Changelog**: {base}/{repo}/commits/{tag}"),
    };
    text.push_str(&changelog);
    Ok(Reply::Json(
        StatusCode::OK,
        json!({"name": tag, "body": text}),
    ))
}

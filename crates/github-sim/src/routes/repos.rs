//! Repository, branch and tag endpoints.

use http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, Outcome, Reply};
use crate::error::ApiError;
use crate::json;
use crate::spec::Access;
use crate::world::World;

/// `GET /repos/{owner}/{repo}`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    let perms = ctx.perms(world, repo)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json::repo(ctx.base, world, r, Some(perms)),
    ))
}

/// `GET /repos/{owner}/{repo}/branches/{branch}`
pub fn branch(world: &mut World, ctx: &Ctx<'_>, repo: &str, name: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let sha = r
        .branch(name)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Branch not found"))?;
    let u = format!("{}/repos/{repo}", ctx.base);
    let protection = r.protection.get(name);
    Ok(Reply::Json(
        StatusCode::OK,
        json!({
            "name": name,
            "commit": json::commit(ctx.base, world, r, &sha),
            "_links": {"self": format!("{u}/branches/{name}"), "html": format!("{}/{repo}/tree/{name}", ctx.base)},
            "protected": protection.is_some(),
            "protection": {
                "enabled": protection.is_some(),
                "required_status_checks": {
                    "enforcement_level": if protection.is_some() { "non_admins" } else { "off" },
                    "contexts": protection.map(|p| p.required_checks.clone()).unwrap_or_default(),
                    "checks": protection.map(|p| p.required_checks.iter().map(|c| json!({"context": c, "app_id": null})).collect::<Vec<_>>()).unwrap_or_default(),
                }
            },
            "protection_url": format!("{u}/branches/{name}/protection"),
        }),
    ))
}

/// `GET /repos/{owner}/{repo}/branches` (`protected=true|false` filters), by name.
pub fn branches(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let want = ctx.query.get("protected").map(|p| p == "true");
    let u = format!("{}/repos/{repo}", ctx.base);
    let items: Vec<Value> = r
        .refs
        .iter()
        .filter_map(|(name, sha)| Some((name.strip_prefix("refs/heads/")?, sha)))
        .filter(|(name, _)| want.is_none_or(|w| w == r.protection.contains_key(*name)))
        .map(|(name, sha)| {
            json!({
                "name": name,
                "commit": {"sha": sha.hex(), "url": format!("{u}/commits/{sha}")},
                "protected": r.protection.contains_key(name),
            })
        })
        .collect();
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{owner}/{repo}/tags`: every tag (annotated ones peeled to their commit), the
/// highest name first.
pub fn tags(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let u = format!("{}/repos/{repo}", ctx.base);
    let items: Vec<Value> = r
        .refs
        .iter()
        .rev()
        .filter_map(|(name, sha)| Some((name.strip_prefix("refs/tags/")?, sha)))
        .map(|(name, sha)| {
            let commit = world.objects.peel(sha);
            json!({
                "name": name,
                "zipball_url": format!("{u}/zipball/refs/tags/{name}"),
                "tarball_url": format!("{u}/tarball/refs/tags/{name}"),
                "commit": {"sha": commit.hex(), "url": format!("{u}/commits/{commit}")},
                "node_id": json::node_id("Ref", r.id),
            })
        })
        .collect();
    Ok(Reply::Page(items, None))
}

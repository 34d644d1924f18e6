//! Repository and branch endpoints.

use http::StatusCode;
use serde_json::json;

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
        json::repo(ctx.base, r, Some(perms)),
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

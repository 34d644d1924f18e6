//! GitHub App routes: what an App signed in with its JWT may call (itself, its installations,
//! minting installation tokens narrowed to repositories and permissions), and revoking the
//! calling installation token.

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Auth, Ctx, Outcome, Reply, forbidden, id_of, unknown};
use crate::apps::Installation;
use crate::error::ApiError;
use crate::json;
use crate::spec::{AccountType, Level};
use crate::world::World;

const DOCS: &str = "https://docs.github.com/rest/apps/apps";

/// Whether a route takes an App's JWT rather than a token.
pub fn needs_jwt(segs: &[&str]) -> bool {
    matches!(
        segs,
        ["app", ..] | ["repos", _, _, "installation"] | ["users" | "orgs", _, "installation"]
    )
}

/// Routes a request signed with the JWT of App `app`: only the App's own routes answer.
pub fn dispatch(world: &mut World, ctx: &Ctx<'_>, app: u64, segs: &[&str]) -> Outcome {
    let m = ctx.method;
    let get = m == Method::GET;
    match segs {
        ["app"] if get => get_app(world, ctx, app),
        ["app", "installations"] if get => Ok(Reply::Page(
            world
                .installations
                .values()
                .filter(|i| i.app == app)
                .map(|i| json::installation(ctx.base, world, i))
                .collect(),
            None,
        )),
        ["app", "installations", id] if get => {
            let inst = own(world, app, id_of(id)?)?;
            Ok(answer(json::installation(ctx.base, world, inst)))
        }
        ["app", "installations", id, "access_tokens"] if m == Method::POST => {
            create_token(world, ctx, app, id_of(id)?)
        }
        ["repos", owner, name, "installation"] if get => {
            let inst = world
                .canonical_repo(&format!("{owner}/{name}"))
                .and_then(|repo| {
                    world
                        .installations
                        .values()
                        .find(|i| i.app == app && world.installation_repos(i).contains(&repo))
                })
                .ok_or_else(|| {
                    not_found("get-a-repository-installation-for-the-authenticated-app")
                })?;
            Ok(answer(json::installation(ctx.base, world, inst)))
        }
        ["users", login, "installation"] if get => {
            let inst = world
                .installation_on(app, login)
                .ok_or_else(|| not_found("get-a-user-installation-for-the-authenticated-app"))?;
            Ok(answer(json::installation(ctx.base, world, inst)))
        }
        ["orgs", org, "installation"] if get => {
            let inst = world
                .installation_on(app, org)
                .filter(|i| i.account_type == AccountType::Organization)
                .ok_or_else(|| {
                    not_found("get-an-organization-installation-for-the-authenticated-app")
                })?;
            Ok(answer(json::installation(ctx.base, world, inst)))
        }
        _ if needs_jwt(segs) => Err(unknown(m, segs)),
        // Signed in as the App itself, not as an installation: nothing else is reachable.
        _ => Err(forbidden(ctx.who)),
    }
}

fn answer(v: Value) -> Reply {
    Reply::Json(StatusCode::OK, v)
}

fn not_found(anchor: &str) -> ApiError {
    ApiError::not_found().doc(&format!("{DOCS}#{anchor}"))
}

/// An installation of `app`; 404 for any other.
fn own(world: &World, app: u64, id: u64) -> Result<&Installation, ApiError> {
    world
        .installations
        .get(&id)
        .filter(|i| i.app == app)
        .ok_or_else(|| not_found("get-an-installation-for-the-authenticated-app"))
}

/// `GET /app`
fn get_app(world: &World, ctx: &Ctx<'_>, app: u64) -> Outcome {
    let a = world.apps.get(&app).ok_or_else(ApiError::not_found)?;
    let mut granted: BTreeMap<String, Level> = BTreeMap::new();
    let mut count = 0;
    for inst in world.installations.values().filter(|i| i.app == app) {
        count += 1;
        for (name, level) in &inst.permissions {
            let entry = granted.entry(name.clone()).or_insert(*level);
            *entry = (*entry).max(*level);
        }
    }
    let mut v = json::app_object(ctx.base, a, &json::levels(&granted));
    if let Value::Object(m) = &mut v {
        m.insert("installations_count".into(), json!(count));
    }
    Ok(answer(v))
}

#[derive(Deserialize)]
struct TokenRequest {
    repositories: Option<Vec<String>>,
    repository_ids: Option<Vec<u64>>,
    permissions: Option<BTreeMap<String, String>>,
}

const NOT_IN_INSTALLATION: &str = "There is at least one repository that does not exist or is not accessible to the parent installation.";
const NOT_GRANTED: &str = "The permissions requested are not granted to this installation.";

/// `POST /app/installations/{id}/access_tokens`: 201 with a `ghs_` token for one hour of
/// simulated time, narrowed to `repositories`/`repository_ids` and `permissions` within what
/// the installation has (422 beyond it).
fn create_token(world: &mut World, ctx: &Ctx<'_>, app: u64, id: u64) -> Outcome {
    let req: TokenRequest = ctx.json()?;
    let inst = own(world, app, id)?.clone();
    let refused = |message: &str| {
        ApiError::unprocessable(message).doc(&format!(
            "{DOCS}#create-an-installation-access-token-for-an-app"
        ))
    };
    let reach = world.installation_repos(&inst);
    let mut chosen: Vec<String> = Vec::new();
    for name in req.repositories.iter().flatten() {
        let repo = world
            .canonical_repo(&format!("{}/{name}", inst.account))
            .filter(|r| reach.contains(r))
            .ok_or_else(|| refused(NOT_IN_INSTALLATION))?;
        chosen.push(repo);
    }
    for repo_id in req.repository_ids.iter().flatten() {
        let repo = reach
            .iter()
            .find(|r| world.repos.get(*r).is_some_and(|r| r.id == *repo_id))
            .ok_or_else(|| refused(NOT_IN_INSTALLATION))?;
        chosen.push(repo.clone());
    }
    chosen.sort();
    chosen.dedup();
    let narrowed = (!chosen.is_empty()).then_some(chosen);
    let permissions = match req.permissions.filter(|p| !p.is_empty()) {
        None => inst.permissions.clone(),
        Some(asked) => {
            let mut granted = BTreeMap::new();
            for (name, level) in asked {
                let level = Level::parse(&level)
                    .filter(|l| inst.permissions.get(&name).is_some_and(|has| has >= l))
                    .ok_or_else(|| refused(NOT_GRANTED))?;
                granted.insert(name, level);
            }
            granted.entry("metadata".into()).or_insert(Level::Read);
            granted
        }
    };
    let selected = narrowed.clone().or_else(|| inst.repositories.clone());
    let (token, grant) = world.mint_installation_token(inst.id, narrowed, permissions);
    Ok(Reply::Json(
        StatusCode::CREATED,
        json::installation_token(ctx.base, world, &token, &grant, selected.as_deref()),
    ))
}

/// `DELETE /installation/token`: revokes the installation token of the request (204); it then
/// answers 401. Personal access tokens are refused (403).
pub fn revoke(world: &mut World, ctx: &Ctx<'_>) -> Outcome {
    match ctx.auth {
        Auth::Token(token) if ctx.who.is_app() && world.revoke_installation_token(token) => {
            Ok(Reply::NoContent)
        }
        _ => Err(forbidden(ctx.who).doc(
            "https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token",
        )),
    }
}

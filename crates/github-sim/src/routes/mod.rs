//! REST routing: matches method and path segments to handlers, and answers anything unknown with a
//! loud 404/501 that names the method and path (never an empty 200).

pub mod apps;
mod checks;
mod compare;
mod contents;
pub(crate) mod deployments;
mod environments;
mod graphql;
mod issues;
pub(crate) mod pulls;
mod refs;
pub mod release_assets;
mod releases;
mod repos;

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::spec::{Access, IdentityKind, RepoPermissions};
use crate::world::{Identity, World};

/// What a handler answers.
pub enum Reply {
    /// A JSON body with a status.
    Json(StatusCode, Value),
    /// A list to paginate; with `Some(key)` it is wrapped as `{total_count, key: [...]}`.
    Page(Vec<Value>, Option<&'static str>),
    /// 204 No Content.
    NoContent,
    /// A raw body (`application/vnd.github.raw`).
    Raw(Vec<u8>),
    /// 302 Found to this URL.
    Redirect(String),
    /// A file download (`application/octet-stream`, attachment named `name`).
    Download { name: String, bytes: bytes::Bytes },
    /// A JSON object that is one page of a longer answer, with its `Link` header.
    Linked(Value, Option<String>),
}

pub type Outcome = Result<Reply, ApiError>;

/// How the caller signed in.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// With a token (personal access, installation or workflow token).
    Token(&'a str),
    /// With the JWT of the App with this ID.
    App(u64),
}

/// Everything a handler may read about the request.
pub struct Ctx<'a> {
    pub base: &'a str,
    pub method: &'a Method,
    pub query: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
    pub who: &'a Identity,
    pub auth: Auth<'a>,
    pub accept: &'a str,
    pub content_type: &'a str,
}

impl Ctx<'_> {
    /// The JSON body as `T`: GitHub's 400 "Problems parsing JSON" when it is not JSON, 422
    /// "Invalid request" naming the field when a field has the wrong type.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body = if self.body.is_empty() {
            b"{}".as_slice()
        } else {
            self.body
        };
        let value: Value =
            serde_json::from_slice(body).map_err(|e| ApiError::bad_json(&e.to_string()))?;
        serde_path_to_error::deserialize(&value).map_err(|e| {
            let field = e.path().to_string();
            if field.is_empty() || field == "." {
                return ApiError::bad_json(&e.inner().to_string());
            }
            let given = e
                .path()
                .iter()
                .try_fold(&value, |v, seg| match seg {
                    serde_path_to_error::Segment::Map { key } => v.get(key),
                    serde_path_to_error::Segment::Seq { index } => v.get(index),
                    _ => None,
                })
                .map_or_else(String::new, Value::to_string);
            let expected = expected_type(&e.inner().to_string());
            ApiError::unprocessable(format!(
                "Invalid request.\n\nFor 'properties/{field}', {given} is not {expected}."
            ))
        })
    }

    /// The permissions of the caller on `repo`; 404 when it cannot see it.
    pub fn perms(&self, world: &World, repo: &str) -> Result<RepoPermissions, ApiError> {
        world.access(self.who, repo).ok_or_else(ApiError::not_found)
    }

    /// Requires `need` on the permission chosen by `pick`; GitHub's 403 otherwise.
    pub fn need(
        &self,
        world: &World,
        repo: &str,
        pick: fn(&RepoPermissions) -> Access,
        need: Access,
    ) -> Result<RepoPermissions, ApiError> {
        let perms = self.perms(world, repo)?;
        if pick(&perms) >= need {
            Ok(perms)
        } else {
            Err(forbidden(self.who))
        }
    }
}

/// The JSON type serde expected, in GitHub's words ("a string", "an integer"…).
fn expected_type(serde_message: &str) -> &'static str {
    let expected = serde_message.split_once("expected ").map_or("", |(_, e)| e);
    if expected.contains("bool") {
        "a boolean"
    } else if expected.contains("string") || expected.contains("char") {
        "a string"
    } else if expected.contains("integer") || expected.starts_with('u') || expected.starts_with('i')
    {
        "an integer"
    } else if expected.contains("sequence") {
        "an array"
    } else if expected.contains("f64") || expected.contains("f32") {
        "a number"
    } else {
        "an object"
    }
}

/// GitHub's 403 for a token lacking a permission.
pub fn forbidden(who: &Identity) -> ApiError {
    let message = match who.kind {
        IdentityKind::App | IdentityKind::GithubToken => "Resource not accessible by integration",
        IdentityKind::User | IdentityKind::Bot => {
            "Resource not accessible by personal access token"
        }
    };
    ApiError::new(StatusCode::FORBIDDEN, message)
}

/// Routes an authenticated REST request.
pub fn dispatch(world: &mut World, ctx: &Ctx<'_>, segs: &[&str]) -> Outcome {
    let m = ctx.method;
    if let Auth::App(app) = ctx.auth {
        return apps::dispatch(world, ctx, app, segs);
    }
    match segs {
        ["installation", "token"] if m == Method::DELETE => apps::revoke(world, ctx),
        // An installation or workflow token is no user: GitHub refuses to say who it is.
        ["user"] if m == Method::GET && ctx.who.is_app() => Err(forbidden(ctx.who)
            .doc("https://docs.github.com/rest/users/users#get-the-authenticated-user")),
        ["user"] if m == Method::GET => Ok(Reply::Json(
            StatusCode::OK,
            crate::json::identity(ctx.base, world, ctx.who.id),
        )),
        ["graphql"] if m == Method::POST => graphql::serve(world, ctx),
        ["repos", owner, name, rest @ ..] => {
            let asked = format!("{owner}/{name}");
            // Owner and name are case-insensitive; answers carry the stored spelling.
            let repo = world.canonical_repo(&asked).unwrap_or(asked);
            route_repo(world, ctx, &repo, rest)
        }
        _ => Err(unknown(m, segs)),
    }
}

fn route_repo(world: &mut World, ctx: &Ctx<'_>, repo: &str, rest: &[&str]) -> Outcome {
    let m = ctx.method.clone();
    let get = m == Method::GET;
    match rest {
        [] if get => repos::get(world, ctx, repo),
        ["branches"] if get => repos::branches(world, ctx, repo),
        ["tags"] if get => repos::tags(world, ctx, repo),
        ["branches", branch @ ..] if get && !branch.is_empty() => {
            repos::branch(world, ctx, repo, &branch.join("/"))
        }
        ["git", "ref", r @ ..] if get && !r.is_empty() => refs::get(world, ctx, repo, &r.join("/")),
        ["git", "refs"] if get => refs::list(world, ctx, repo, ""),
        ["git", "refs", r @ ..] if get => refs::get_or_list(world, ctx, repo, &r.join("/")),
        ["git", "matching-refs", r @ ..] if get => refs::list(world, ctx, repo, &r.join("/")),
        ["git", "refs"] if m == Method::POST => refs::create(world, ctx, repo),
        ["git", "refs", r @ ..] if m == Method::PATCH && !r.is_empty() => {
            refs::update(world, ctx, repo, &r.join("/"))
        }
        ["git", "refs", r @ ..] if m == Method::DELETE && !r.is_empty() => {
            refs::delete(world, ctx, repo, &r.join("/"))
        }
        ["git", "commits", sha] if get => refs::git_commit(world, ctx, repo, sha),
        ["git", "tags", sha] if get => refs::git_tag(world, ctx, repo, sha),
        ["git", "tags"] if m == Method::POST => refs::create_tag(world, ctx, repo),
        ["commits"] if get => refs::list_commits(world, ctx, repo),
        ["compare", basehead @ ..] if get && !basehead.is_empty() => {
            compare::compare(world, ctx, repo, &basehead.join("/"))
        }
        ["commits", r @ .., "check-runs"] if get && !r.is_empty() => {
            checks::list_for_ref(world, ctx, repo, &r.join("/"))
        }
        ["commits", r @ .., "check-suites"] if get && !r.is_empty() => {
            checks::suites_for_ref(world, ctx, repo, &r.join("/"))
        }
        ["commits", r @ .., "statuses"] if get && !r.is_empty() => {
            checks::list_statuses(world, ctx, repo, &r.join("/"))
        }
        ["commits", r @ .., "status"] if get && !r.is_empty() => {
            checks::combined_status(world, ctx, repo, &r.join("/"))
        }
        ["commits", r @ ..] if get && !r.is_empty() => refs::commit(world, ctx, repo, &r.join("/")),
        ["contents"] if get => contents::get(world, ctx, repo, ""),
        ["contents", p @ ..] if get => contents::get(world, ctx, repo, &p.join("/")),
        ["contents", p @ ..] if m == Method::PUT && !p.is_empty() => {
            contents::put(world, ctx, repo, &p.join("/"))
        }
        ["contents", p @ ..] if m == Method::DELETE && !p.is_empty() => {
            contents::delete(world, ctx, repo, &p.join("/"))
        }
        ["pulls"] if get => pulls::list(world, ctx, repo),
        ["pulls"] if m == Method::POST => pulls::create(world, ctx, repo),
        ["pulls", n, tail @ ..] => {
            let number: u64 = n.parse().map_err(|_| ApiError::not_found())?;
            route_pull(world, ctx, repo, number, tail, rest)
        }
        ["issues", n, "comments"] if get => issues::list_comments(world, ctx, repo, id_of(n)?),
        ["issues", n, "comments"] if m == Method::POST => {
            issues::create_comment(world, ctx, repo, id_of(n)?)
        }
        ["check-runs"] if m == Method::POST => checks::create_run(world, ctx, repo),
        ["check-runs", id] if get => checks::get_run(world, ctx, repo, id),
        ["check-runs", id] if m == Method::PATCH => checks::update_run(world, ctx, repo, id),
        ["check-suites", id] if get => checks::get_suite(world, ctx, repo, id),
        ["check-suites", id, "check-runs"] if get => checks::runs_in_suite(world, ctx, repo, id),
        ["statuses", sha] if m == Method::POST => checks::create_status(world, ctx, repo, sha),
        ["deployments" | "environments", ..] => route_deployments(world, ctx, repo, rest),
        ["releases"] if get => releases::list(world, ctx, repo),
        ["releases"] if m == Method::POST => releases::create(world, ctx, repo),
        ["releases", "latest"] if get => releases::latest(world, ctx, repo),
        ["releases", "generate-notes"] if m == Method::POST => {
            releases::generate_notes(world, ctx, repo)
        }
        ["releases", "tags", tag @ ..] if get && !tag.is_empty() => {
            releases::by_tag(world, ctx, repo, &tag.join("/"))
        }
        ["releases", "assets", id] if get => release_assets::get(world, ctx, repo, id),
        ["releases", "assets", id] if m == Method::PATCH => {
            release_assets::update(world, ctx, repo, id)
        }
        ["releases", "assets", id] if m == Method::DELETE => {
            release_assets::delete(world, ctx, repo, id)
        }
        ["releases", id, "assets"] if get => release_assets::list(world, ctx, repo, id),
        ["releases", id, "assets"] if m == Method::POST => {
            release_assets::upload(world, ctx, repo, id)
        }
        ["releases", id] if get => releases::get(world, ctx, repo, id),
        ["releases", id] if m == Method::PATCH => releases::update(world, ctx, repo, id),
        ["releases", id] if m == Method::DELETE => releases::delete(world, ctx, repo, id),
        _ => Err(unknown_repo(&m, repo, rest)),
    }
}

/// `/repos/{repo}/deployments…` and `/repos/{repo}/environments…`.
fn route_deployments(world: &mut World, ctx: &Ctx<'_>, repo: &str, rest: &[&str]) -> Outcome {
    let m = ctx.method.clone();
    let get = m == Method::GET;
    match rest {
        ["deployments"] if get => deployments::list(world, ctx, repo),
        ["deployments"] if m == Method::POST => deployments::create(world, ctx, repo),
        ["deployments", id] if get => deployments::get(world, ctx, repo, id),
        ["deployments", id] if m == Method::DELETE => deployments::delete(world, ctx, repo, id),
        ["deployments", id, "statuses"] if get => deployments::list_statuses(world, ctx, repo, id),
        ["deployments", id, "statuses"] if m == Method::POST => {
            deployments::create_status(world, ctx, repo, id)
        }
        ["deployments", id, "statuses", sid] if get => {
            deployments::get_status(world, ctx, repo, id, sid)
        }
        ["environments"] if get => environments::list(world, ctx, repo),
        ["environments", name] if get => environments::get(world, ctx, repo, name),
        ["environments", name] if m == Method::PUT => environments::put(world, ctx, repo, name),
        ["environments", name] if m == Method::DELETE => {
            environments::delete(world, ctx, repo, name)
        }
        _ => Err(unknown_repo(&m, repo, rest)),
    }
}

/// `/repos/{repo}/pulls/{number}/{tail}`; `rest` is the whole path after the repository.
fn route_pull(
    world: &mut World,
    ctx: &Ctx<'_>,
    repo: &str,
    number: u64,
    tail: &[&str],
    rest: &[&str],
) -> Outcome {
    let m = ctx.method.clone();
    let get = m == Method::GET;
    match tail {
        [] if get => pulls::get(world, ctx, repo, number),
        [] if m == Method::PATCH => pulls::update(world, ctx, repo, number),
        ["merge"] if get => pulls::is_merged(world, ctx, repo, number),
        ["merge"] if m == Method::PUT => pulls::merge(world, ctx, repo, number),
        ["commits"] if get => pulls::commits(world, ctx, repo, number),
        ["files"] if get => compare::pull_files(world, ctx, repo, number),
        ["reviews"] if get => pulls::list_reviews(world, ctx, repo, number),
        ["reviews"] if m == Method::POST => pulls::create_review(world, ctx, repo, number),
        ["update-branch"] if m == Method::PUT => pulls::update_branch(world, ctx, repo, number),
        _ => Err(unknown_repo(&m, repo, rest)),
    }
}

fn unknown_repo(m: &Method, repo: &str, rest: &[&str]) -> ApiError {
    let mut segs = vec!["repos"];
    segs.extend(repo.split('/'));
    segs.extend_from_slice(rest);
    unknown(m, &segs)
}

/// The loud answer for a route the simulator does not implement.
pub fn unknown(method: &Method, segs: &[&str]) -> ApiError {
    let path = format!("/{}", segs.join("/"));
    let known_resource = matches!(
        segs,
        [
            "repos",
            _,
            _,
            "pulls"
                | "git"
                | "contents"
                | "releases"
                | "check-runs"
                | "check-suites"
                | "statuses"
                | "commits"
                | "branches"
                | "tags"
                | "compare"
                | "issues"
                | "deployments"
                | "environments",
            ..
        ]
    );
    let status = if known_resource {
        StatusCode::NOT_IMPLEMENTED
    } else {
        StatusCode::NOT_FOUND
    };
    ApiError::new(
        status,
        format!("github-sim does not implement {method} {path}"),
    )
}

/// Parses a numeric id segment (404 when it is not a number, as GitHub does).
pub fn id_of(s: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| ApiError::not_found())
}

/// 422 "Invalid request" for a missing required field, worded as GitHub does.
pub fn missing(field: &str) -> ApiError {
    ApiError::unprocessable(format!("Invalid request.\n\n\"{field}\" wasn't supplied."))
}

//! The contents API: read files and directories, create/update a file (blob `sha` required to
//! update: 409 when stale), delete a file. Every write is a real commit on the branch.

use base64::Engine as _;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, Outcome, Reply, missing};
use crate::error::ApiError;
use crate::git::Sha;
use crate::json;
use crate::spec::Access;
use crate::world::World;

const DOC_PUT: &str = "https://docs.github.com/rest/repos/contents#create-or-update-file-contents";
const DOC_DELETE: &str = "https://docs.github.com/rest/repos/contents#delete-a-file";

/// `GET /repos/{o}/{r}/contents/{path}?ref=`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, path: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let rev = ctx
        .query
        .get("ref")
        .cloned()
        .unwrap_or_else(|| r.default_branch.clone());
    let commit = r.resolve(&world.objects, &rev).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No commit found for the ref {rev}"),
        )
    })?;
    let files = world.objects.commit_files(&commit);
    let path = path.trim_end_matches('/');
    if let Some(blob) = files.get(path) {
        let content = world.objects.blob(blob).unwrap_or_default();
        if ctx.accept.contains("raw") {
            return Ok(Reply::Raw(content.to_vec()));
        }
        let mut v = json::content_entry(ctx.base, r, path, blob, content.len(), &rev);
        if let Value::Object(m) = &mut v {
            m.insert("content".into(), json!(wrap_base64(content)));
            m.insert("encoding".into(), json!("base64"));
        }
        return Ok(Reply::Json(StatusCode::OK, v));
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut entries: Vec<Value> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for (p, blob) in files.range(prefix.clone()..) {
        let Some(rest) = p.strip_prefix(&prefix) else {
            break;
        };
        match rest.split_once('/') {
            None => {
                let size = world.objects.blob(blob).map_or(0, <[u8]>::len);
                entries.push(json::content_entry(ctx.base, r, p, blob, size, &rev));
            }
            Some((dir, _)) => {
                let full = format!("{prefix}{dir}");
                if dirs.last() != Some(&full) {
                    entries.push(json::dir_entry(ctx.base, r, &full, &rev));
                    dirs.push(full);
                }
            }
        }
    }
    if entries.is_empty() && !path.is_empty() {
        return Err(ApiError::not_found()
            .doc("https://docs.github.com/rest/repos/contents#get-repository-content"));
    }
    Ok(Reply::Json(StatusCode::OK, Value::Array(entries)))
}

/// Base64 with a newline every 60 characters, as GitHub sends file content.
fn wrap_base64(content: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[derive(Deserialize)]
struct PutBody {
    message: Option<String>,
    content: Option<String>,
    sha: Option<String>,
    branch: Option<String>,
}

/// `PUT /repos/{o}/{r}/contents/{path}`
pub fn put(world: &mut World, ctx: &Ctx<'_>, repo: &str, path: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: PutBody = ctx.json()?;
    let message = body
        .message
        .ok_or_else(|| missing("message").doc(DOC_PUT))?;
    let content = body
        .content
        .ok_or_else(|| missing("content").doc(DOC_PUT))?;
    let cleaned: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|_| ApiError::unprocessable("content is not valid Base64").doc(DOC_PUT))?;
    let (branch, head) = branch_head(world, repo, body.branch)?;
    let current = world.objects.commit_files(&head).get(path).copied();
    if let Some(current) = current {
        let given = body.sha.ok_or_else(|| missing("sha").doc(DOC_PUT))?;
        if given.parse::<Sha>().ok() != Some(current) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("{path} does not match {given}"),
            )
            .doc(DOC_PUT));
        }
    }
    let sig = world.signature_of(Some(ctx.who.id));
    let commit = world.make_commit(
        Some(head),
        &[(path.to_owned(), Some(bytes.clone()))],
        &message,
        &sig,
    );
    world.set_ref(
        repo,
        &format!("refs/heads/{branch}"),
        Some(commit),
        ctx.who.id,
    );
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let blob = Sha::of_object("blob", &bytes);
    let status = if current.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Reply::Json(
        status,
        json!({
            "content": json::content_entry(ctx.base, r, path, &blob, bytes.len(), &branch),
            "commit": json::git_commit(ctx.base, world, r, &commit),
        }),
    ))
}

fn branch_head(
    world: &World,
    repo: &str,
    branch: Option<String>,
) -> Result<(String, Sha), ApiError> {
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let branch = branch.unwrap_or_else(|| r.default_branch.clone());
    let head = r.branch(&branch).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("Branch {branch} not found"))
    })?;
    Ok((branch, head))
}

#[derive(Deserialize)]
struct DeleteBody {
    message: Option<String>,
    sha: Option<String>,
    branch: Option<String>,
}

/// `DELETE /repos/{o}/{r}/contents/{path}`
pub fn delete(world: &mut World, ctx: &Ctx<'_>, repo: &str, path: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: DeleteBody = ctx.json()?;
    let message = body
        .message
        .ok_or_else(|| missing("message").doc(DOC_DELETE))?;
    let (branch, head) = branch_head(world, repo, body.branch)?;
    let Some(current) = world.objects.commit_files(&head).get(path).copied() else {
        return Err(ApiError::not_found().doc(DOC_DELETE));
    };
    let given = body.sha.ok_or_else(|| missing("sha").doc(DOC_DELETE))?;
    if given.parse::<Sha>().ok() != Some(current) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{path} does not match {given}"),
        )
        .doc(DOC_DELETE));
    }
    let sig = world.signature_of(Some(ctx.who.id));
    let commit = world.make_commit(Some(head), &[(path.to_owned(), None)], &message, &sig);
    world.set_ref(
        repo,
        &format!("refs/heads/{branch}"),
        Some(commit),
        ctx.who.id,
    );
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json!({"content": null, "commit": json::git_commit(ctx.base, world, r, &commit)}),
    ))
}

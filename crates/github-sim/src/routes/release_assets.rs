//! Release assets: upload (served on the API port: `upload_url` points at the simulator's own base
//! instead of `uploads.github.com`), list, get, rename, delete, and the two ways clients download
//! one — the web route `/{o}/{r}/releases/download/{tag}/{name}` and the API route with
//! `Accept: application/octet-stream` — both a 302 to the stored object, as on GitHub.

use http::{Method, StatusCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Ctx, Outcome, Reply, id_of};
use crate::error::ApiError;
use crate::json;
use crate::spec::Access;
use crate::world::{ReleaseAsset, Repo, World};

/// The path prefix of stored asset objects (GitHub serves them from another host).
pub const OBJECT_PREFIX: &str = "github-production-release-asset";

const DOC_UPLOAD: &str = "https://docs.github.com/rest/releases/assets#upload-a-release-asset";

/// The asset `id` of `repo` and its release, rendered.
fn render(
    ctx: &Ctx<'_>,
    world: &World,
    r: &Repo,
    asset: &ReleaseAsset,
) -> Result<serde_json::Value, ApiError> {
    let rel = r
        .releases
        .iter()
        .find(|rel| rel.id == asset.release_id)
        .ok_or_else(ApiError::not_found)?;
    Ok(json::release_asset(ctx.base, world, r, rel, asset))
}

fn find(r: &Repo, id: u64) -> Result<&ReleaseAsset, ApiError> {
    r.release_assets
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(ApiError::not_found)
}

/// Where an asset's bytes are served (the target of both download redirects).
fn object_url(base: &str, r: &Repo, asset: &ReleaseAsset) -> String {
    format!("{base}/{OBJECT_PREFIX}/{}/{}", r.id, asset.id)
}

/// `POST {upload_url}/repos/{o}/{r}/releases/{id}/assets?name=…&label=…` with the raw bytes.
pub fn upload(world: &mut World, ctx: &Ctx<'_>, repo: &str, release: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let release = id_of(release)?;
    let name = ctx
        .query
        .get("name")
        .filter(|n| !n.is_empty())
        .cloned()
        .ok_or_else(|| {
            ApiError::validation("ReleaseAsset", "missing_field", "name").doc(DOC_UPLOAD)
        })?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if !r.releases.iter().any(|rel| rel.id == release) {
        return Err(ApiError::not_found());
    }
    if r.release_assets
        .iter()
        .any(|a| a.release_id == release && a.name == name)
    {
        return Err(ApiError::validation(
            "ReleaseAsset",
            "already_exists",
            "name",
        ));
    }
    let id = world.next_id();
    let now = world.clock.now_secs();
    let content_type = if ctx.content_type.is_empty() {
        "application/octet-stream"
    } else {
        ctx.content_type
    };
    let asset = ReleaseAsset {
        id,
        release_id: release,
        name,
        label: ctx.query.get("label").cloned(),
        content_type: content_type.to_owned(),
        sha256: hex_sha256(ctx.body),
        bytes: bytes::Bytes::copy_from_slice(ctx.body),
        download_count: 0,
        uploader: ctx.who.id,
        created_at: now,
        updated_at: now,
    };
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    r.release_assets.push(asset);
    let r = &world.repos[repo];
    let body = render(ctx, world, r, find(r, id)?)?;
    Ok(Reply::Json(StatusCode::CREATED, body))
}

/// `GET /repos/{o}/{r}/releases/{id}/assets`
pub fn list(world: &mut World, ctx: &Ctx<'_>, repo: &str, release: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let release = id_of(release)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let rel = r
        .releases
        .iter()
        .find(|rel| rel.id == release)
        .ok_or_else(ApiError::not_found)?;
    let items = r
        .release_assets
        .iter()
        .filter(|a| a.release_id == release)
        .map(|a| json::release_asset(ctx.base, world, r, rel, a))
        .collect();
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{o}/{r}/releases/assets/{id}`: the JSON, or with `Accept: application/octet-stream`
/// a 302 to the bytes.
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let id = id_of(id)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let asset = find(r, id)?;
    if ctx.accept.contains("application/octet-stream") {
        return Ok(Reply::Redirect(object_url(ctx.base, r, asset)));
    }
    Ok(Reply::Json(StatusCode::OK, render(ctx, world, r, asset)?))
}

#[derive(Deserialize)]
struct AssetEdit {
    name: Option<String>,
    label: Option<String>,
}

/// `PATCH /repos/{o}/{r}/releases/assets/{id}`: rename or relabel.
pub fn update(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let id = id_of(id)?;
    let edit: AssetEdit = ctx.json()?;
    let now = world.clock.now_secs();
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    let release = find(r, id)?.release_id;
    if let Some(name) = &edit.name
        && r.release_assets
            .iter()
            .any(|a| a.release_id == release && a.id != id && a.name == *name)
    {
        return Err(ApiError::validation(
            "ReleaseAsset",
            "already_exists",
            "name",
        ));
    }
    let asset = r
        .release_assets
        .iter_mut()
        .find(|a| a.id == id)
        .ok_or_else(ApiError::not_found)?;
    if let Some(name) = edit.name {
        asset.name = name;
    }
    if edit.label.is_some() {
        asset.label = edit.label;
    }
    asset.updated_at = now;
    let r = &world.repos[repo];
    Ok(Reply::Json(
        StatusCode::OK,
        render(ctx, world, r, find(r, id)?)?,
    ))
}

/// `DELETE /repos/{o}/{r}/releases/assets/{id}`
pub fn delete(world: &mut World, ctx: &Ctx<'_>, repo: &str, id: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let id = id_of(id)?;
    let r = world.repos.get_mut(repo).ok_or_else(ApiError::not_found)?;
    let before = r.release_assets.len();
    r.release_assets.retain(|a| a.id != id);
    if r.release_assets.len() == before {
        return Err(ApiError::not_found());
    }
    Ok(Reply::NoContent)
}

/// An unauthenticated web route (every simulated repository is public).
pub enum WebRoute<'a> {
    /// `GET /{o}/{r}/releases/download/{tag}/{name}`: 302 to the object (published releases only).
    Download {
        repo: String,
        tag: &'a str,
        name: &'a str,
    },
    /// `GET /{o}/{r}/releases/latest/download/{name}`: the same for the latest release.
    LatestDownload { repo: String, name: &'a str },
    /// `GET /github-production-release-asset/{repo id}/{asset id}`: the bytes; counts a download.
    Object { repo_id: &'a str, asset_id: &'a str },
}

impl<'a> WebRoute<'a> {
    /// The web route `segs` names, if any.
    pub fn parse(method: &Method, segs: &[&'a str]) -> Option<WebRoute<'a>> {
        if method != Method::GET {
            return None;
        }
        match *segs {
            [owner, name, "releases", "latest", "download", asset] => {
                Some(WebRoute::LatestDownload {
                    repo: format!("{owner}/{name}"),
                    name: asset,
                })
            }
            [owner, name, "releases", "download", tag, asset] => Some(WebRoute::Download {
                repo: format!("{owner}/{name}"),
                tag,
                name: asset,
            }),
            [OBJECT_PREFIX, repo_id, asset_id] => Some(WebRoute::Object { repo_id, asset_id }),
            _ => None,
        }
    }

    /// Answers the route from `world`.
    pub fn serve(&self, world: &mut World, base: &str) -> Outcome {
        match self {
            WebRoute::Download { repo, tag, name } => {
                let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
                let release = r
                    .releases
                    .iter()
                    .find(|rel| rel.tag_name == *tag && !rel.draft)
                    .ok_or_else(ApiError::not_found)?
                    .id;
                redirect(base, r, release, name)
            }
            WebRoute::LatestDownload { repo, name } => {
                let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
                let release = super::releases::latest_of(r)
                    .ok_or_else(ApiError::not_found)?
                    .id;
                redirect(base, r, release, name)
            }
            WebRoute::Object { repo_id, asset_id } => object(world, repo_id, asset_id),
        }
    }
}

fn redirect(base: &str, r: &Repo, release: u64, name: &str) -> Outcome {
    let asset = r
        .release_assets
        .iter()
        .find(|a| a.release_id == release && a.name == name)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Redirect(object_url(base, r, asset)))
}

fn object(world: &mut World, repo_id: &str, asset_id: &str) -> Outcome {
    let (repo_id, asset_id) = (id_of(repo_id)?, id_of(asset_id)?);
    let asset = world
        .repos
        .values_mut()
        .filter(|r| r.id == repo_id)
        .flat_map(|r| r.release_assets.iter_mut())
        .find(|a| a.id == asset_id)
        .ok_or_else(ApiError::not_found)?;
    asset.download_count += 1;
    Ok(Reply::Download {
        name: asset.name.clone(),
        bytes: asset.bytes.clone(),
    })
}

/// Lower-case hex SHA-256.
fn hex_sha256(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

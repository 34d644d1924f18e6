//! Raw file downloads, the simulator's stand-in for `raw.githubusercontent.com`: the contents
//! API's `download_url` points here, on the same port, as `/_raw/{owner}/{repo}/{ref}/{path}`.
//! Public repositories answer without a token; private ones need a token that can read them
//! (GitHub answers 404 otherwise, never 401/403). Not rate-limited by the REST budget.

use http::StatusCode;
use http::header;

use crate::http::{Answer, Shared, decode, lock};
use crate::spec::Access;

/// The path prefix of raw downloads.
pub const PREFIX: &str = "/_raw/";

/// Answers `GET /_raw/{owner}/{repo}/{ref}/{path}`; `token` is the caller's, if any.
pub fn serve(shared: &Shared, path: &str, token: Option<&str>) -> Answer {
    let segs: Vec<String> = path[PREFIX.len()..]
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let mut world = lock(&shared.world);
    world.tick();
    let found = (|| {
        let [owner, name, rest @ ..] = segs.as_slice() else {
            return None;
        };
        let repo = world.canonical_repo(&format!("{owner}/{name}"))?;
        let r = world.repos.get(&repo)?;
        if r.private {
            let who = world.identity_by_token(token?)?;
            world
                .access(&who, &repo)
                .filter(|p| p.contents >= Access::Read)?;
        }
        // A ref may hold slashes: the longest prefix that names a commit wins.
        (1..rest.len()).rev().find_map(|split| {
            let commit = r.resolve(&world.objects, &rest[..split].join("/"))?;
            let files = world.objects.commit_files(&commit);
            let blob = files.get(&rest[split..].join("/"))?;
            world.objects.blob(blob).map(<[u8]>::to_vec)
        })
    })();
    drop(world);
    let (status, body) = match found {
        Some(bytes) => (StatusCode::OK, bytes),
        None => (StatusCode::NOT_FOUND, b"404: Not Found".to_vec()),
    };
    Answer {
        status,
        headers: vec![(header::CONTENT_TYPE, "text/plain; charset=utf-8".into())],
        body,
        identity: None,
    }
}

//! The version of a project that takes it from git (hatch-vcs, setuptools-scm: `dynamic =
//! ["version"]`): on a tag build the tag itself, after `tag-prefix`; on any other build the next
//! version after the nearest tag, as their default `guess-next-dev` scheme reads it (a final
//! release's last segment bumped, a pre-release kept), so a branch build sorts after the release
//! it follows, as it does with a static version.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::git_context::Build;
use crate::version::{self, ProjectVersion};

/// The version and where it came from, or why there is none.
pub fn version(
    dir: &Path,
    build: &Build,
    sha: &str,
    tag_prefix: &str,
) -> Result<(ProjectVersion, String), String> {
    let bare = |tag: &str| tag.strip_prefix(tag_prefix).unwrap_or(tag).to_owned();
    if let Build::Tag { tag } = build {
        let parsed = version::parse_pep440(&bare(tag)).map_err(|error| error.to_string())?;
        return Ok((ProjectVersion::Pep440(parsed), format!("the tag `{tag}`")));
    }
    let nearest = nearest_tag(dir, sha, tag_prefix)?;
    let parsed = version::parse_pep440(&bare(&nearest)).map_err(|error| error.to_string())?;
    let next = if parsed.any_prerelease() {
        parsed
    } else {
        let mut release = parsed.release().to_vec();
        release.resize(release.len().max(3), 0);
        *release.last_mut().expect("three segments") += 1;
        parsed
            .with_release(release)
            .with_post(None)
            .with_dev(None)
            .without_local()
    };
    Ok((
        ProjectVersion::Pep440(next),
        format!("the nearest tag `{nearest}`, next version"),
    ))
}

/// The nearest tag reachable from `sha` whose name starts with `prefix`.
fn nearest_tag(dir: &Path, sha: &str, prefix: &str) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["describe", "--tags", "--abbrev=0", "--match"])
        .arg(format!("{prefix}*"))
        .arg(sha)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "no tag starting with `{prefix}` is reachable from {sha} in `{}` ({}); check out the history with its tags (actions/checkout with `fetch-depth: 0`)",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

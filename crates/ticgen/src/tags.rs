//! The build's image tag (`tic`), its alias tags and its OCI labels.
//!
//! `tic` is the SemVer form as an OCI tag for tag pushes; for other builds the build's identity is
//! appended to the SemVer prerelease (created when the version has none): `pr.<number>.g<sha7>`
//! for pull requests, `<branch-slug>.g<sha7>` for branches. `1.2.3` on PR 42 → `1.2.3-pr.42.gabc1234`,
//! `1.3.0rc1` on `main` → `1.3.0-rc.1.main.gabc1234`, `1.2.3.post1` on `main` →
//! `1.2.3-main.gabc1234_post.1`. The `g` keeps an all-digit SHA prefix a valid SemVer identifier.

use semver::{Prerelease, Version as SemVer};

use crate::commit_time::CommitTime;
use crate::git_context::{Build, GitContext};
use crate::manifest::Manifest;
use crate::version::{self, ProjectVersion, VersionError};

/// The image tag of this build.
pub fn tic(semver: &SemVer, git: &GitContext) -> Result<String, VersionError> {
    let build = match &git.build {
        Build::Tag { .. } => return version::oci_tag(semver),
        Build::PullRequest { number } => format!("pr.{number}.g{}", git.short_sha()),
        Build::Branch { slug, .. } => format!("{slug}.g{}", git.short_sha()),
    };
    let pre = if semver.pre.is_empty() {
        build
    } else {
        format!("{}.{build}", semver.pre)
    };
    let tagged = SemVer {
        pre: Prerelease::new(&pre)
            .expect("slug, number and `g<hex>` are valid prerelease identifiers"),
        ..semver.clone()
    };
    version::oci_tag(&tagged)
}

/// Whether this build gets the `major.minor`, `major` (and `latest`) aliases: a tag push of a
/// final release.
pub fn gets_aliases(version: &ProjectVersion, build: &Build) -> bool {
    matches!(build, Build::Tag { .. }) && version.is_final()
}

/// Which moving tags a final release gets (each an input).
#[derive(Debug, Clone, Copy)]
pub struct Aliases {
    /// `major.minor` and `major`.
    pub versions: bool,
    pub latest: bool,
}

/// `tic`, then for a final release the aliases wanted (`major.minor`, `major`, `latest`); each
/// prefixed with `image:` when an image is given.
pub fn tags(
    tic: &str,
    version: &ProjectVersion,
    build: &Build,
    aliases: Aliases,
    image: Option<&str>,
) -> Vec<String> {
    let mut tags = vec![tic.to_owned()];
    if gets_aliases(version, build) {
        let semver = version.semver();
        if aliases.versions {
            tags.push(format!("{}.{}", semver.major, semver.minor));
            tags.push(semver.major.to_string());
        }
        if aliases.latest {
            tags.push("latest".to_owned());
        }
    }
    match image {
        Some(image) => tags
            .into_iter()
            .map(|tag| format!("{image}:{tag}"))
            .collect(),
        None => tags,
    }
}

/// What the labels are made from.
pub struct LabelFacts<'a> {
    pub manifest: &'a Manifest,
    pub tic: &'a str,
    pub sha: &'a str,
    /// `https://github.com/owner/name`, when the repository is known.
    pub source: Option<String>,
    pub created: Option<CommitTime>,
}

/// `org.opencontainers.image.*` labels, sorted by key; unknown ones are left out.
pub fn labels(facts: &LabelFacts<'_>) -> Vec<(String, String)> {
    let manifest = facts.manifest;
    let candidates = [
        ("created", facts.created.map(CommitTime::rfc3339)),
        ("description", manifest.description.clone()),
        ("licenses", manifest.license.clone()),
        ("revision", Some(facts.sha.to_owned())),
        ("source", facts.source.clone()),
        ("title", manifest.name.clone()),
        ("version", Some(facts.tic.to_owned())),
    ];
    candidates
        .into_iter()
        .filter_map(|(key, value)| {
            let value = value.filter(|value| !value.is_empty())?;
            Some((
                format!("org.opencontainers.image.{key}"),
                value.replace(['\r', '\n'], " "),
            ))
        })
        .collect()
}

//! The parts of GitHub's JSON the suite reads, typed. Unknown fields are ignored, so these stay
//! compatible with every GitHub version that still sends the fields named here.

use serde::{Deserialize, Serialize};

/// `owner/name` of a repository, validated so it is safe inside a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`; `None` unless both parts are non-empty and use GitHub's characters.
    pub fn parse(text: &str) -> Option<Self> {
        let (owner, name) = text.split_once('/')?;
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (valid(owner) && valid(name) && name != "." && name != "..").then(|| Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// `/repos/owner/name`.
    pub fn path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.name)
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A user, bot or app account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    #[serde(default)]
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub html_url: String,
    pub upload_url: String,
    pub author: Option<User>,
}

/// The fields of a release to create or change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_commitish: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prerelease: Option<bool>,
    /// `true`, `false` or `legacy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub make_latest: Option<String>,
}

/// A git reference such as `refs/tags/v1.2.3`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub object: GitObject,
}

/// What a reference or an annotated tag points at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitObject {
    pub sha: String,
    /// `commit`, `tag`, `tree` or `blob`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// An annotated tag object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitTag {
    pub sha: String,
    pub object: GitObject,
}

/// Release notes as GitHub generates them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GeneratedNotes {
    pub name: String,
    pub body: String,
}

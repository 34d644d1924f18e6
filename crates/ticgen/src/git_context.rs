//! What is being built, from the `GITHUB_*` context and the event payload alone, never from a
//! history walk (so a depth-1 checkout works): a tag push, a pull request (at its head commit, not
//! the merge commit) or a branch push.

use gantry_runner::GithubContext;
use gantry_runner::env_vars::{GITHUB_EVENT_PATH, GITHUB_REF, GITHUB_SHA};

/// Longest branch slug kept in a tag; long enough to recognise, short enough to leave room.
pub const SLUG_MAX: usize = 40;

/// The kind of build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    /// A pushed tag (`refs/tags/<tag>`), which must name the manifest version.
    Tag { tag: String },
    /// A pull request, built at its head commit.
    PullRequest { number: u64 },
    /// A branch (`refs/heads/<name>`); `default` when it is the repository's default branch.
    Branch {
        name: String,
        slug: String,
        default: bool,
    },
}

impl Build {
    /// A short name for outputs: `tag`, `pull-request`, `branch` or `default-branch`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tag { .. } => "tag",
            Self::PullRequest { .. } => "pull-request",
            Self::Branch { default: false, .. } => "branch",
            Self::Branch { default: true, .. } => "default-branch",
        }
    }
}

/// Where a value came from, so an error can name what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An action input.
    Input(&'static str),
    /// A runner environment variable.
    Env(&'static str),
}

/// The build and the commit it stamps.
#[derive(Debug, Clone)]
pub struct GitContext {
    pub build: Build,
    /// Full commit SHA (lower-case hex).
    pub sha: String,
    /// Where the SHA came from, in words for the summary.
    pub sha_source: &'static str,
    /// The event name and ref that decided the build, for the summary.
    pub event: Option<String>,
    pub git_ref: Option<String>,
}

impl GitContext {
    /// The first seven characters of the SHA.
    pub fn short_sha(&self) -> &str {
        &self.sha[..7]
    }
}

/// A context that cannot be turned into a build.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ContextError {
    pub origin: Origin,
    pub message: String,
}

fn error(origin: Origin, message: impl Into<String>) -> ContextError {
    ContextError {
        origin,
        message: message.into(),
    }
}

/// Overrides from the action's inputs.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub git_ref: Option<String>,
    pub sha: Option<String>,
}

/// Works out the build: the `ref` input, else a `pull_request`/`pull_request_target` event, else
/// `GITHUB_REF` decides; the SHA is the `sha` input, else the PR head from the payload, else
/// `GITHUB_SHA`.
pub fn resolve(context: &GithubContext, overrides: &Overrides) -> Result<GitContext, ContextError> {
    let is_pr_event = context.is_pull_request();
    let (git_ref, ref_origin) = match (&overrides.git_ref, is_pr_event) {
        (Some(git_ref), _) => (Some(git_ref.clone()), Origin::Input("ref")),
        (None, true) => (None, Origin::Env(GITHUB_EVENT_PATH)),
        (None, false) => (ref_from_env(context), Origin::Env(GITHUB_REF)),
    };
    let build = match git_ref.as_deref() {
        None if is_pr_event => {
            let number = context.event.pointer("/pull_request/number").and_then(serde_json::Value::as_u64);
            let number = number.ok_or_else(|| {
                error(ref_origin, "the pull_request event payload has no `pull_request.number`; is this a pull request event?")
            })?;
            Build::PullRequest { number }
        }
        None => return Err(error(Origin::Input("ref"), "no git ref: GITHUB_REF is not set; pass `ref`, e.g. refs/tags/v1.2.3")),
        Some(git_ref) => classify(context, git_ref).ok_or_else(|| {
            error(ref_origin, format!("`{git_ref}` is not a tag, branch or pull request ref; expected refs/tags/…, refs/heads/… or refs/pull/<n>/merge"))
        })?,
    };
    let (sha, origin, sha_source) = match (&overrides.sha, &build) {
        (Some(sha), _) => (Some(sha.clone()), Origin::Input("sha"), "the `sha` input"),
        (None, Build::PullRequest { .. }) => (
            context
                .event_str("/pull_request/head/sha")
                .map(str::to_owned),
            Origin::Env(GITHUB_EVENT_PATH),
            "the pull request head (`pull_request.head.sha`), not the merge commit",
        ),
        (None, _) => (context.sha.clone(), Origin::Env(GITHUB_SHA), "`GITHUB_SHA`"),
    };
    let sha = sha.ok_or_else(|| match origin {
        Origin::Env(GITHUB_EVENT_PATH) => {
            error(origin, "the pull request payload has no `pull_request.head.sha`; pass `sha` with the PR head commit")
        }
        _ => error(Origin::Input("sha"), "no commit SHA: GITHUB_SHA is not set; pass `sha`"),
    })?;
    if !is_sha(&sha) {
        return Err(error(
            origin,
            format!("`{sha}` is not a full commit SHA (40 or 64 lower-case hex digits)"),
        ));
    }
    Ok(GitContext {
        build,
        sha,
        sha_source,
        event: context.event_name.clone(),
        git_ref: git_ref.or_else(|| ref_from_env(context)),
    })
}

/// `GITHUB_REF`, or `refs/heads|tags/` + `GITHUB_REF_NAME` when only the short form is set.
fn ref_from_env(context: &GithubContext) -> Option<String> {
    context.ref_full.clone().or_else(|| {
        let kind = match context.ref_type.as_deref()? {
            "tag" => "tags",
            "branch" => "heads",
            _ => return None,
        };
        Some(format!("refs/{kind}/{}", context.ref_name.as_deref()?))
    })
}

fn classify(context: &GithubContext, git_ref: &str) -> Option<Build> {
    if let Some(tag) = git_ref
        .strip_prefix("refs/tags/")
        .filter(|tag| !tag.is_empty())
    {
        return Some(Build::Tag {
            tag: tag.to_owned(),
        });
    }
    if let Some(name) = git_ref
        .strip_prefix("refs/heads/")
        .filter(|name| !name.is_empty())
    {
        let default = context.event_str("/repository/default_branch") == Some(name);
        return Some(Build::Branch {
            name: name.to_owned(),
            slug: slug(name),
            default,
        });
    }
    let pull = git_ref.strip_prefix("refs/pull/")?;
    let (number, rest) = pull.split_once('/')?;
    matches!(rest, "merge" | "head").then_some(())?;
    Some(Build::PullRequest {
        number: number.parse().ok()?,
    })
}

/// 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
pub fn is_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64)
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A branch name as one SemVer prerelease identifier and OCI tag part: lower-case ASCII letters and
/// digits, every other run of characters one `-`, trimmed, at most [`SLUG_MAX`] characters; an
/// all-digit result gets a `branch-` prefix (SemVer forbids leading zeros in numbers) and an empty
/// one becomes `branch`.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(SLUG_MAX);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "branch".to_owned()
    } else if slug.bytes().all(|b| b.is_ascii_digit()) {
        format!("branch-{slug}")
    } else {
        slug.to_owned()
    }
}

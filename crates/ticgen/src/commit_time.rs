//! The build's `SOURCE_DATE_EPOCH`: the commit time, never the wall clock. Sources in order: the
//! `source-date-epoch` input, the `SOURCE_DATE_EPOCH` variable, the push payload's
//! `head_commit.timestamp` (when it is the commit being built), one `git show` of that commit.

use std::path::Path;
use std::process::{Command, Stdio};

use gantry_runner::{ActionError, Env, GithubContext, env_vars};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::settings::Settings;

/// Where the time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Input,
    Env,
    PushPayload,
    Git,
}

impl Source {
    /// In words, for the step summary.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Input => "the `source-date-epoch` input",
            Self::Env => "the `SOURCE_DATE_EPOCH` environment variable",
            Self::PushPayload => "the push payload's `head_commit.timestamp`",
            Self::Git => "the commit's committer time (`git show -s --format=%ct`)",
        }
    }
}

/// A commit time in seconds since the Unix epoch, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitTime {
    pub epoch: i64,
    pub source: Source,
}

impl CommitTime {
    /// RFC 3339 in UTC, e.g. `2024-01-02T03:04:05Z`.
    pub fn rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.epoch)
            .ok()
            .and_then(|time| time.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

/// Parses a Unix time in whole seconds, as `SOURCE_DATE_EPOCH` is defined (a non-negative integer
/// that RFC 3339 can show, up to year 9999).
pub fn parse_epoch(text: &str) -> Option<i64> {
    let epoch: i64 = text.parse().ok().filter(|epoch| *epoch >= 0)?;
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .filter(|time| time.year() <= 9999)
        .map(|_| epoch)
}

/// The commit time from the push payload when `head_commit` is the commit being built.
pub fn from_push_payload(context: &GithubContext, sha: &str) -> Option<i64> {
    if context.event_str("/head_commit/id") != Some(sha) {
        return None;
    }
    let timestamp = context.event_str("/head_commit/timestamp")?;
    OffsetDateTime::parse(timestamp, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// The committer time of `sha` if that object is in the checkout at `dir`: one object lookup, no
/// history walk, so it works on a depth-1 clone. `Err` carries why not, for a warning.
pub fn from_git(dir: &Path, sha: &str) -> Result<i64, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "show",
            "--no-patch",
            "--no-show-signature",
            "--format=%ct",
            sha,
            "--",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "commit {sha} is not in the checkout at `{}`: {}",
            dir.display(),
            stderr.trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .map_err(|_| format!("git printed `{}` instead of a commit time", text.trim()))
}

/// The first source that knows the commit time; `Ok(Err(why))` when none does (the caller warns),
/// `Err` when `SOURCE_DATE_EPOCH` is set but malformed.
pub(crate) fn resolve(
    env: &Env,
    context: &GithubContext,
    settings: &Settings,
    sha: &str,
) -> Result<Result<CommitTime, String>, ActionError> {
    let found = |epoch, source| Ok(Ok(CommitTime { epoch, source }));
    if let Some(epoch) = settings.source_date_epoch {
        return found(epoch, Source::Input);
    }
    if let Some(text) = env.non_empty(env_vars::SOURCE_DATE_EPOCH)? {
        let epoch = parse_epoch(text).ok_or_else(|| {
            ActionError::environment(
                env_vars::SOURCE_DATE_EPOCH,
                format!("`{text}` is not a Unix time in whole seconds"),
            )
        })?;
        return found(epoch, Source::Env);
    }
    if let Some(epoch) = from_push_payload(context, sha) {
        return found(epoch, Source::PushPayload);
    }
    Ok(from_git(&settings.path, sha).map(|epoch| CommitTime {
        epoch,
        source: Source::Git,
    }))
}

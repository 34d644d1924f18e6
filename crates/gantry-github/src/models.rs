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
        (valid(owner)
            && valid(name)
            && ![owner, name].iter().any(|part| matches!(*part, "." | "..")))
        .then(|| Self {
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

/// A repository, as far as the suite reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    pub full_name: String,
    /// The branch GitHub shows and pull requests target by default.
    pub default_branch: String,
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

/// A file read through the contents API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileContent {
    pub path: String,
    /// The blob SHA, needed to update the file.
    pub sha: String,
    /// Base64 with line breaks, as GitHub sends it.
    #[serde(default)]
    pub content: String,
}

impl FileContent {
    /// The file's exact bytes.
    pub fn bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        use base64::Engine as _;
        let compact: String = self
            .content
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD.decode(compact)
    }
}

/// An object named by its SHA.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShaRef {
    pub sha: String,
}

/// What a contents write made: the new blob and the commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileCommit {
    pub content: ShaRef,
    pub commit: WrittenCommit,
}

/// The commit a contents write made, with the signatures GitHub gave it for this token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WrittenCommit {
    pub sha: String,
    pub author: Option<GitActor>,
    pub committer: Option<GitActor>,
}

/// The name and email of a git author or committer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitActor {
    pub name: String,
    pub email: String,
}

impl std::fmt::Display for GitActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

/// The git part of a commit in REST responses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitDetail {
    pub author: Option<GitActor>,
    pub committer: Option<GitActor>,
    #[serde(default)]
    pub message: String,
}

/// A commit as `commits/{sha}`, a comparison or a pull request's commits show it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RepoCommit {
    pub sha: String,
    pub commit: CommitDetail,
    #[serde(default)]
    pub parents: Vec<ShaRef>,
    /// Only in single-commit responses.
    #[serde(default)]
    pub files: Vec<DiffEntry>,
}

/// One changed file of a commit, a comparison or a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DiffEntry {
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    #[serde(default)]
    pub previous_filename: Option<String>,
}

/// What `head` adds over its merge base with `base`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comparison {
    /// `ahead`, `behind`, `diverged` or `identical`.
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
    pub total_commits: u64,
    pub merge_base_commit: ShaRef,
    /// Oldest first; at most one page.
    pub commits: Vec<RepoCommit>,
    #[serde(default)]
    pub files: Vec<DiffEntry>,
}

/// A git commit object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitCommit {
    pub sha: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub parents: Vec<ShaRef>,
}

/// One side of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullBranch {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub html_url: String,
    /// `open` or `closed`.
    pub state: String,
    #[serde(default)]
    pub title: String,
    pub body: Option<String>,
    /// Only in single-pull responses; a list says it through `merged_at`.
    #[serde(default)]
    pub merged: bool,
    pub merged_at: Option<String>,
    /// `null` while GitHub computes it: ask again.
    #[serde(default)]
    pub mergeable: Option<bool>,
    #[serde(default)]
    pub mergeable_state: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub head: PullBranch,
    pub base: PullBranch,
    pub user: Option<User>,
}

impl PullRequest {
    /// Merged, whichever response shape said so.
    pub fn is_merged(&self) -> bool {
        self.merged || self.merged_at.is_some()
    }
}

/// A pull request review.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Review {
    pub id: u64,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `PENDING`, `DISMISSED`.
    pub state: String,
    pub commit_id: Option<String>,
    pub user: Option<User>,
    #[serde(default)]
    pub body: Option<String>,
}

/// The answer to a merge.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MergeResult {
    /// The merge (or squash) commit on the base branch.
    pub sha: String,
}

/// A comment on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: String,
}

/// A check run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    /// `queued`, `in_progress`, `completed` (and `waiting`, `requested`, `pending`).
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub details_url: Option<String>,
    pub external_id: Option<String>,
}

/// A page of check runs for a commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRuns {
    pub total_count: u64,
    pub check_runs: Vec<CheckRun>,
}

/// The fields of a check run to create or change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckRunFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckOutput>,
}

/// The visible text of a check run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutput {
    pub title: String,
    pub summary: String,
}

/// A commit status (the older, context-based API).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitStatus {
    pub context: String,
    /// `pending`, `success`, `failure`, `error`.
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
}

/// The latest status per context of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CombinedStatus {
    pub state: String,
    pub statuses: Vec<CommitStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_content_decodes_githubs_wrapped_base64_exactly() {
        let file: FileContent = serde_json::from_value(serde_json::json!({
            "path": "deploy/preprod.env",
            "sha": "abc",
            "content": "ZXhwb3J0IElNQUdFX1ZF\nUlNJT049djEuMA0K\n",
            "encoding": "base64"
        }))
        .unwrap();
        assert_eq!(file.bytes().unwrap(), b"export IMAGE_VERSION=v1.0\r\n");
    }

    #[test]
    fn a_pull_request_is_merged_whichever_shape_says_so() {
        let pull = |merged: bool, merged_at: Option<&str>| -> PullRequest {
            serde_json::from_value(serde_json::json!({
                "number": 1, "html_url": "u", "state": "closed", "body": null,
                "merged": merged, "merged_at": merged_at, "merge_commit_sha": null,
                "head": {"ref": "h", "sha": "1"}, "base": {"ref": "main", "sha": "2"},
                "user": null
            }))
            .unwrap()
        };
        assert!(pull(true, None).is_merged());
        assert!(pull(false, Some("2026-01-01T00:00:00Z")).is_merged());
        assert!(!pull(false, None).is_merged());
    }
}

/// A pull request's entry in a merge queue (GraphQL `MergeQueueEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The entry's GraphQL node id.
    pub id: String,
    /// 1-based place in the queue.
    pub position: u32,
    pub state: QueueEntryState,
    /// When it was queued (ISO 8601).
    pub enqueued_at: String,
    /// The pull request head that was queued.
    pub head_sha: String,
    pub number: u64,
}

/// GraphQL's `MergeQueueEntryState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueueEntryState {
    /// Waiting for its group to be built.
    Queued,
    /// Its merge group's required checks are running.
    AwaitingChecks,
    /// Its checks passed; it merges when the entries ahead have.
    Mergeable,
    /// A check failed or it conflicts: it is about to be removed.
    Unmergeable,
    /// Being merged.
    Locked,
    /// A state this client does not know yet.
    #[serde(other)]
    Unknown,
}

/// Why a pull request last left a merge queue without merging (`RemovedFromMergeQueueEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRemoval {
    /// GitHub's reason, as text (e.g. a failed or timed-out check, a conflict, a manual removal).
    pub reason: Option<String>,
    /// When (ISO 8601).
    pub at: String,
}

/// A pull request's standing with the merge queue, read in one GraphQL query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullQueueState {
    /// The pull request's GraphQL node id (what [`crate::Client::enqueue_pull_request`] takes).
    pub node_id: String,
    pub number: u64,
    pub head_sha: String,
    pub merged: bool,
    /// The commit the base branch moved to when it merged.
    pub merge_commit_sha: Option<String>,
    /// `OPEN`, `CLOSED` or `MERGED`.
    pub state: String,
    /// Its entry while it is queued.
    pub entry: Option<QueueEntry>,
    /// The latest removal from a queue, however long ago.
    pub last_removal: Option<QueueRemoval>,
}

/// Where a queued pull request stands, for a caller following it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOutcome {
    /// Merged: the base branch is at (or past) `merge_commit_sha`.
    Merged { merge_commit_sha: Option<String> },
    /// Still in the queue.
    Queued(QueueEntry),
    /// Not in the queue, and it was removed from one: why, and when.
    Removed(QueueRemoval),
    /// Neither merged, queued nor ever removed (or closed without a removal).
    NotQueued,
}

impl PullQueueState {
    /// The one fact a caller following the queue acts on.
    pub fn outcome(&self) -> QueueOutcome {
        if self.merged {
            return QueueOutcome::Merged {
                merge_commit_sha: self.merge_commit_sha.clone(),
            };
        }
        match (&self.entry, &self.last_removal) {
            (Some(entry), _) => QueueOutcome::Queued(entry.clone()),
            (None, Some(removal)) => QueueOutcome::Removed(removal.clone()),
            (None, None) => QueueOutcome::NotQueued,
        }
    }
}

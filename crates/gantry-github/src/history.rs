//! What was delivered, read back: deployments of an environment and their statuses, releases,
//! and every commit between two deployed SHAs, each list read page by page with a callback per
//! page so a caller can show progress and stop reading once it has gone far enough back.

use serde::Deserialize;
use serde_json::Value;

use crate::client::{Client, Pages, decode};
use crate::error::GithubError;
use crate::models::{Release, RepoName};
use crate::path::encode;
use crate::token::Identity;
use crate::transport::Mode;

/// A deployment as `GET /repos/{o}/{r}/deployments` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Deployment {
    pub id: u64,
    /// The commit deployed.
    pub sha: String,
    /// What was asked for: a branch, a tag or a SHA.
    #[serde(rename = "ref")]
    pub reference: String,
    pub environment: String,
    /// RFC 3339.
    pub created_at: String,
}

/// One status of a deployment: `error`, `failure`, `inactive`, `in_progress`, `queued`,
/// `pending` or `success`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: String,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// Every commit `head` adds over its merge base with `base`, over all pages of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRange {
    /// `ahead`, `behind`, `diverged` or `identical`.
    pub status: String,
    /// Oldest first.
    pub commits: Vec<DatedCommit>,
}

/// A commit of a range: its SHA and when it was committed (RFC 3339, the committer's date).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "ListedCommit")]
pub struct DatedCommit {
    pub sha: String,
    /// Empty when GitHub gave none.
    pub committed_at: String,
}

/// The part of a listed commit a [`DatedCommit`] needs.
#[derive(Deserialize)]
struct ListedCommit {
    sha: String,
    commit: ListedDetail,
}

#[derive(Deserialize)]
struct ListedDetail {
    committer: Option<ListedSignature>,
}

#[derive(Deserialize)]
struct ListedSignature {
    #[serde(default)]
    date: String,
}

impl From<ListedCommit> for DatedCommit {
    fn from(listed: ListedCommit) -> Self {
        DatedCommit {
            sha: listed.sha,
            committed_at: listed.commit.committer.map(|c| c.date).unwrap_or_default(),
        }
    }
}

impl<I: Identity> Client<I> {
    /// The deployments to `environment`, newest first as GitHub lists them, to be read a page
    /// at a time with [`Client::next_page`] (so a caller can stop once it has gone far enough
    /// back).
    pub fn deployments(&self, repo: &RepoName, environment: &str) -> Pages<Deployment> {
        self.list(&format!(
            "{}/deployments?environment={}",
            repo.path(),
            encode(environment, false)
        ))
    }

    /// Every status of one deployment (GitHub lists the newest first).
    pub async fn deployment_statuses(
        &self,
        repo: &RepoName,
        deployment: u64,
    ) -> Result<Vec<DeploymentStatus>, GithubError> {
        let path = format!("{}/deployments/{deployment}/statuses", repo.path());
        self.get_all(&path, Mode::Read, None).await
    }

    /// Every release (drafts included for a token that may push), one page at a time.
    pub async fn releases(
        &self,
        repo: &RepoName,
        mut on_page: impl FnMut(&[Release]),
    ) -> Result<Vec<Release>, GithubError> {
        let mut releases = Vec::new();
        let path = format!("{}/releases", repo.path());
        self.pages(&path, Mode::Read, |page, request| {
            let page: Vec<Release> = decode(page, request)?;
            on_page(&page);
            releases.extend(page);
            Ok(true)
        })
        .await?;
        Ok(releases)
    }

    /// Every commit `head` adds over `base` (GitHub's three-dot comparison, paginated so that
    /// more than the 250 commits of an unpaginated comparison are read).
    pub async fn commit_range(
        &self,
        repo: &RepoName,
        base: &str,
        head: &str,
    ) -> Result<CommitRange, GithubError> {
        let path = format!(
            "{}/compare/{}...{}",
            repo.path(),
            encode(base, true),
            encode(head, true)
        );
        let mut range = CommitRange {
            status: String::new(),
            commits: Vec::new(),
        };
        self.pages(&path, Mode::Read, |mut page, request| {
            if range.status.is_empty() {
                range.status = decode(page["status"].take(), request)?;
            }
            let commits = page.get_mut("commits").map(Value::take).unwrap_or_default();
            range
                .commits
                .extend(decode::<Vec<DatedCommit>>(commits, request)?);
            Ok(true)
        })
        .await?;
        Ok(range)
    }
}

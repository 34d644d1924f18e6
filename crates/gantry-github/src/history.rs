//! What was delivered, read back: deployments of an environment page by page, releases,
//! and every commit between two deployed SHAs, each list read page by page with a callback per
//! page so a caller can show progress and stop reading once it has gone far enough back.

use serde::Deserialize;
use serde_json::Value;

use crate::client::{Client, Pages, decode};
use crate::deployments::{Deployment, DeploymentFilter};
use crate::error::GithubError;
use crate::models::{Release, RepoName};
use crate::path::encode;
use crate::token::Identity;
use crate::transport::Mode;

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
    /// The deployments `filter` selects, newest first as GitHub lists them, to be read a page
    /// at a time with [`Client::next_page`] (so a caller can stop once it has gone far enough
    /// back).
    pub fn deployment_pages(
        &self,
        repo: &RepoName,
        filter: &DeploymentFilter,
    ) -> Pages<Deployment> {
        self.list(&format!("{}/deployments{}", repo.path(), filter.query()))
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

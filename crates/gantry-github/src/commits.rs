//! Commits as the REST API shows them (with the files each one changed) and comparisons of two
//! commits: what a branch adds over its base, file by file and commit by commit.

use crate::client::Client;
use crate::error::GithubError;
use crate::models::{Comparison, RepoCommit, RepoName};
use crate::path::encode;
use crate::token::Identity;
use crate::transport::Mode;

impl<I: Identity> Client<I> {
    /// One commit with its `files` (against its first parent).
    pub async fn commit(&self, repo: &RepoName, sha: &str) -> Result<RepoCommit, GithubError> {
        self.get(
            &format!("{}/commits/{}", repo.path(), encode(sha, false)),
            Mode::Read,
        )
        .await
    }

    /// What `head` adds over its merge base with `base` (GitHub's three-dot comparison): the
    /// first page of commits (up to 250) and the changed files (up to 300).
    pub async fn compare(
        &self,
        repo: &RepoName,
        base: &str,
        head: &str,
    ) -> Result<Comparison, GithubError> {
        self.get(
            &format!(
                "{}/compare/{}...{}",
                repo.path(),
                encode(base, true),
                encode(head, true)
            ),
            Mode::Read,
        )
        .await
    }
}

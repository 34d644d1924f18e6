//! Pull requests: find, open, close, comment (the workflow identity), and approve and merge (only
//! the bot identity: those two methods exist on `Client<Approver>` alone).

use std::fmt::Write as _;

use reqwest::Method;
use serde_json::json;

use crate::client::{Client, request_line};
use crate::error::GithubError;
use crate::models::{IssueComment, MergeResult, PullRequest, RepoName, Review};
use crate::path::encode;
use crate::token::{Approver, Identity, Workflow};
use crate::transport::Mode;

impl<I: Identity> Client<I> {
    /// Pull requests from `head` (a branch of the same repository) into `base`, newest first.
    /// `state` is `open`, `closed` or `all`.
    pub async fn pulls(
        &self,
        repo: &RepoName,
        head: Option<&str>,
        base: &str,
        state: &str,
    ) -> Result<Vec<PullRequest>, GithubError> {
        let mut path = format!(
            "{}/pulls?state={state}&base={}",
            repo.path(),
            encode(base, true)
        );
        if let Some(head) = head {
            let _ = write!(path, "&head={}:{}", repo.owner, encode(head, true));
        }
        self.get_all(&path, Mode::Read, None).await
    }

    /// One pull request, polled: an unchanged one costs a free 304.
    pub async fn pull(&self, repo: &RepoName, number: u64) -> Result<PullRequest, GithubError> {
        self.get(&format!("{}/pulls/{number}", repo.path()), Mode::Polled)
            .await
    }

    pub async fn reviews(&self, repo: &RepoName, number: u64) -> Result<Vec<Review>, GithubError> {
        self.get_all(
            &format!("{}/pulls/{number}/reviews", repo.path()),
            Mode::Read,
            None,
        )
        .await
    }

    pub async fn comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<IssueComment>, GithubError> {
        self.get_all(
            &format!("{}/issues/{number}/comments", repo.path()),
            Mode::Read,
            None,
        )
        .await
    }
}

impl Client<Workflow> {
    /// Opens a pull request; after an unknown outcome the open one from `head` into `base` is it.
    pub async fn create_pull(
        &self,
        repo: &RepoName,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GithubError> {
        let request = json!({ "title": title, "head": head, "base": base, "body": body });
        let path = format!("{}/pulls", repo.path());
        self.create(&path, &request, || async {
            Ok(self
                .pulls(repo, Some(head), base, "open")
                .await?
                .into_iter()
                .next())
        })
        .await
    }

    /// Closes a pull request without merging it.
    pub async fn close_pull(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<PullRequest, GithubError> {
        let path = format!("{}/pulls/{number}", repo.path());
        let body = json!({ "state": "closed" });
        let reply = self
            .send(Method::PATCH, &path, Some(&body), Mode::Idempotent)
            .await?;
        reply.json(&request_line(&Method::PATCH, &path))
    }

    /// Asks GitHub to merge the base branch into the pull request's head branch, only if the head
    /// is still `expected_head_sha` (422 otherwise). GitHub answers 202 and moves the head soon
    /// after: read the pull request until its head changes.
    pub async fn update_branch(
        &self,
        repo: &RepoName,
        number: u64,
        expected_head_sha: &str,
    ) -> Result<(), GithubError> {
        let path = format!("{}/pulls/{number}/update-branch", repo.path());
        let body = json!({ "expected_head_sha": expected_head_sha });
        self.send(Method::PUT, &path, Some(&body), Mode::Idempotent)
            .await
            .map(drop)
    }

    /// Comments on a pull request; after an unknown outcome an identical comment is it.
    pub async fn comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = format!("{}/issues/{number}/comments", repo.path());
        self.create(&path, &json!({ "body": body }), || async {
            Ok(self
                .comments(repo, number)
                .await?
                .into_iter()
                .find(|comment| comment.body == body))
        })
        .await
    }
}

impl Client<Approver> {
    /// Approves the pull request at exactly `sha`; after an unknown outcome an approval of that
    /// commit is it.
    pub async fn approve(
        &self,
        repo: &RepoName,
        number: u64,
        sha: &str,
        body: &str,
    ) -> Result<Review, GithubError> {
        self.review(repo, number, "APPROVE", sha, body, |review| {
            review.state == "APPROVED" && review.commit_id.as_deref() == Some(sha)
        })
        .await
    }

    /// Requests changes at `sha`: the reviewer's latest verdict, which replaces an approval it
    /// gave earlier (an approval counts toward protection whichever commit it names). After an
    /// unknown outcome, a change request of that commit with this body is it.
    pub async fn request_changes(
        &self,
        repo: &RepoName,
        number: u64,
        sha: &str,
        body: &str,
    ) -> Result<Review, GithubError> {
        self.review(repo, number, "REQUEST_CHANGES", sha, body, |review| {
            review.state == "CHANGES_REQUESTED"
                && review.commit_id.as_deref() == Some(sha)
                && review.body.as_deref() == Some(body)
        })
        .await
    }

    /// Submits a review with `event` at `sha`; after an unknown outcome, the review that `is_it`
    /// recognises among the pull request's reviews is the one submitted.
    async fn review(
        &self,
        repo: &RepoName,
        number: u64,
        event: &str,
        sha: &str,
        body: &str,
        is_it: impl Fn(&Review) -> bool,
    ) -> Result<Review, GithubError> {
        let path = format!("{}/pulls/{number}/reviews", repo.path());
        let request = json!({ "event": event, "commit_id": sha, "body": body });
        self.create(&path, &request, || async {
            Ok(self
                .reviews(repo, number)
                .await?
                .into_iter()
                .find(|review| is_it(review)))
        })
        .await
    }

    /// Merges the pull request only if its head is still `sha` (GitHub answers 409 otherwise).
    /// A retried merge that finds the pull request already merged at `sha` returns that merge.
    pub async fn merge(
        &self,
        repo: &RepoName,
        number: u64,
        sha: &str,
        method: &str,
    ) -> Result<MergeResult, GithubError> {
        let path = format!("{}/pulls/{number}/merge", repo.path());
        let body = json!({ "sha": sha, "merge_method": method });
        match self
            .send(Method::PUT, &path, Some(&body), Mode::Idempotent)
            .await
        {
            Ok(reply) => reply.json(&request_line(&Method::PUT, &path)),
            Err(error) if error.status() == Some(405) => {
                let pull: PullRequest = self
                    .get(&format!("{}/pulls/{number}", repo.path()), Mode::Read)
                    .await?;
                let merged_here = pull.is_merged() && pull.head.sha == sha;
                match pull.merge_commit_sha.filter(|_| merged_here) {
                    Some(merged) => Ok(MergeResult { sha: merged }),
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }
}

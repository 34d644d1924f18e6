//! Git data through the REST API: references (create, move, delete), commits and file contents.
//! Reads work for any identity; writes are the workflow identity's.

use reqwest::Method;
use serde_json::json;

use crate::client::{Client, request_line};
use crate::error::GithubError;
use crate::models::{FileCommit, FileContent, GitCommit, GitRef, RepoName};
use crate::path::{encode, segment, segments};
use crate::token::{Identity, Workflow};
use crate::transport::Mode;

impl<I: Identity> Client<I> {
    /// A reference such as `heads/main`; `None` when it does not exist.
    pub async fn git_ref(
        &self,
        repo: &RepoName,
        name: &str,
    ) -> Result<Option<GitRef>, GithubError> {
        self.find(&format!("{}/git/ref/{}", repo.path(), segments(name)?))
            .await
    }

    /// A commit object (message and parents).
    pub async fn git_commit(&self, repo: &RepoName, sha: &str) -> Result<GitCommit, GithubError> {
        self.get(
            &format!("{}/git/commits/{}", repo.path(), segment(sha)?),
            Mode::Read,
        )
        .await
    }

    /// A file at a branch, tag or commit; `None` when the file (or the ref) does not exist.
    pub async fn file(
        &self,
        repo: &RepoName,
        path: &str,
        rev: &str,
    ) -> Result<Option<FileContent>, GithubError> {
        self.find(&format!(
            "{}/contents/{}?ref={}",
            repo.path(),
            segments(path)?,
            encode(rev, true)
        ))
        .await
    }
}

impl Client<Workflow> {
    /// Creates `refs/<name>` at `sha`. A create whose outcome is unknown counts as done only when
    /// the reference now points at `sha`; creating an existing reference is GitHub's 422.
    pub async fn create_ref(
        &self,
        repo: &RepoName,
        name: &str,
        sha: &str,
    ) -> Result<GitRef, GithubError> {
        let body = json!({ "ref": format!("refs/{name}"), "sha": sha });
        let path = format!("{}/git/refs", repo.path());
        self.create(&path, &body, || async {
            Ok(self
                .git_ref(repo, name)
                .await?
                .filter(|found| found.object.sha == sha))
        })
        .await
    }

    /// Moves a reference (PATCH; `force` allows a move that is not a fast-forward).
    pub async fn update_ref(
        &self,
        repo: &RepoName,
        name: &str,
        sha: &str,
        force: bool,
    ) -> Result<GitRef, GithubError> {
        let path = format!("{}/git/refs/{}", repo.path(), segments(name)?);
        let body = json!({ "sha": sha, "force": force });
        let reply = self
            .send(Method::PATCH, &path, Some(&body), Mode::Idempotent)
            .await?;
        reply.json(&request_line(&Method::PATCH, &path))
    }

    /// Deletes a reference; `false` when it did not exist (or a retry found it already gone).
    pub async fn delete_ref(&self, repo: &RepoName, name: &str) -> Result<bool, GithubError> {
        let path = format!("{}/git/refs/{}", repo.path(), segments(name)?);
        match self
            .send(Method::DELETE, &path, None, Mode::Idempotent)
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if error.status() == Some(422) || error.is_not_found() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Creates (`blob_sha: None`) or updates a file on `branch` with one commit. GitHub refuses an
    /// update whose `blob_sha` is stale (409), so a concurrent change is never overwritten.
    pub async fn put_file(
        &self,
        repo: &RepoName,
        path: &str,
        branch: &str,
        content: &[u8],
        message: &str,
        blob_sha: Option<&str>,
    ) -> Result<FileCommit, GithubError> {
        use base64::Engine as _;
        let mut body = json!({
            "message": message,
            "content": base64::engine::general_purpose::STANDARD.encode(content),
            "branch": branch,
        });
        if let Some(sha) = blob_sha {
            body["sha"] = json!(sha);
        }
        let path = format!("{}/contents/{}", repo.path(), segments(path)?);
        let reply = self
            .send(Method::PUT, &path, Some(&body), Mode::Idempotent)
            .await?;
        reply.json(&request_line(&Method::PUT, &path))
    }
}

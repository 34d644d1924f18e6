//! Check runs and commit statuses: polled reads (an unchanged answer is a free 304) for any
//! identity; creating and updating check runs for the workflow identity (a GitHub App token).

use reqwest::Method;

use crate::client::{Client, request_line};
use crate::error::GithubError;
use crate::models::{CheckRun, CheckRunFields, CheckRuns, CombinedStatus, RepoName};
use crate::path::{encode, segment};
use crate::token::{Identity, Workflow};
use crate::transport::Mode;

impl<I: Identity> Client<I> {
    /// The latest check run per name and app on a commit, every page, polled.
    pub async fn check_runs(&self, repo: &RepoName, sha: &str) -> Result<CheckRuns, GithubError> {
        let path = format!("{}/commits/{}/check-runs", repo.path(), segment(sha)?);
        let check_runs: Vec<CheckRun> = self
            .get_all(&path, Mode::Polled, Some("check_runs"))
            .await?;
        Ok(CheckRuns {
            total_count: check_runs.len() as u64,
            check_runs,
        })
    }

    /// The latest status per context on a commit, polled.
    pub async fn combined_status(
        &self,
        repo: &RepoName,
        sha: &str,
    ) -> Result<CombinedStatus, GithubError> {
        self.get(
            &format!(
                "{}/commits/{}/status?per_page=100",
                repo.path(),
                segment(sha)?
            ),
            Mode::Polled,
        )
        .await
    }
}

impl Client<Workflow> {
    /// Creates a check run. `fields.external_id` identifies it: after an unknown outcome, a run
    /// with that id on the commit is it.
    pub async fn create_check_run(
        &self,
        repo: &RepoName,
        fields: &CheckRunFields,
    ) -> Result<CheckRun, GithubError> {
        let body = serde_json::to_value(fields).expect("check run fields serialise");
        let path = format!("{}/check-runs", repo.path());
        let sha = fields.head_sha.clone().unwrap_or_default();
        let name = fields.name.clone().unwrap_or_default();
        self.create(&path, &body, || async {
            let path = format!(
                "{}/commits/{}/check-runs?check_name={}",
                repo.path(),
                segment(&sha)?,
                encode(&name, false)
            );
            let runs: Vec<CheckRun> = self.get_all(&path, Mode::Read, Some("check_runs")).await?;
            Ok(runs
                .into_iter()
                .find(|run| run.external_id.is_some() && run.external_id == fields.external_id))
        })
        .await
    }

    /// Changes a check run (PATCH: repeating it is harmless).
    pub async fn update_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        fields: &CheckRunFields,
    ) -> Result<CheckRun, GithubError> {
        let body = serde_json::to_value(fields).expect("check run fields serialise");
        let path = format!("{}/check-runs/{id}", repo.path());
        let reply = self
            .send(Method::PATCH, &path, Some(&body), Mode::Idempotent)
            .await?;
        reply.json(&request_line(&Method::PATCH, &path))
    }
}

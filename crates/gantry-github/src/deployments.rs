//! Deployments and deployment statuses: where a version runs, as the service's developers see it
//! on GitHub. Reads for any identity; creating them for the workflow identity, with a re-send
//! after an unknown outcome settled by looking the record up first.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::GithubError;
use crate::models::RepoName;
use crate::path::encode;
use crate::token::{Identity, Workflow};
use crate::transport::Mode;

/// A deployment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub payload: Value,
    pub created_at: String,
    #[serde(default)]
    pub production_environment: bool,
    #[serde(default)]
    pub transient_environment: bool,
}

/// The fields of a deployment to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentFields {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub description: String,
    /// `false`: deploy exactly `ref` (GitHub would otherwise merge the default branch into it).
    pub auto_merge: bool,
    /// Empty: GitHub verifies no commit statuses (the caller has its own gate).
    pub required_contexts: Vec<String>,
    pub payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_environment: Option<bool>,
}

/// Which deployments to list (every field is a filter GitHub applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentFilter {
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub task: Option<String>,
    pub environment: Option<String>,
}

impl DeploymentFilter {
    /// The filter as a query string (`?sha=…&environment=…`), empty when nothing is filtered.
    pub(crate) fn query(&self) -> String {
        let pairs = [
            ("sha", &self.sha),
            ("ref", &self.git_ref),
            ("task", &self.task),
            ("environment", &self.environment),
        ];
        let parts: Vec<String> = pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v, false))))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// The state a deployment status reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Error,
    Failure,
    Inactive,
    InProgress,
    Queued,
    Pending,
    Success,
}

impl DeploymentState {
    /// The state as GitHub writes it (`in_progress`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Failure => "failure",
            Self::Inactive => "inactive",
            Self::InProgress => "in_progress",
            Self::Queued => "queued",
            Self::Pending => "pending",
            Self::Success => "success",
        }
    }
}

/// A deployment status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: DeploymentState,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub environment_url: Option<String>,
    #[serde(default)]
    pub log_url: Option<String>,
    pub created_at: String,
}

/// The fields of a deployment status to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentStatusFields {
    pub state: DeploymentState,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<String>,
    pub auto_inactive: bool,
}

impl<I: Identity> Client<I> {
    /// Deployments matching `filter`, newest first, every page.
    pub async fn deployments(
        &self,
        repo: &RepoName,
        filter: &DeploymentFilter,
    ) -> Result<Vec<Deployment>, GithubError> {
        let path = format!("{}/deployments{}", repo.path(), filter.query());
        self.get_all(&path, Mode::Read, None).await
    }

    /// The statuses of a deployment, newest first, every page.
    pub async fn deployment_statuses(
        &self,
        repo: &RepoName,
        id: u64,
    ) -> Result<Vec<DeploymentStatus>, GithubError> {
        let path = format!("{}/deployments/{id}/statuses", repo.path());
        self.get_all(&path, Mode::Read, None).await
    }
}

impl Client<Workflow> {
    /// Creates a deployment. After an unknown outcome, the newest deployment of the same sha,
    /// ref, environment and task is it (callers look for one before creating).
    pub async fn create_deployment(
        &self,
        repo: &RepoName,
        sha: &str,
        fields: &DeploymentFields,
    ) -> Result<Deployment, GithubError> {
        let body = serde_json::to_value(fields).expect("deployment fields serialise");
        let path = format!("{}/deployments", repo.path());
        let filter = DeploymentFilter {
            sha: Some(sha.to_owned()),
            task: Some(fields.task.clone()),
            environment: Some(fields.environment.clone()),
            git_ref: Some(fields.git_ref.clone()),
        };
        self.create(&path, &body, || async {
            Ok(self.deployments(repo, &filter).await?.into_iter().next())
        })
        .await
    }

    /// Adds a status to a deployment. After an unknown outcome, a newest status with the same
    /// state and description is it.
    pub async fn create_deployment_status(
        &self,
        repo: &RepoName,
        id: u64,
        fields: &DeploymentStatusFields,
    ) -> Result<DeploymentStatus, GithubError> {
        let body = serde_json::to_value(fields).expect("deployment status fields serialise");
        let path = format!("{}/deployments/{id}/statuses", repo.path());
        self.create(&path, &body, || async {
            let newest = self.deployment_statuses(repo, id).await?.into_iter().next();
            Ok(newest.filter(|s| {
                s.state == fields.state && s.description.as_deref() == Some(&fields.description)
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_an_encoded_query() {
        assert_eq!(DeploymentFilter::default().query(), "");
        let filter = DeploymentFilter {
            sha: Some("abc".into()),
            environment: Some("prod eu/1".into()),
            ..DeploymentFilter::default()
        };
        assert_eq!(filter.query(), "?sha=abc&environment=prod%20eu%2F1");
    }

    #[test]
    fn states_are_github_words() {
        let json = serde_json::to_value(DeploymentState::InProgress).unwrap();
        assert_eq!(json, "in_progress");
        let back: DeploymentState = serde_json::from_value("inactive".into()).unwrap();
        assert_eq!(back, DeploymentState::Inactive);
    }
}

//! One deploy as a GitHub deployment, the same way for every action that deploys: found (a
//! re-run continues its deployment) or created on the commit, marked `in_progress`, then ended
//! `success`, `failure`, `error`, `queued` or `inactive`; in a production environment the
//! deployments it replaced are retired too, where GitHub's `auto_inactive` does not reach.

use gantry_runner::{ActionError, Inputs};
use serde_json::Value;

use crate::client::Client;
use crate::deployments::{
    Deployment, DeploymentFields, DeploymentFilter, DeploymentState, DeploymentStatusFields,
};
use crate::error::GithubError;
use crate::models::RepoName;
use crate::token::Workflow;

/// The task of every deployment gantry records.
const TASK: &str = "deploy";
/// GitHub keeps at most this many characters of a status description.
const DESCRIPTION_LIMIT: usize = 140;

/// Where deploys are recorded, as the inputs asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub environment: String,
    /// Shown with a successful deployment (`environment_url`).
    pub environment_url: Option<String>,
}

/// Why a recording cannot be made of what was asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadRecording {
    #[error("`{0}` is not an environment name (1 to 255 of A-Z a-z 0-9 . _ -)")]
    Environment(String),
    #[error("`{0}` is not an http(s) URL")]
    Url(String),
}

impl Recording {
    /// A recording in `environment`, checked as GitHub names environments.
    pub fn new(environment: &str, environment_url: Option<&str>) -> Result<Self, BadRecording> {
        let valid = !environment.is_empty()
            && environment.len() <= 255
            && environment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(BadRecording::Environment(environment.to_owned()));
        }
        if let Some(url) = environment_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(BadRecording::Url(url.to_owned()));
        }
        Ok(Self {
            environment: environment.to_owned(),
            environment_url: environment_url.map(str::to_owned),
        })
    }
}

/// `record-deployment`, `deployment-environment` (empty: named after `env_file`) and
/// `environment-url`, the inputs of every action that records deploys; `None` when recording
/// is off.
pub fn from_inputs(inputs: &Inputs, env_file: &str) -> Result<Option<Recording>, ActionError> {
    if !inputs.flag("record-deployment")? {
        return Ok(None);
    }
    let environment = inputs
        .get("deployment-environment")
        .unwrap_or_else(|| environment_of(env_file));
    Recording::new(environment, inputs.get("environment-url"))
        .map(Some)
        .map_err(|bad| match bad {
            BadRecording::Environment(_) => ActionError::input(
                "deployment-environment",
                format!("{bad}; set deployment-environment, or record-deployment: false"),
            ),
            BadRecording::Url(_) => ActionError::input("environment-url", bad.to_string()),
        })
}

/// The default environment of an env file: its name without directory and extension.
pub fn environment_of(env_file: &str) -> &str {
    let name = env_file.rsplit('/').next().unwrap_or(env_file);
    name.split_once('.').map_or(name, |(stem, _)| stem)
}

/// One deploy's deployment: what identifies it (repository, commit, ref, environment) and what
/// it says.
#[derive(Debug, Clone)]
pub struct DeployRecord {
    pub repo: RepoName,
    pub sha: String,
    /// The tag or branch deployed; two refs on one commit are two deployments.
    pub git_ref: String,
    pub recording: Recording,
    pub description: String,
    pub payload: Value,
    /// The run's URL (`log_url`).
    pub log_url: Option<String>,
}

/// A deployment being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub id: u64,
    /// An earlier run of this deploy created it.
    pub reused: bool,
    /// A production environment: GitHub's `auto_inactive` leaves its replaced deployments
    /// showing success, so [`DeployRecord::finish`] retires them itself.
    pub production: bool,
}

/// What [`DeployRecord::finish`] did beyond the status.
#[derive(Debug)]
pub struct Finished {
    /// The replaced deployments marked `inactive` (production only), or why not.
    pub retired: Result<Vec<u64>, GithubError>,
}

impl DeployRecord {
    /// Finds or creates the deployment and marks it `in_progress` with `doing`.
    pub async fn start(
        &self,
        client: &Client<Workflow>,
        doing: &str,
    ) -> Result<Started, GithubError> {
        let filter = DeploymentFilter {
            sha: Some(self.sha.clone()),
            task: Some(TASK.to_owned()),
            environment: Some(self.recording.environment.clone()),
            git_ref: Some(self.git_ref.clone()),
        };
        let existing = client
            .deployments(&self.repo, &filter)
            .await?
            .into_iter()
            .next();
        let (deployment, reused): (Deployment, bool) = match existing {
            Some(found) => (found, true),
            None => {
                let fields = DeploymentFields {
                    git_ref: self.git_ref.clone(),
                    task: TASK.to_owned(),
                    environment: self.recording.environment.clone(),
                    description: clip(&self.description),
                    auto_merge: false,
                    required_contexts: Vec::new(),
                    payload: self.payload.clone(),
                    production_environment: None,
                };
                let created = client
                    .create_deployment(&self.repo, &self.sha, &fields)
                    .await?;
                (created, false)
            }
        };
        self.status(
            client,
            deployment.id,
            DeploymentState::InProgress,
            doing,
            None,
            false,
        )
        .await?;
        Ok(Started {
            id: deployment.id,
            reused,
            production: deployment.production_environment,
        })
    }

    /// Ends the deployment in `state` with `why`; a success shows the environment's URL, and in
    /// a production environment retires the deployments it replaced.
    pub async fn finish(
        &self,
        client: &Client<Workflow>,
        started: Started,
        state: DeploymentState,
        why: &str,
    ) -> Result<Finished, GithubError> {
        let success = state == DeploymentState::Success;
        let url = success
            .then_some(self.recording.environment_url.as_deref())
            .flatten();
        // GitHub's auto_inactive (set on the success status) retires the replaced deployments of
        // any other environment: https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status
        self.status(client, started.id, state, why, url, true)
            .await?;
        let retired = if success && started.production {
            self.retire(client, started.id).await
        } else {
            Ok(Vec::new())
        };
        Ok(Finished { retired })
    }

    async fn status(
        &self,
        client: &Client<Workflow>,
        id: u64,
        state: DeploymentState,
        description: &str,
        environment_url: Option<&str>,
        auto_inactive: bool,
    ) -> Result<(), GithubError> {
        let fields = DeploymentStatusFields {
            state,
            description: clip(description),
            environment_url: environment_url.map(str::to_owned),
            log_url: self.log_url.clone(),
            auto_inactive,
        };
        client
            .create_deployment_status(&self.repo, id, &fields)
            .await?;
        Ok(())
    }

    /// Marks `inactive` the older deployments of the environment still showing `success`, newest
    /// first, up to the first one already inactive (earlier runs handled the rest).
    async fn retire(&self, client: &Client<Workflow>, ours: u64) -> Result<Vec<u64>, GithubError> {
        let filter = DeploymentFilter {
            environment: Some(self.recording.environment.clone()),
            ..DeploymentFilter::default()
        };
        let mut retired = Vec::new();
        for older in client
            .deployments(&self.repo, &filter)
            .await?
            .into_iter()
            .filter(|d| d.id < ours)
        {
            let latest = client
                .deployment_statuses(&self.repo, older.id)
                .await?
                .into_iter()
                .next();
            match latest.map(|s| s.state) {
                Some(DeploymentState::Inactive) => break,
                Some(DeploymentState::Success) => {
                    let replaced = format!("replaced by {}", self.git_ref);
                    self.status(
                        client,
                        older.id,
                        DeploymentState::Inactive,
                        &replaced,
                        None,
                        false,
                    )
                    .await?;
                    retired.push(older.id);
                }
                _ => {}
            }
        }
        Ok(retired)
    }
}

/// The warning when a deployment could not be recorded: the deploy goes on.
pub fn not_recorded(repo: &RepoName, error: &GithubError) -> String {
    format!(
        "could not record the deployment in {repo} (the token needs deployments: write there; set record-deployment: false to stop recording); the deploy goes on: {error}"
    )
}

/// `text` cut to what GitHub keeps, on a character boundary.
fn clip(text: &str) -> String {
    if text.chars().count() <= DESCRIPTION_LIMIT {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(DESCRIPTION_LIMIT - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_are_named_after_env_files() {
        assert_eq!(environment_of("deploy/preprod.env"), "preprod");
        assert_eq!(environment_of("prod.env"), "prod");
        assert_eq!(environment_of("clusters/eu/prod"), "prod");
    }

    #[test]
    fn recordings_are_checked_as_github_names_environments() {
        let ok = Recording::new("eu-prod.1", Some("https://app.example")).unwrap();
        assert_eq!(ok.environment, "eu-prod.1");
        assert_eq!(
            Recording::new("prod eu", None),
            Err(BadRecording::Environment("prod eu".into()))
        );
        assert!(Recording::new("", None).is_err());
        assert!(Recording::new(&"e".repeat(256), None).is_err());
        assert_eq!(
            Recording::new("prod", Some("ftp://x")),
            Err(BadRecording::Url("ftp://x".into()))
        );
    }

    #[test]
    fn descriptions_fit_github() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(200);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), DESCRIPTION_LIMIT);
        assert!(clipped.ends_with('…'));
    }
}

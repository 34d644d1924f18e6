//! The deploy as GitHub deployments see it, in the source repository on the release's commit:
//! `in_progress` when it starts, then `success` (with the environment's and the run's URLs),
//! `failure` (with the reason) or `queued` (skip-merge: people merge), and the deployment it
//! replaced `inactive`. A re-run finds its deployment instead of making another. Recording is
//! a record, not a gate: every failure here is a warning and the deploy goes on.

use gantry_github::{
    Client, Deployment, DeploymentFields, DeploymentFilter, DeploymentState,
    DeploymentStatusFields, GithubError, Workflow,
};
use serde_json::json;

use crate::journal::{Journal, Stage};
use crate::settings::Settings;

/// The task of every deployment auto-deploy records.
const TASK: &str = "deploy";
/// GitHub keeps at most this many characters of a status description.
const DESCRIPTION_LIMIT: usize = 140;

/// Where the deploy is recorded, from the inputs.
#[derive(Debug, Clone)]
pub struct Recording {
    pub environment: String,
    pub environment_url: Option<String>,
}

/// A deployment being recorded.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    pub id: u64,
    /// A production environment: GitHub's `auto_inactive` leaves its replaced deployments
    /// showing success, so this run marks them inactive itself.
    pub production: bool,
}

/// How the deploy ended, as its deployment shows it.
pub enum End<'a> {
    Success,
    /// Waiting for people (skip-merge), with why.
    Queued(&'a str),
    Failure(&'a str),
}

/// Finds or creates the deployment of `sha` (as the tag) in the environment and marks it `in_progress`;
/// `None` (with a warning) when recording is off or GitHub refused.
pub async fn start(
    client: &Client<Workflow>,
    settings: &Settings,
    sha: &str,
    journal: &mut Journal<'_, '_>,
) -> Option<Recorded> {
    let recording = settings.record.as_ref()?;
    match start_inner(client, settings, recording, sha).await {
        Ok((deployment, reused)) => {
            let how = if reused { "continuing" } else { "created" };
            journal.note(
                Stage::Record,
                format!(
                    "{how} deployment {} of {} in environment {}",
                    deployment.id, settings.tag, recording.environment
                ),
            );
            Some(Recorded {
                id: deployment.id,
                production: deployment.production_environment,
            })
        }
        Err(error) => {
            journal.warn(Stage::Record, not_recorded(settings, &error));
            None
        }
    }
}

async fn start_inner(
    client: &Client<Workflow>,
    settings: &Settings,
    recording: &Recording,
    sha: &str,
) -> Result<(Deployment, bool), GithubError> {
    // Two tags on one commit are two deployments: the ref is part of what identifies one.
    let filter = DeploymentFilter {
        sha: Some(sha.to_owned()),
        task: Some(TASK.to_owned()),
        environment: Some(recording.environment.clone()),
        git_ref: Some(settings.tag.clone()),
    };
    let existing = client
        .deployments(&settings.source, &filter)
        .await?
        .into_iter()
        .next();
    let (deployment, reused) = match existing {
        Some(found) => (found, true),
        None => {
            let fields = DeploymentFields {
                git_ref: settings.tag.clone(),
                task: TASK.to_owned(),
                environment: recording.environment.clone(),
                description: format!(
                    "gantry auto-deploy {} through {} {}",
                    settings.tag, settings.landing_zone, settings.env_file
                ),
                auto_merge: false,
                required_contexts: Vec::new(),
                payload: json!({
                    "version": settings.version,
                    "landing_zone": settings.landing_zone.to_string(),
                    "env_file": settings.env_file,
                }),
                production_environment: None,
            };
            let created = client
                .create_deployment(&settings.source, sha, &fields)
                .await?;
            (created, false)
        }
    };
    let status = DeploymentStatusFields {
        state: DeploymentState::InProgress,
        description: clip(&format!("deploying {}", settings.version)),
        environment_url: None,
        log_url: settings.run_url.clone(),
        auto_inactive: false,
    };
    client
        .create_deployment_status(&settings.source, deployment.id, &status)
        .await?;
    Ok((deployment, reused))
}

/// Records how the deploy ended; on success, marks the deployments it replaced `inactive`.
pub async fn finish(
    client: &Client<Workflow>,
    settings: &Settings,
    recorded: Recorded,
    end: End<'_>,
    journal: &mut Journal<'_, '_>,
) {
    let Some(recording) = settings.record.as_ref() else {
        return;
    };
    let (state, description, environment_url) = match end {
        End::Success => (
            DeploymentState::Success,
            format!("{} verified", settings.version),
            recording.environment_url.clone(),
        ),
        End::Queued(why) => (DeploymentState::Queued, why.to_owned(), None),
        End::Failure(why) => (DeploymentState::Failure, why.to_owned(), None),
    };
    let status = DeploymentStatusFields {
        state,
        description: clip(&description),
        environment_url,
        log_url: settings.run_url.clone(),
        auto_inactive: true,
    };
    let result = client
        .create_deployment_status(&settings.source, recorded.id, &status)
        .await;
    if let Err(error) = result {
        journal.warn(Stage::Record, not_recorded(settings, &error));
        return;
    }
    journal.note(
        Stage::Record,
        format!("deployment {} is {}", recorded.id, state.as_str()),
    );
    // GitHub's auto_inactive (set on the success status) retires the replaced deployments of
    // any other environment: https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status
    if state == DeploymentState::Success && recorded.production {
        match retire(client, settings, recording, recorded.id).await {
            Ok(retired) if !retired.is_empty() => journal.note(
                Stage::Record,
                format!("marked the replaced deployment(s) {retired:?} inactive"),
            ),
            Ok(_) => {}
            Err(error) => journal.warn(
                Stage::Record,
                format!("could not mark the replaced deployments inactive: {error}"),
            ),
        }
    }
}

/// Marks `inactive` the older deployments of the environment still showing `success`, newest
/// first, up to the first one already inactive (earlier runs handled the rest). GitHub's
/// `auto_inactive` does this itself except for production environments.
async fn retire(
    client: &Client<Workflow>,
    settings: &Settings,
    recording: &Recording,
    ours: u64,
) -> Result<Vec<u64>, GithubError> {
    let filter = DeploymentFilter {
        environment: Some(recording.environment.clone()),
        ..DeploymentFilter::default()
    };
    let mut retired = Vec::new();
    for older in client
        .deployments(&settings.source, &filter)
        .await?
        .into_iter()
        .filter(|d| d.id < ours)
    {
        let latest = client
            .deployment_statuses(&settings.source, older.id)
            .await?
            .into_iter()
            .next();
        match latest.map(|s| s.state) {
            Some(DeploymentState::Inactive) => break,
            Some(DeploymentState::Success) => {
                let status = DeploymentStatusFields {
                    state: DeploymentState::Inactive,
                    description: clip(&format!("replaced by {}", settings.tag)),
                    environment_url: None,
                    log_url: None,
                    auto_inactive: false,
                };
                client
                    .create_deployment_status(&settings.source, older.id, &status)
                    .await?;
                retired.push(older.id);
            }
            _ => {}
        }
    }
    Ok(retired)
}

fn not_recorded(settings: &Settings, error: &GithubError) -> String {
    format!(
        "could not record the deployment in {} (the token needs deployments: write there; set record-deployment: false to stop recording); the deploy goes on: {error}",
        settings.source
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

/// The default environment: the env file's name without directory and extension.
pub fn environment_of(env_file: &str) -> &str {
    let name = env_file.rsplit('/').next().unwrap_or(env_file);
    name.split_once('.').map_or(name, |(stem, _)| stem)
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
    fn descriptions_fit_github() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(200);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), DESCRIPTION_LIMIT);
        assert!(clipped.ends_with('…'));
    }
}

//! The deploy as GitHub deployments see it, in the source repository on the release's commit
//! (`gantry_github::record` does the requests): `in_progress` when it starts, then `success`
//! (with the environment's and the run's URLs), `failure` (with the reason) or `queued`
//! (skip-merge: people merge). Recording is a record, not a gate: every failure here is a
//! warning in the journal and the deploy goes on.

use gantry_github::record::{DeployRecord, Started, not_recorded};
use gantry_github::{Client, DeploymentState, Workflow};
use serde_json::json;

use crate::journal::{Journal, Stage};
use crate::settings::Settings;

/// A deployment being recorded, and the commit it is of.
#[derive(Debug, Clone)]
pub struct Recorded {
    started: Started,
    sha: String,
}

/// How the deploy ended, as its deployment shows it.
pub enum End<'a> {
    Success,
    /// Waiting for people (skip-merge), with why.
    Queued(&'a str),
    Failure(&'a str),
}

/// The deployment of `sha` (the tag's commit) in the recording's environment; `None` when
/// recording is off.
fn of(settings: &Settings, sha: &str) -> Option<DeployRecord> {
    let recording = settings.record.clone()?;
    Some(DeployRecord {
        repo: settings.source.clone(),
        sha: sha.to_owned(),
        git_ref: settings.tag.clone(),
        recording,
        description: format!(
            "gantry auto-deploy {} through {} {}",
            settings.tag, settings.landing_zone, settings.env_file
        ),
        payload: json!({
            "version": settings.version,
            "landing_zone": settings.landing_zone.to_string(),
            "env_file": settings.env_file,
        }),
        log_url: settings.run_url.clone(),
    })
}

/// Finds or creates the deployment of `sha` and marks it `in_progress`; `None` (with a warning)
/// when recording is off or GitHub refused.
pub async fn start(
    client: &Client<Workflow>,
    settings: &Settings,
    sha: &str,
    journal: &mut Journal<'_, '_>,
) -> Option<Recorded> {
    let record = of(settings, sha)?;
    match record
        .start(client, &format!("deploying {}", settings.version))
        .await
    {
        Ok(started) => {
            let how = if started.reused {
                "continuing"
            } else {
                "created"
            };
            journal.note(
                Stage::Record,
                format!(
                    "{how} deployment {} of {} in environment {}",
                    started.id, settings.tag, record.recording.environment
                ),
            );
            Some(Recorded {
                started,
                sha: sha.to_owned(),
            })
        }
        Err(error) => {
            journal.warn(Stage::Record, not_recorded(&settings.source, &error));
            None
        }
    }
}

/// Records how the deploy ended on the deployment `start` began.
pub async fn finish(
    client: &Client<Workflow>,
    settings: &Settings,
    recorded: &Recorded,
    end: End<'_>,
    journal: &mut Journal<'_, '_>,
) {
    let Recorded { started, sha } = recorded;
    let Some(record) = of(settings, sha) else {
        return;
    };
    let verified;
    let (state, why) = match end {
        End::Success => {
            verified = format!("{} verified", settings.version);
            (DeploymentState::Success, verified.as_str())
        }
        End::Queued(why) => (DeploymentState::Queued, why),
        End::Failure(why) => (DeploymentState::Failure, why),
    };
    match record.finish(client, *started, state, why).await {
        Ok(finished) => {
            journal.note(
                Stage::Record,
                format!("deployment {} is {}", started.id, state.as_str()),
            );
            match finished.retired {
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
        Err(error) => journal.warn(Stage::Record, not_recorded(&settings.source, &error)),
    }
}

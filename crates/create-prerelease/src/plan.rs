//! The release flow: look the release up by tag; leave an identical one alone; report or fix a
//! differing one; otherwise check the tag, compose the notes and create the release. A create
//! whose outcome is unknown is reconciled by the client layer, so a tag never gets two releases.
//! On cancellation the reads stop at once, and the one write (create or update, a single request,
//! so never half-made) is finished within the runner's window or reported as in flight.

use gantry_github::models::{Release, ReleaseFields};
use gantry_github::{Client, GithubError, Origin, Workflow};
use gantry_runner::ActionError;
use gantry_runner::cancel::Cancellation;

use crate::settings::{OnExisting, Settings};
use crate::template::Values;

/// What this run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Unchanged,
    Updated,
}

/// The release as it now is, and how it got there.
#[derive(Debug)]
pub struct Outcome {
    pub release: Release,
    pub action: Action,
    /// How an existing release differed (empty when created or identical).
    pub differences: Vec<String>,
}

/// Runs the release flow unless the step is cancelled before its write.
pub async fn release(
    client: &Client<Workflow>,
    settings: &Settings,
    cancellation: &Cancellation,
) -> Result<Outcome, ActionError> {
    let (repo, tag) = (&settings.repo, settings.tag.as_str());
    let nothing_written = || {
        ActionError::Failed(
            cancellation.error("stopped before any write; no release was made or changed"),
        )
    };
    let in_flight = |verb: &str| {
        ActionError::Failed(cancellation.error(format!(
            "the {verb} of the release for {tag} was sent and its answer did not arrive within the cancellation window; a re-run finds the release by its tag and reconciles it"
        )))
    };
    let existing = cancellation
        .unless_cancelled(client.release_by_tag(repo, tag))
        .await
        .ok_or_else(nothing_written)?
        .map_err(|error| {
            api_failure(
                error,
                format!("failed to look up the release for {tag} in {repo}"),
            )
        })?;
    if let Some(existing) = existing {
        let differences = differences(&existing, settings);
        if differences.is_empty() {
            return Ok(Outcome {
                release: existing,
                action: Action::Unchanged,
                differences,
            });
        }
        if settings.on_existing == OnExisting::Fail {
            return Err(ActionError::Failed(anyhow::anyhow!(
                "the release for {tag} in {repo} exists and differs: {}; re-run with on-existing: update to make it match, or delete it",
                differences.join("; ")
            )));
        }
        let fields = cancellation
            .unless_cancelled(desired(client, settings))
            .await
            .ok_or_else(nothing_written)??;
        let release = cancellation
            .finish_within_window(client.update_release(repo, existing.id, &fields))
            .await
            .ok_or_else(|| in_flight("update"))?
            .map_err(|error| {
                api_failure(
                    error,
                    format!(
                        "failed to update release {} for {tag} in {repo}",
                        existing.id
                    ),
                )
            })?;
        return Ok(Outcome {
            release,
            action: Action::Updated,
            differences,
        });
    }
    let fields = cancellation
        .unless_cancelled(desired(client, settings))
        .await
        .ok_or_else(nothing_written)??;
    let release = cancellation
        .finish_within_window(client.create_release(repo, &fields))
        .await
        .ok_or_else(|| in_flight("create"))?
        .map_err(|error| {
            api_failure(
                error,
                format!("failed to create the release for {tag} in {repo}"),
            )
        })?;
    // A reconcile after an unknown outcome may have found a release someone else made meanwhile.
    let differences = differences(&release, settings);
    if !differences.is_empty() {
        return Err(ActionError::Failed(anyhow::anyhow!(
            "a different release for {tag} appeared in {repo} while this run created one: {}",
            differences.join("; ")
        )));
    }
    Ok(Outcome {
        release,
        action: Action::Created,
        differences,
    })
}

/// The release fields this run wants: checks the tag exists and composes the notes.
async fn desired(
    client: &Client<Workflow>,
    settings: &Settings,
) -> Result<ReleaseFields, ActionError> {
    let (repo, tag) = (&settings.repo, settings.tag.as_str());
    let sha = client
        .tag_commit(repo, tag)
        .await
        .map_err(|error| api_failure(error, format!("failed to read tag {tag} in {repo}")))?
        .ok_or_else(|| {
            ActionError::input(
                "tag",
                format!("`{tag}` does not exist in {repo}; push the tag before releasing it"),
            )
        })?;
    let repository = repo.to_string();
    let values = Values {
        tag,
        version: settings.version(),
        repository: &repository,
        sha: &sha,
    };
    let notes = match (&settings.body, settings.generate_notes) {
        (Some(template), _) => template.render(&values),
        (None, true) => {
            client
                .generate_notes(repo, tag, None)
                .await
                .map_err(|error| {
                    api_failure(
                        error,
                        format!("failed to generate release notes for {tag} in {repo}"),
                    )
                })?
                .body
        }
        (None, false) => String::new(),
    };
    let name = settings.name.render(&values);
    let origin = Origin {
        tool: "create-prerelease".to_owned(),
        repository: repository.clone(),
        sha: sha.clone(),
        run_id: settings.run_id.clone(),
        workflow: settings.workflow.clone(),
    };
    let prerelease = settings.is_prerelease();
    Ok(ReleaseFields {
        tag_name: Some(tag.to_owned()),
        target_commitish: None,
        name: Some(name),
        body: Some(origin.append_to(&notes)),
        draft: Some(false),
        prerelease: Some(prerelease),
        make_latest: Some(if prerelease {
            "false".to_owned()
        } else {
            settings.make_latest.clone()
        }),
    })
}

/// How an existing release differs from what this run would make, field by field. Generated notes
/// are not compared (GitHub's generator may word them differently later); templated notes are.
pub fn differences(release: &Release, settings: &Settings) -> Vec<String> {
    let mut differences = Vec::new();
    let repository = settings.repo.to_string();
    let body = release.body.clone().unwrap_or_default();
    let values = Values {
        tag: &settings.tag,
        version: settings.version(),
        repository: &repository,
        sha: "",
    };
    let name = settings.name.render(&values);
    if release.name.as_deref().unwrap_or_default() != name {
        differences.push(format!(
            "title is {:?}, wanted {name:?}",
            release.name.as_deref().unwrap_or_default()
        ));
    }
    let prerelease = settings.is_prerelease();
    if release.prerelease != prerelease {
        differences.push(format!(
            "prerelease is {}, wanted {prerelease}",
            release.prerelease
        ));
    }
    if release.draft {
        differences.push("it is a draft".to_owned());
    }
    match Origin::find(&body) {
        None => {
            differences.push("it has no origin marker (not made by create-prerelease)".to_owned());
        }
        Some(origin) if origin.repository != repository => {
            differences.push(format!(
                "its origin marker names {}, not {repository}",
                origin.repository
            ));
        }
        Some(origin) => {
            if let Some(template) = &settings.body {
                let wanted = template.render(&Values {
                    sha: &origin.sha,
                    ..values
                });
                if Origin::strip(&body) != wanted.trim_end() {
                    differences.push("its notes differ from the body template".to_owned());
                }
            }
        }
    }
    differences
}

/// Turns a client error into the action's error: a rejected token is bad input, the rest failure.
fn api_failure(error: GithubError, context: String) -> ActionError {
    match error.status() {
        Some(401) => ActionError::input(
            "token",
            format!("was rejected by GitHub ({error}); pass a valid token"),
        ),
        Some(403) if !matches!(error, GithubError::Deadline { .. }) => {
            ActionError::Failed(anyhow::Error::new(error).context(format!(
                "{context} (the token needs contents: write on the repository)"
            )))
        }
        _ => ActionError::Failed(anyhow::Error::new(error).context(context)),
    }
}

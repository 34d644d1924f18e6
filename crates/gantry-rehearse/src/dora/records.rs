//! Reads the [`History`] of one environment from GitHub (or github-sim) through gantry-github:
//! deployments newest first, page by page, each with its statuses, until the last successful
//! deployment before the period (the base its first deployment is compared with); releases; and
//! the commits between successive successful deployments from the one before the period to the
//! first one after it.

use std::collections::HashMap;

use gantry_github::{Client, GithubError, RepoName, Workflow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::history::{Commit, Delivered, Deployment, History, Status, successes};
use super::period::Period;
use crate::progress::Progress;

/// Why the records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not there, or not readable with this token: the input is wrong.
    #[error(
        "repository {0} not found: check --repo (owner/name) and that the token can read its deployments"
    )]
    UnknownRepo(RepoName),
    /// The token was refused.
    #[error("the token was refused ({0}): give a valid token in GH_TOKEN or GITHUB_TOKEN")]
    BadToken(GithubError),
    /// GitHub answered something that is not a time where a time belongs.
    #[error("{what} has no valid time: `{value}`")]
    BadTime { what: String, value: String },
    #[error("failed to read the deployment records: {0}")]
    Github(#[from] GithubError),
}

impl ReadError {
    /// True when the input (repository, token) is what is wrong.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::UnknownRepo(_) | Self::BadToken(_))
    }
}

/// Reads what the keys of `environment` over `period` need.
pub async fn read(
    client: &Client<Workflow>,
    repo: &RepoName,
    environment: &str,
    period: &Period,
    progress: &Progress,
) -> Result<History, ReadError> {
    match client.repository(repo).await {
        Ok(_) => {}
        Err(error) if error.is_not_found() => return Err(ReadError::UnknownRepo(repo.clone())),
        Err(error) if error.status() == Some(401) => return Err(ReadError::BadToken(error)),
        Err(error) => return Err(error.into()),
    }
    let deployments = read_deployments(client, repo, environment, period, progress).await?;
    let releases = read_releases(client, repo, progress).await?;
    let delivered = read_commits(client, repo, &deployments, period, progress).await?;
    Ok(History {
        deployments,
        delivered,
        releases,
    })
}

async fn read_deployments(
    client: &Client<Workflow>,
    repo: &RepoName,
    environment: &str,
    period: &Period,
    progress: &Progress,
) -> Result<Vec<Deployment>, ReadError> {
    let counter = progress.counter(&format!("deployments to {environment}"), None);
    let mut pages = client.deployments(repo, environment);
    let mut deployments = Vec::new();
    let mut page_number = 0;
    while let Some(page) = client.next_page(&mut pages).await? {
        page_number += 1;
        for listed in page {
            let statuses = client
                .deployment_statuses(repo, listed.id)
                .await?
                .into_iter()
                .map(|s| {
                    Ok(Status {
                        at: time_of(
                            &format!("status {} of deployment {}", s.id, listed.id),
                            &s.created_at,
                        )?,
                        id: s.id,
                        state: s.state,
                    })
                })
                .collect::<Result<_, ReadError>>()?;
            deployments.push(Deployment {
                created_at: time_of(&format!("deployment {}", listed.id), &listed.created_at)?,
                id: listed.id,
                sha: listed.sha,
                reference: listed.reference,
                statuses,
            });
            counter.add(1);
        }
        counter.note(&format!(
            "deployments to {environment}: page {page_number}, {} read",
            deployments.len()
        ));
        let base_found = successes(&deployments)
            .iter()
            .any(|(_, at, _)| *at < period.since);
        if base_found {
            break;
        }
    }
    counter.done(&format!(
        "read {} to {environment} ({}) and their statuses",
        count(deployments.len(), "deployment"),
        count(page_number, "page")
    ));
    if deployments.is_empty() {
        progress.line(&format!(
            "warning: {repo} has no deployments to `{environment}` at all: check --environment"
        ));
    }
    Ok(deployments)
}

async fn read_releases(
    client: &Client<Workflow>,
    repo: &RepoName,
    progress: &Progress,
) -> Result<HashMap<String, String>, ReadError> {
    let counter = progress.counter("releases", None);
    let releases = client
        .releases(repo, |page| {
            counter.add(page.len() as u64);
            counter.note(&format!("releases: {} more", page.len()));
        })
        .await?;
    counter.done(&format!("read {}", count(releases.len(), "release")));
    Ok(releases
        .into_iter()
        .map(|r| {
            let name = r
                .name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| r.tag_name.clone());
            (r.tag_name, name)
        })
        .collect())
}

/// The commits of each successful deployment that matters: from the one before the period on,
/// up to the first one after it (whose comparison says whether the last one was rolled back).
async fn read_commits(
    client: &Client<Workflow>,
    repo: &RepoName,
    deployments: &[Deployment],
    period: &Period,
    progress: &Progress,
) -> Result<HashMap<u64, Delivered>, ReadError> {
    let successes = successes(deployments);
    let first_after = successes
        .iter()
        .position(|(_, at, _)| *at >= period.until)
        .map_or(successes.len(), |index| index + 1);
    let pairs: Vec<_> = successes[..first_after]
        .windows(2)
        .filter(|pair| pair[1].1 >= period.since)
        .map(|pair| (pair[0].0, pair[1].0))
        .collect();
    let counter = progress.counter("comparisons", Some(pairs.len() as u64));
    let mut delivered = HashMap::new();
    for (base, head) in pairs {
        let range = client.commit_range(repo, &base.sha, &head.sha).await?;
        let commits = range
            .commits
            .into_iter()
            .map(|c| {
                Ok(Commit {
                    at: time_of(&format!("commit {}", c.sha), &c.committed_at)?,
                    sha: c.sha,
                })
            })
            .collect::<Result<Vec<_>, ReadError>>()?;
        delivered.insert(
            head.id,
            Delivered {
                status: range.status,
                commits,
            },
        );
        counter.add(1);
    }
    counter.done(&format!(
        "compared {} of successive deployed commits",
        count(delivered.len(), "pair")
    ));
    Ok(delivered)
}

/// `1 page`, `2 pages`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn time_of(what: &str, value: &str) -> Result<OffsetDateTime, ReadError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| ReadError::BadTime {
        what: what.to_owned(),
        value: value.to_owned(),
    })
}

//! Mirrors the landing-zone checks onto the release's commit in the source repository, as check
//! runs with the same names, states and conclusions and a link back. Mirrors are recognised by
//! their `external_id`, so a re-run updates them instead of adding more, and check runs of the
//! source repository's own CI are never touched.

use std::collections::BTreeMap;

use anyhow::Context as _;
use gantry_github::models::{CheckOutput, CheckRunFields};
use gantry_github::{Client, RepoName, Workflow};

use crate::checks::Check;

/// The mirrors on one commit.
pub struct Mirror {
    repo: RepoName,
    sha: String,
    origin: String,
    /// Check name → (mirror id, the state last written).
    known: BTreeMap<String, (u64, (String, Option<String>))>,
}

impl Mirror {
    /// Finds the mirrors an earlier run left on `sha`.
    pub async fn load(
        client: &Client<Workflow>,
        repo: &RepoName,
        sha: &str,
        landing_zone: &RepoName,
    ) -> anyhow::Result<Self> {
        let origin = format!("gantry-auto-deploy:{landing_zone}:");
        let runs = client
            .check_runs(repo, sha)
            .await
            .with_context(|| format!("failed to list the check runs of {sha} in {repo}"))?;
        let known = runs
            .check_runs
            .into_iter()
            .filter_map(|run| {
                let name = run
                    .external_id
                    .as_deref()?
                    .strip_prefix(&origin)?
                    .to_owned();
                Some((name, (run.id, (run.status, run.conclusion))))
            })
            .collect();
        Ok(Self {
            repo: repo.clone(),
            sha: sha.to_owned(),
            origin,
            known,
        })
    }

    /// Creates or updates the mirror of every check whose state changed.
    pub async fn sync(
        &mut self,
        client: &Client<Workflow>,
        checks: &[Check],
        pr_url: &str,
    ) -> anyhow::Result<()> {
        for check in checks {
            let state = (check.status.clone(), check.conclusion.clone());
            let fields = CheckRunFields {
                name: Some(check.name.clone()),
                head_sha: Some(self.sha.clone()),
                status: Some(
                    match check.status.as_str() {
                        status @ ("queued" | "in_progress" | "completed") => status,
                        _ => "queued",
                    }
                    .to_owned(),
                ),
                conclusion: check.conclusion.clone(),
                details_url: Some(check.url.clone()).filter(|url| !url.is_empty()),
                external_id: Some(format!("{}{}", self.origin, check.name)),
                output: Some(CheckOutput {
                    title: format!("{}: {}", check.name, check.outcome()),
                    summary: format!("Mirrored from the landing-zone pull request {pr_url}"),
                }),
            };
            let context = || {
                format!(
                    "failed to mirror check {} onto {} in {}",
                    check.name, self.sha, self.repo
                )
            };
            match self.known.get(&check.name) {
                Some((_, written)) if *written == state => {}
                Some(&(id, _)) => {
                    client
                        .update_check_run(&self.repo, id, &fields)
                        .await
                        .with_context(context)?;
                    self.known.insert(check.name.clone(), (id, state));
                }
                None => {
                    let run = client
                        .create_check_run(&self.repo, &fields)
                        .await
                        .with_context(context)?;
                    self.known.insert(check.name.clone(), (run.id, state));
                }
            }
        }
        Ok(())
    }
}

//! Step 8: the bot approves the validated head and merges exactly that head. A head that moved
//! (409) goes back to validation, never to a merge; a refusal (405) re-polls `mergeable` (null
//! means "still computing") and tries again a few times before giving GitHub's reason.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use gantry_github::models::PullRequest;
use gantry_github::{Approver, Client, GithubError, RepoName, Workflow};

use crate::journal::{Journal, Stage};

const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(5);
/// Merges refused with 405 before the refusal is final.
const REFUSALS: u32 = 5;
/// Ends the body of every approval the bot gives, so that a later run recognises it.
pub const APPROVAL_NOTE: &str = "approved by gantry auto-deploy";

/// How the merge ended.
#[derive(Debug)]
pub enum Merge {
    /// Merged; the commit on the base branch.
    Merged(String),
    /// The head is no longer the validated one; validate this one.
    HeadMoved(String),
}

/// Who merges what.
pub struct Target<'a> {
    pub repo: &'a RepoName,
    pub number: u64,
    pub sha: &'a str,
    pub method: &'a str,
}

pub async fn approve_and_merge(
    bot: &Client<Approver>,
    reader: &Client<Workflow>,
    target: &Target<'_>,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Merge> {
    let Target {
        repo,
        number,
        sha,
        method,
    } = *target;
    let approved = bot
        .reviews(repo, number)
        .await
        .with_context(|| format!("failed to read the reviews of pull request #{number} in {repo}"))?
        .iter()
        .any(|review| review.state == "APPROVED" && review.commit_id.as_deref() == Some(sha));
    if approved {
        journal.note(
            Stage::Merge,
            format!("#{number} is already approved at {sha}"),
        );
    } else {
        // The approval counts whichever commit it names: never give it to a head that moved.
        let current = pull(reader, repo, number).await?;
        if current.head.sha != sha {
            return Ok(Merge::HeadMoved(current.head.sha));
        }
        bot.approve(
            repo,
            number,
            sha,
            &format!("Every check passed on {sha}; {APPROVAL_NOTE}."),
        )
        .await
        .with_context(|| {
            format!("failed to approve pull request #{number} in {repo} with the bot token")
        })?;
        journal.note(Stage::Merge, format!("approved #{number} at {sha}"));
    }
    let (mut wait, mut refusals) = (FIRST_WAIT, 0);
    loop {
        let refused = match bot.merge(repo, number, sha, method).await {
            Ok(merged) => return Ok(Merge::Merged(merged.sha)),
            Err(error) if error.status() == Some(409) => {
                let pull = pull(reader, repo, number).await?;
                if pull.head.sha != sha {
                    return Ok(Merge::HeadMoved(pull.head.sha));
                }
                error
            }
            Err(error) if error.status() == Some(405) => {
                let pull = settled(reader, repo, number, deadline).await?;
                if pull.head.sha != sha {
                    return Ok(Merge::HeadMoved(pull.head.sha));
                }
                if pull.mergeable == Some(false) {
                    return Err(anyhow::Error::new(error).context(format!(
                        "pull request #{number} in {repo} conflicts with its base branch; resolve it or close it and re-run"
                    )));
                }
                refusals += 1;
                if refusals >= REFUSALS {
                    return Err(anyhow::Error::new(error).context(format!(
                        "GitHub refused to merge pull request #{number} in {repo} {REFUSALS} times (mergeable_state {})",
                        pull.mergeable_state.as_deref().unwrap_or("unknown")
                    )));
                }
                error
            }
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("failed to merge pull request #{number} in {repo}")));
            }
        };
        journal.note(Stage::Merge, format!("merge not possible yet: {refused}"));
        if Instant::now() + wait >= deadline {
            return Err(anyhow::Error::new(refused).context(format!(
                "deadline reached while merging pull request #{number} in {repo}"
            )));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(LONGEST_WAIT);
    }
}

async fn pull(
    reader: &Client<Workflow>,
    repo: &RepoName,
    number: u64,
) -> anyhow::Result<PullRequest> {
    reader
        .pull(repo, number)
        .await
        .map_err(|error: GithubError| anyhow::Error::new(error))
        .with_context(|| format!("failed to read pull request #{number} in {repo}"))
}

/// The pull request once GitHub has computed `mergeable`.
async fn settled(
    reader: &Client<Workflow>,
    repo: &RepoName,
    number: u64,
    deadline: Instant,
) -> anyhow::Result<PullRequest> {
    loop {
        let pull = pull(reader, repo, number).await?;
        if pull.mergeable.is_some() || pull.is_merged() {
            return Ok(pull);
        }
        if Instant::now() + FIRST_WAIT >= deadline {
            return Err(anyhow!(
                "GitHub was still computing whether pull request #{number} in {repo} can be merged at the deadline"
            ));
        }
        tokio::time::sleep(FIRST_WAIT).await;
    }
}

//! Step 8: the bot approves the validated head and merges exactly that head. A head that moved
//! (409) goes back to validation, never to a merge; a refusal (405) re-polls `mergeable` (null
//! means "still computing"). A head behind a base that requires branches to be up to date is
//! brought up to date (GitHub's update-branch, pinned to the validated head) and goes back to
//! validation: another service merging first never fails a deploy. Any other refusal is tried
//! again a few times before giving GitHub's reason.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use gantry_github::models::{PullRequest, Review};
use gantry_github::{Approver, Client, GithubError, RepoName, Workflow};

use crate::journal::{Journal, Stage};
use crate::queue;

const FIRST_WAIT: Duration = Duration::from_secs(1);
/// GitHub makes the update-branch merge commit asynchronously, usually within a moment.
const UPDATE_POLL: Duration = Duration::from_millis(200);
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
    /// The head was behind the base and now merges it: this new head needs validating.
    Updated(String),
}

/// Who merges what.
pub struct Target<'a> {
    pub repo: &'a RepoName,
    /// The base branch.
    pub base: &'a str,
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
        ..
    } = *target;
    let reviews = bot.reviews(repo, number).await.with_context(|| {
        format!("failed to read the reviews of pull request #{number} in {repo}")
    })?;
    if standing_approval(&reviews).is_some() {
        journal.note(
            Stage::Merge,
            format!("#{number} is already approved; the approval stands for {sha}"),
        );
    } else if let Some(moved) = approve(bot, reader, target, journal).await? {
        return Ok(moved);
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
            Err(error) if error.requires_merge_queue() => {
                return queue::merge_through_queue(bot, reader, target, deadline, journal).await;
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
                if pull.mergeable_state.as_deref() == Some("behind") {
                    return update(reader, target, deadline, journal).await;
                }
                if pull.mergeable_state.as_deref() == Some("blocked") {
                    // An approval of an earlier head that protection no longer counts (the
                    // most recent push must be approved): approve this head, once.
                    let reviews = bot.reviews(repo, number).await.with_context(|| {
                        format!("failed to read the reviews of pull request #{number} in {repo}")
                    })?;
                    if standing_approval(&reviews).is_some_and(|at| at != sha) {
                        if let Some(moved) = approve(bot, reader, target, journal).await? {
                            return Ok(moved);
                        }
                        continue;
                    }
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

/// The commit a standing approval names: the latest verdict of some reviewer is an approval
/// that was not dismissed (GitHub counts it whichever commit it names, unless the base dismisses
/// stale approvals, which turns it into `DISMISSED`). The head it is used for has been validated
/// by the guard first.
fn standing_approval(reviews: &[Review]) -> Option<&str> {
    let mut latest: Vec<(&str, &Review)> = Vec::new();
    for review in reviews.iter().filter(|review| {
        matches!(
            review.state.as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        )
    }) {
        let login = review.user.as_ref().map_or("", |user| user.login.as_str());
        latest.retain(|(who, _)| *who != login);
        latest.push((login, review));
    }
    latest
        .iter()
        .rev()
        .find(|(_, review)| review.state == "APPROVED")
        .map(|(_, review)| review.commit_id.as_deref().unwrap_or_default())
}

/// Approves the validated head, unless it moved in the meantime (then that head is returned).
async fn approve(
    bot: &Client<Approver>,
    reader: &Client<Workflow>,
    target: &Target<'_>,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Option<Merge>> {
    let Target {
        repo, number, sha, ..
    } = *target;
    // The approval counts whichever commit it names: never give it to a head that moved.
    let current = pull(reader, repo, number).await?;
    if current.head.sha != sha {
        return Ok(Some(Merge::HeadMoved(current.head.sha)));
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
    Ok(None)
}

/// Merges the base into a head that is behind it (pinned to the validated head) and returns the
/// new head once GitHub has made it.
async fn update(
    client: &Client<Workflow>,
    target: &Target<'_>,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Merge> {
    let Target {
        repo, number, sha, ..
    } = *target;
    match client.update_branch(repo, number, sha).await {
        Ok(()) => {}
        // 422: the head is no longer `sha` (an earlier attempt of this call was applied, or
        // someone pushed); the read below finds the new head either way.
        Err(error) if error.status() == Some(422) => {}
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!(
                "failed to bring pull request #{number} in {repo} up to date with its base branch"
            )));
        }
    }
    let mut wait = UPDATE_POLL;
    loop {
        let pull = pull(client, repo, number).await?;
        if pull.head.sha != sha {
            journal.note(
                Stage::Merge,
                format!(
                    "#{number} was behind its base branch: merged the base into it ({sha} → {})",
                    pull.head.sha
                ),
            );
            return Ok(Merge::Updated(pull.head.sha));
        }
        if Instant::now() + wait >= deadline {
            return Err(anyhow!(
                "deadline reached waiting for GitHub to bring pull request #{number} in {repo} up to date with its base branch"
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(FIRST_WAIT);
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

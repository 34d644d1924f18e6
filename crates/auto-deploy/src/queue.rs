//! Step 8 on a base branch that requires a merge queue, where GitHub refuses the REST merge
//! ("Changes must be made through the merge queue"): the bot enqueues the validated head
//! (GraphQL `enqueuePullRequest`, pinned with `expectedHeadOid`, what `gh pr merge --auto` does)
//! and the deploy follows the entry until it merges, or until the queue removes it, saying why and
//! naming the check that failed on its merge group.
//!
//! Following costs little: the pull request is read with an `ETag` every second (a 304 is free), so
//! the merge is seen at once; the queue itself (one GraphQL query, never free) is read when the
//! pull request changed and otherwise at a growing interval.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use gantry_github::{Approver, Client, QueueEntry, QueueOutcome, Workflow};

use crate::checks::{self, State};
use crate::journal::{Journal, Stage};
use crate::merge::{Merge, Target};

const PULL_POLL: Duration = Duration::from_secs(1);
const FIRST_QUEUE_POLL: Duration = Duration::from_secs(2);
const LONGEST_QUEUE_POLL: Duration = Duration::from_secs(15);

/// Enqueues `target` (unless an earlier run did) and follows it to its merge.
pub async fn merge_through_queue(
    bot: &Client<Approver>,
    reader: &Client<Workflow>,
    target: &Target<'_>,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Merge> {
    let Target {
        repo,
        base,
        number,
        sha,
        ..
    } = *target;
    let read_queue = || async {
        reader
            .pull_queue_state(repo, number)
            .await
            .with_context(|| format!("failed to read the merge queue state of #{number} in {repo}"))
    };
    let state = read_queue().await?;
    let entry = match state.outcome() {
        QueueOutcome::Merged { merge_commit_sha } => {
            return merged(merge_commit_sha, target, journal);
        }
        QueueOutcome::Queued(entry) if entry.head_sha == sha => {
            journal.note(
                Stage::Merge,
                format!(
                    "#{number} is already in the merge queue of {base} (position {})",
                    entry.position
                ),
            );
            entry
        }
        _ if state.head_sha != sha => return Ok(Merge::HeadMoved(state.head_sha)),
        _ => {
            let entry = bot
                .enqueue_pull_request(&state.node_id, sha)
                .await
                .with_context(|| {
                    format!("failed to add #{number} in {repo} to the merge queue of {base} with the bot token")
                })?;
            journal.note(
                Stage::Merge,
                format!(
                    "{base} requires a merge queue: queued #{number} at {sha} (position {})",
                    entry.position
                ),
            );
            entry
        }
    };
    follow(reader, target, &entry, deadline, journal).await
}

/// Follows a queued entry until it merges or leaves the queue.
async fn follow(
    reader: &Client<Workflow>,
    target: &Target<'_>,
    queued: &QueueEntry,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Merge> {
    let Target {
        repo,
        base,
        number,
        sha,
        ..
    } = *target;
    let group_branch = format!("heads/gh-readonly-queue/{base}/pr-{number}-{sha}");
    let mut group_sha: Option<String> = None;
    let mut last_seen = (queued.position, queued.state);
    let mut queue_wait = FIRST_QUEUE_POLL;
    let mut next_queue_read = Instant::now() + queue_wait;
    let mut last_pull: Option<String> = None;
    loop {
        let pull = reader
            .pull(repo, number)
            .await
            .with_context(|| format!("failed to read pull request #{number} in {repo}"))?;
        if pull.is_merged() {
            return merged(pull.merge_commit_sha, target, journal);
        }
        let pull_changed =
            last_pull.as_deref() != Some(pull.head.sha.as_str()) || pull.state != "open";
        last_pull = Some(pull.head.sha.clone());
        if pull_changed || Instant::now() >= next_queue_read {
            let state = reader
                .pull_queue_state(repo, number)
                .await
                .with_context(|| {
                    format!("failed to read the merge queue state of #{number} in {repo}")
                })?;
            match state.outcome() {
                QueueOutcome::Merged { merge_commit_sha } => {
                    return merged(merge_commit_sha, target, journal);
                }
                QueueOutcome::Queued(entry) => {
                    if (entry.position, entry.state) != last_seen {
                        journal.note(
                            Stage::Merge,
                            format!(
                                "#{number} in the merge queue: position {}, {:?}",
                                entry.position, entry.state
                            ),
                        );
                        last_seen = (entry.position, entry.state);
                    }
                    if group_sha.is_none() {
                        group_sha = reader
                            .git_ref(repo, &group_branch)
                            .await?
                            .map(|found| found.object.sha);
                    }
                }
                QueueOutcome::Removed(removal) if removal.at >= queued.enqueued_at => {
                    let reason = removal.reason.as_deref().unwrap_or("no reason given");
                    let failed = match &group_sha {
                        Some(group) => failed_checks(reader, target, group).await?,
                        None => String::new(),
                    };
                    return Err(anyhow!(
                        "pull request #{number} in {repo} was removed from the merge queue of {base} ({reason}){failed}; it was not merged"
                    ));
                }
                QueueOutcome::Removed(_) | QueueOutcome::NotQueued => {
                    return Err(anyhow!(
                        "pull request #{number} in {repo} left the merge queue of {base} without a removal GitHub reports; it was not merged"
                    ));
                }
            }
            queue_wait = (queue_wait * 2).min(LONGEST_QUEUE_POLL);
            next_queue_read = Instant::now() + queue_wait;
        }
        if Instant::now() + PULL_POLL >= deadline {
            return Err(anyhow!(
                "deadline reached while #{number} in {repo} waited in the merge queue of {base} (last seen at position {}, {:?})",
                last_seen.0,
                last_seen.1
            ));
        }
        tokio::time::sleep(PULL_POLL).await;
    }
}

/// `: check `x` failed on its merge group <sha> (<url>)`, from the group commit's checks.
async fn failed_checks(
    reader: &Client<Workflow>,
    target: &Target<'_>,
    group: &str,
) -> anyhow::Result<String> {
    let checks = checks::read(reader, target.repo, group).await?;
    let failed: Vec<String> = checks
        .iter()
        .filter(|check| check.state() == State::Failed)
        .map(|check| format!("check `{}` {} ({})", check.name, check.outcome(), check.url))
        .collect();
    Ok(if failed.is_empty() {
        String::new()
    } else {
        format!(": on its merge group {group}, {}", failed.join(", "))
    })
}

/// The merge the queue made.
fn merged(
    merge_commit_sha: Option<String>,
    target: &Target<'_>,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Merge> {
    let (repo, number) = (target.repo, target.number);
    let commit = merge_commit_sha.ok_or_else(|| {
        anyhow!("pull request #{number} in {repo} was merged, but GitHub reports no merge commit")
    })?;
    journal.note(
        Stage::Merge,
        format!("the merge queue merged #{number} as {commit}"),
    );
    Ok(Merge::Merged(commit))
}

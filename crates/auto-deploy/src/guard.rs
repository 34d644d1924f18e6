//! What the bot approves. Its approval lets a release skip a human reviewer, so it must cover
//! exactly the change this action made. Before the bot approves a head (and the merge is pinned to
//! the approved head), the head is compared with the base (GitHub's three-dot comparison): the
//! only difference allowed is the version line of the env file, and every commit on the branch
//! must be this action's own (the token's signature and the deploy message) or a merge of the base
//! into the branch. Anything else fails the deploy, naming the foreign commits and files, and
//! leaves the pull request to a person. An approval the bot gave an earlier head is withdrawn with
//! a change request, since GitHub counts an approval toward protection whichever commit it names.

use std::fmt;

use anyhow::{Context as _, anyhow};
use gantry_github::models::{Comparison, GitActor, RepoCommit};
use gantry_github::{Approver, Client, RepoName, Workflow};

use crate::envfile;
use crate::journal::{Journal, Stage};
use crate::merge::APPROVAL_NOTE;
use crate::settings::Settings;
use crate::signer::Signer;

/// Foreign commits described one by one (with their files) before the rest are only counted.
const DESCRIBED_COMMITS: usize = 10;

/// The subject line of every deploy commit of this release and env file.
pub fn commit_subject(settings: &Settings) -> String {
    format!("Deploy {} to {}", settings.tag, settings.env_file)
}

/// The whole message of the deploy commit.
pub fn commit_message(settings: &Settings, previous: &str) -> String {
    format!(
        "{}\n\n{}: {previous} → {}\nRelease: {}",
        commit_subject(settings),
        settings.key,
        settings.version,
        settings.source
    )
}

/// What a head holds beyond the deploy.
#[derive(Debug, Default)]
struct Foreign {
    /// `sha "subject" by author (files)`.
    commits: Vec<String>,
    /// Paths, and what is wrong with them.
    files: Vec<String>,
}

impl Foreign {
    fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.files.is_empty()
    }
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.commits.is_empty() {
            parts.push(format!("foreign commits: {}", self.commits.join("; ")));
        }
        if !self.files.is_empty() {
            parts.push(format!("foreign changes: {}", self.files.join("; ")));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Fails unless `head` of pull request `number` holds only this deploy's change; on failure the
/// bot's earlier approval, if any, is withdrawn.
pub async fn check(
    workflow: &Client<Workflow>,
    bot: &Client<Approver>,
    settings: &Settings,
    signer: &Signer,
    number: u64,
    head: &str,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<()> {
    let lz = &settings.landing_zone;
    let foreign = inspect(workflow, settings, signer, head)
        .await
        .with_context(|| {
            format!(
                "failed to compare #{number} ({head}) with {} in {lz}",
                settings.base
            )
        })?;
    if foreign.is_empty() {
        journal.note(
            Stage::Merge,
            format!(
                "#{number} at {head} changes only {} in {}",
                settings.key, settings.env_file
            ),
        );
        return Ok(());
    }
    let withdrawn = withdraw(bot, lz, number, head, &foreign).await?;
    Err(anyhow!(
        "pull request #{number} in {lz} holds changes gantry auto-deploy did not make at {head} ({foreign}); it was not approved{}; a person must review it, or close it and re-run",
        if withdrawn {
            " and the bot's earlier approval was withdrawn"
        } else {
            ""
        }
    ))
}

/// Whether `head` is ahead of `base` (a commit of the base branch) and holds only this deploy's
/// change: a deploy branch an earlier run brought up to date, safe to reuse.
pub async fn holds_only_the_change(
    client: &Client<Workflow>,
    settings: &Settings,
    signer: &Signer,
    base: &str,
    head: &str,
) -> anyhow::Result<bool> {
    let comparison = client.compare(&settings.landing_zone, base, head).await?;
    Ok(comparison.status == "ahead"
        && inspect_comparison(client, settings, signer, &comparison, head)
            .await?
            .is_empty())
}

async fn inspect(
    client: &Client<Workflow>,
    settings: &Settings,
    signer: &Signer,
    head: &str,
) -> anyhow::Result<Foreign> {
    let comparison = client
        .compare(&settings.landing_zone, &settings.base, head)
        .await?;
    inspect_comparison(client, settings, signer, &comparison, head).await
}

async fn inspect_comparison(
    client: &Client<Workflow>,
    settings: &Settings,
    signer: &Signer,
    comparison: &Comparison,
    head: &str,
) -> anyhow::Result<Foreign> {
    let lz = &settings.landing_zone;
    let mut foreign = Foreign::default();
    for file in comparison
        .files
        .iter()
        .filter(|file| file.filename != settings.env_file)
    {
        foreign.files.push(match &file.previous_filename {
            Some(previous) => format!("{} ({} from {previous})", file.filename, file.status),
            None => format!("{} ({})", file.filename, file.status),
        });
    }
    if !env_file_changes_only_the_version(client, settings, comparison, head).await? {
        foreign.files.push(format!(
            "{} (differs from its base by more than the {} line)",
            settings.env_file, settings.key
        ));
    }
    let subject = commit_subject(settings);
    let listed: Vec<&str> = comparison.commits.iter().map(|c| c.sha.as_str()).collect();
    let strangers: Vec<&RepoCommit> = comparison
        .commits
        .iter()
        .filter(|commit| {
            let own = commit.parents.len() == 1
                && signer.signed(commit)
                && commit.commit.message.lines().next() == Some(subject.as_str());
            let base_update = commit.parents.len() > 1
                && commit
                    .parents
                    .iter()
                    .any(|parent| !listed.contains(&parent.sha.as_str()));
            !own && !base_update
        })
        .collect();
    for commit in strangers.iter().take(DESCRIBED_COMMITS) {
        let files = client.commit(lz, &commit.sha).await?.files;
        let names: Vec<&str> = files.iter().map(|file| file.filename.as_str()).collect();
        foreign.commits.push(format!(
            "{} \"{}\" by {} ({})",
            &commit.sha[..commit.sha.len().min(12)],
            commit.commit.message.lines().next().unwrap_or_default(),
            commit
                .commit
                .author
                .as_ref()
                .map_or_else(|| "an unknown author".to_owned(), GitActor::to_string),
            if names.is_empty() {
                "no files".to_owned()
            } else {
                names.join(", ")
            }
        ));
    }
    if strangers.len() > DESCRIBED_COMMITS {
        foreign
            .commits
            .push(format!("and {} more", strangers.len() - DESCRIBED_COMMITS));
    }
    let unlisted = comparison.total_commits.saturating_sub(listed.len() as u64);
    if unlisted > 0 {
        foreign
            .commits
            .push(format!("{unlisted} more commits than one comparison lists"));
    }
    Ok(foreign)
}

/// Whether the env file at `head` is the one at the merge base with only the version set.
async fn env_file_changes_only_the_version(
    client: &Client<Workflow>,
    settings: &Settings,
    comparison: &Comparison,
    head: &str,
) -> anyhow::Result<bool> {
    let (lz, path) = (&settings.landing_zone, &settings.env_file);
    let read = |rev: String| async move {
        let file = client.file(lz, path, &rev).await?;
        anyhow::Ok(file.and_then(|file| file.bytes().ok()))
    };
    let (Some(before), Some(after)) = (
        read(comparison.merge_base_commit.sha.clone()).await?,
        read(head.to_owned()).await?,
    ) else {
        return Ok(false);
    };
    Ok(envfile::set(&before, &settings.key, &settings.version)
        .is_ok_and(|(_, expected)| expected == after))
}

/// Replaces the bot's approval with a change request when its latest verdict on the pull request
/// is an approval; `true` when it did.
async fn withdraw(
    bot: &Client<Approver>,
    repo: &RepoName,
    number: u64,
    head: &str,
    foreign: &Foreign,
) -> anyhow::Result<bool> {
    let reviews = bot
        .reviews(repo, number)
        .await
        .with_context(|| format!("failed to read the reviews of #{number} in {repo}"))?;
    let Some(bot_login) = reviews
        .iter()
        .find(|review| {
            review
                .body
                .as_deref()
                .is_some_and(|body| body.contains(APPROVAL_NOTE))
        })
        .and_then(|review| review.user.as_ref())
        .map(|user| user.login.as_str())
    else {
        return Ok(false);
    };
    let latest = reviews.iter().rfind(|review| {
        review.user.as_ref().map(|user| user.login.as_str()) == Some(bot_login)
            && matches!(review.state.as_str(), "APPROVED" | "CHANGES_REQUESTED")
    });
    if latest.is_none_or(|review| review.state != "APPROVED") {
        return Ok(false);
    }
    bot.request_changes(
        repo,
        number,
        head,
        &format!("gantry auto-deploy withdraws its approval: the head {head} holds changes it did not make ({foreign})."),
    )
    .await
    .with_context(|| {
        format!("failed to withdraw the bot's approval of pull request #{number} in {repo}")
    })?;
    Ok(true)
}

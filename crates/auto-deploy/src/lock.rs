//! The env-file lock, kept in the landing-zone repository itself so that it needs no other
//! service and a re-run finds it.
//!
//! Protocol. The lock of env file `F` is the file `.gantry-lock.json` on branch
//! `gantry-lock/<F sanitised>`, holding `{owner, run, expires}` (unix seconds); the commit that
//! writes it says the same in its message.
//! - **Take**: if the branch is missing, create it at the base head (a 422 "already exists" from a
//!   concurrent creator is fine). Then create the file with the contents API *without* a blob
//!   SHA: GitHub creates a file atomically, so of two contenders exactly one succeeds and the
//!   other gets a 422 and reads the winner's file.
//! - **Held by someone else**: wait (1 s → 5 s backoff) until it is released or expires, within
//!   the deploy's deadline.
//! - **Held by the same release** (a re-run of a failed or killed run) or **expired**: take it
//!   over by rewriting the file *with* the old blob SHA, so a concurrent takeover loses with 409.
//! - **Release**: delete the branch, only if it still points at the commit this run wrote.
//!
//! Landing-zone workflows should ignore pushes to `gantry-lock/**`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow};
use gantry_github::{Client, GithubError, RepoName, Workflow};
use serde_json::json;

use crate::journal::{Journal, Stage};
use crate::names;

/// The file that holds the lock on the lock branch.
pub const LOCK_FILE: &str = ".gantry-lock.json";

const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// A lock this run holds.
#[derive(Debug)]
pub struct Lock {
    pub branch: String,
    commit: String,
}

/// Who is deploying: the same release in every run attempt.
pub struct Owner<'a> {
    pub id: &'a str,
    pub run: Option<&'a str>,
    pub ttl: Duration,
}

/// What the lock file says.
struct Held {
    owner: String,
    expires: u64,
    blob: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Takes the lock of `env_file`, waiting for another holder within `deadline`.
pub async fn acquire(
    client: &Client<Workflow>,
    repo: &RepoName,
    base: &str,
    env_file: &str,
    owner: &Owner<'_>,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Lock> {
    let branch = names::lock_branch(env_file);
    let mut wait = FIRST_WAIT;
    let mut last_seen = String::new();
    loop {
        let held = read(client, repo, &branch).await?;
        let blob = match held {
            None => {
                ensure_branch(client, repo, base, &branch).await?;
                None
            }
            Some(held) if held.owner == owner.id => Some(held.blob),
            Some(held) if held.expires <= now() => {
                journal.warn(
                    Stage::Lock,
                    format!(
                        "taking over the expired lock of {env_file} held by {}",
                        held.owner
                    ),
                );
                Some(held.blob)
            }
            Some(held) => {
                if held.owner != last_seen {
                    journal.note(
                        Stage::Lock,
                        format!(
                            "{env_file} is locked by {} (expires in {}s); waiting",
                            held.owner,
                            held.expires.saturating_sub(now())
                        ),
                    );
                    last_seen.clone_from(&held.owner);
                }
                if Instant::now() + wait >= deadline {
                    return Err(anyhow!(
                        "timed out waiting for the lock of {env_file} held by {} (branch {branch} in {repo})",
                        held.owner
                    ));
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 3 / 2).min(LONGEST_WAIT);
                continue;
            }
        };
        match write(client, repo, &branch, owner, blob.as_deref()).await {
            Ok(commit) => {
                journal.note(
                    Stage::Lock,
                    format!("locked {env_file} (branch {branch} in {repo})"),
                );
                return Ok(Lock { branch, commit });
            }
            // Another contender won the create or the takeover, or the branch was just deleted.
            Err(error) if matches!(error.status(), Some(404 | 409 | 422)) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("failed to write the lock of {env_file} in {repo}")));
            }
        }
    }
}

/// Releases the lock if this run still holds it; `false` when someone else took it over.
pub async fn release(
    client: &Client<Workflow>,
    repo: &RepoName,
    lock: &Lock,
) -> Result<bool, GithubError> {
    let name = format!("heads/{}", lock.branch);
    match client.git_ref(repo, &name).await? {
        Some(found) if found.object.sha == lock.commit => client.delete_ref(repo, &name).await,
        _ => Ok(false),
    }
}

async fn read(
    client: &Client<Workflow>,
    repo: &RepoName,
    branch: &str,
) -> anyhow::Result<Option<Held>> {
    let Some(file) = client
        .file(repo, LOCK_FILE, branch)
        .await
        .with_context(|| format!("failed to read the lock {branch} in {repo}"))?
    else {
        return Ok(None);
    };
    let value: serde_json::Value = file
        .bytes()
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    Ok(Some(Held {
        owner: value["owner"]
            .as_str()
            .unwrap_or("(unreadable lock)")
            .to_owned(),
        // An unreadable lock counts as expired rather than blocking every deploy forever.
        expires: value["expires"].as_u64().unwrap_or(0),
        blob: file.sha,
    }))
}

async fn ensure_branch(
    client: &Client<Workflow>,
    repo: &RepoName,
    base: &str,
    branch: &str,
) -> anyhow::Result<()> {
    if client
        .git_ref(repo, &format!("heads/{branch}"))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let base_sha = client
        .git_ref(repo, &format!("heads/{base}"))
        .await?
        .ok_or_else(|| anyhow!("base branch {base} does not exist in {repo}"))?
        .object
        .sha;
    match client
        .create_ref(repo, &format!("heads/{branch}"), &base_sha)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.status() == Some(422) => Ok(()),
        Err(error) => Err(anyhow::Error::new(error).context(format!(
            "failed to create the lock branch {branch} in {repo}"
        ))),
    }
}

async fn write(
    client: &Client<Workflow>,
    repo: &RepoName,
    branch: &str,
    owner: &Owner<'_>,
    blob: Option<&str>,
) -> Result<String, GithubError> {
    let expires = now() + owner.ttl.as_secs();
    let content = json!({ "owner": owner.id, "run": owner.run, "expires": expires });
    let message = format!(
        "gantry-lock: held by {} until {expires}{}",
        owner.id,
        owner.run.map(|run| format!(" ({run})")).unwrap_or_default()
    );
    let bytes = serde_json::to_vec_pretty(&content).expect("lock serialises");
    let written = client
        .put_file(repo, LOCK_FILE, branch, &bytes, &message, blob)
        .await?;
    Ok(written.commit.sha)
}

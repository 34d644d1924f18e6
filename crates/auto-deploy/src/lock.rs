//! The env-file lock, kept in the landing-zone repository itself so that it needs no other
//! service and a re-run finds it.
//!
//! Protocol. The lock of env file `F` is the file `.gantry-lock.json` on branch
//! `<lock-branch-prefix><F sanitised>` (default `gantry-lock/`), holding `{owner, run_id, run_attempt, holder, run, expires}`
//! (unix seconds); the commit that writes it says the same in its message.
//!
//! Owner. The lock belongs to one *run*, not to a release: two runs of the same release (a
//! workflow triggered twice) must not both deploy at once. A run is its `GITHUB_RUN_ID` and
//! `GITHUB_RUN_ATTEMPT`; `holder` is a random id of this process, which tells apart two jobs of
//! the same attempt (a matrix) and lets a retried write recognise its own lock.
//! - **Take**: if the branch is missing, create it at the base head (a 422 "already exists" from a
//!   concurrent creator is fine). Then create the file with the contents API *without* a blob
//!   SHA: GitHub creates a file atomically, so of two contenders exactly one succeeds and the
//!   other gets a 422 and reads the winner's file.
//! - **Held by someone else**: wait (1 s → 5 s backoff) until it is released or expires, within
//!   the deploy's deadline.
//! - **Take over** by rewriting the file *with* the old blob SHA (a concurrent takeover loses with
//!   409) when the lock is
//!   - this process's own (a write whose answer was lost, then retried),
//!   - held by an *earlier attempt of the same run*: GitHub starts a re-run attempt only after
//!     every job of the previous attempt has finished, so that holder is gone (a killed run's
//!     lock is taken over at once by its re-run, as it always was),
//!   - or expired (`expires` is the holder's whole deadline plus a margin).
//! - **Held by another run** (including another run of the same release, a later attempt of this
//!   run, or another job of this attempt): wait, and time out naming the holder. The second of
//!   two runs of one release then finds the work done (the pull request merged) and finishes it
//!   as a re-run would. Outside Actions (no run id) only expiry frees a lock left by a killed
//!   process.
//! - **Release**: delete the branch, only if it still points at the commit this run wrote.
//!
//! Landing-zone workflows should ignore pushes to the lock prefix (`gantry-lock/**` by default).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow};
use gantry_github::models::WrittenCommit;
use gantry_github::{Client, GithubError, RepoName, Workflow};
use serde_json::json;

use crate::journal::{Journal, Stage};
use crate::names;
use crate::settings::{Run, Settings};
use crate::signer::Signer;

/// The file that holds the lock on the lock branch.
pub const LOCK_FILE: &str = ".gantry-lock.json";

const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// A lock this run holds.
#[derive(Debug)]
pub struct Lock {
    pub branch: String,
    commit: String,
    /// How GitHub signs this token's commits, as the lock commit shows.
    pub signer: Signer,
}

/// Who is deploying: one process of one run, deploying one release.
pub struct Owner<'a> {
    /// The release, `owner/name@tag`, for people reading the lock.
    pub release: &'a str,
    pub run: Option<Run>,
    /// A random id of this process.
    pub holder: String,
    /// Link to the run, for people.
    pub url: Option<&'a str>,
    pub ttl: Duration,
}

impl Owner<'_> {
    /// A fresh holder id for this process: time and process id, hashed.
    pub fn new_holder() -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        names::short_hash(&format!("{nanos}:{}", std::process::id()))
    }

    fn describe(&self) -> String {
        describe(self.release, self.run.as_ref())
    }
}

fn describe(release: &str, run: Option<&Run>) -> String {
    match run {
        Some(run) => format!("{release} (run {} attempt {})", run.id, run.attempt),
        None => format!("{release} (outside a workflow run)"),
    }
}

/// What the lock file says.
struct Held {
    owner: String,
    run: Option<Run>,
    holder: String,
    expires: u64,
    blob: String,
}

impl Held {
    fn describe(&self) -> String {
        describe(&self.owner, self.run.as_ref())
    }

    /// Why `owner` may take this lock over now, if it may.
    fn yields_to(&self, owner: &Owner<'_>) -> Option<Takeover> {
        if self.holder == owner.holder {
            return Some(Takeover::Own);
        }
        if let (Some(held), Some(ours)) = (&self.run, &owner.run)
            && held.id == ours.id
            && held.attempt < ours.attempt
        {
            return Some(Takeover::EarlierAttempt);
        }
        (self.expires <= now()).then_some(Takeover::Expired)
    }
}

/// Why a held lock may be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takeover {
    Own,
    EarlierAttempt,
    Expired,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Takes the lock of the settings' env file, waiting for another holder within `deadline`.
pub async fn acquire(
    client: &Client<Workflow>,
    settings: &Settings,
    owner: &Owner<'_>,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Lock> {
    let (repo, base, env_file) = (
        &settings.landing_zone,
        settings.base.as_str(),
        settings.env_file.as_str(),
    );
    let branch = settings.branches.lock_branch(env_file);
    let mut wait = FIRST_WAIT;
    let mut last_seen = String::new();
    loop {
        let held = read(client, repo, &branch).await?;
        let blob = match held {
            None => {
                ensure_branch(client, repo, base, &branch).await?;
                None
            }
            Some(held) => match held.yields_to(owner) {
                Some(Takeover::Own) => Some(held.blob),
                Some(why) => {
                    let why = if why == Takeover::Expired {
                        "expired"
                    } else {
                        "an earlier attempt of this run"
                    };
                    journal.warn(
                        Stage::Lock,
                        format!(
                            "taking over the lock of {env_file} held by {} ({why})",
                            held.describe()
                        ),
                    );
                    Some(held.blob)
                }
                None => {
                    let holder = held.describe();
                    if holder != last_seen {
                        journal.note(
                            Stage::Lock,
                            format!(
                                "{env_file} is locked by {holder} (expires in {}s); waiting",
                                held.expires.saturating_sub(now())
                            ),
                        );
                        last_seen = holder;
                    }
                    if Instant::now() + wait >= deadline {
                        return Err(anyhow!(
                            "timed out waiting for the lock of {env_file} held by {} (branch {branch} in {repo}); it is freed when that run ends or at its expiry",
                            held.describe()
                        ));
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 3 / 2).min(LONGEST_WAIT);
                    continue;
                }
            },
        };
        match write(client, repo, &branch, owner, blob.as_deref()).await {
            Ok(written) => {
                journal.note(
                    Stage::Lock,
                    format!("locked {env_file} (branch {branch} in {repo})"),
                );
                return Ok(Lock {
                    branch,
                    commit: written.sha.clone(),
                    signer: Signer::of(&written),
                });
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
    let run = value["run_id"].as_str().map(|id| Run {
        id: id.to_owned(),
        attempt: value["run_attempt"].as_u64().unwrap_or(1),
    });
    Ok(Some(Held {
        owner: value["owner"]
            .as_str()
            .unwrap_or("(unreadable lock)")
            .to_owned(),
        run,
        holder: value["holder"].as_str().unwrap_or_default().to_owned(),
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
) -> Result<WrittenCommit, GithubError> {
    let expires = now() + owner.ttl.as_secs();
    let content = json!({
        "owner": owner.release,
        "run_id": owner.run.as_ref().map(|run| &run.id),
        "run_attempt": owner.run.as_ref().map(|run| run.attempt),
        "holder": owner.holder,
        "run": owner.url,
        "expires": expires,
    });
    let message = format!(
        "gantry-lock: held by {} until {expires}{}",
        owner.describe(),
        owner.url.map(|url| format!(" ({url})")).unwrap_or_default()
    );
    let bytes = serde_json::to_vec_pretty(&content).expect("lock serialises");
    let written = client
        .put_file(repo, LOCK_FILE, branch, &bytes, &message, blob)
        .await?;
    Ok(written.commit)
}

//! The deploy as one resumable state machine. Every step first looks at the repositories for the
//! work an earlier run did (a merged or open pull request of this release's deploy branch, the
//! branch itself, mirrors on the release commit, a promoted release) and continues from there;
//! nothing is kept anywhere else.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use gantry_github::models::{PullRequest, Release, ReleaseFields};
use gantry_github::{Approver, Client, Workflow};
use gantry_runner::cancel::Cancellation;
use serde_json::json;

use crate::checks::{self, Check, Verdict};
use crate::envfile;
use crate::guard;
use crate::journal::{Journal, Stage};
use crate::lock::{self, Owner};
use crate::merge::{self, Merge, Target};
use crate::mirror::Mirror;
use crate::record;
use crate::release;
use crate::resume;
use crate::settings::Settings;
use crate::signer::Signer;
use crate::supersede;
use crate::verify;
use crate::version;

/// Polls of unchanged checks are free (304), so they are frequent: the merge follows the last
/// check within about a second.
const FIRST_POLL: Duration = Duration::from_millis(500);
const LONGEST_POLL: Duration = Duration::from_secs(1);
/// Extra life of a lock beyond the deploy's own deadline.
const LOCK_MARGIN: Duration = Duration::from_secs(300);
const PR_MARKER: &str = "<!-- gantry-deploy ";

/// The two identities.
pub struct Clients {
    pub workflow: Client<Workflow>,
    pub bot: Option<Client<Approver>>,
}

/// What happened, for the outputs and the summary (filled in as the flow goes).
#[derive(Debug, Default)]
pub struct Outcome {
    pub result: &'static str,
    pub release_url: Option<String>,
    pub pr: Option<(u64, String)>,
    pub merge_sha: Option<String>,
    pub previous: Option<String>,
    pub deployed: Option<String>,
    pub verified: Option<bool>,
    pub checks: Vec<Check>,
    pub promoted: bool,
    pub branch_deleted: bool,
    /// The GitHub deployment recording this deploy, once started.
    pub deployment: Option<record::Recorded>,
}

/// A failed step.
#[derive(Debug)]
pub struct Failure {
    pub stage: Stage,
    pub error: anyhow::Error,
}

fn at(stage: Stage) -> impl FnOnce(anyhow::Error) -> Failure {
    move |error| Failure { stage, error }
}

/// Runs the whole deploy; the lock is released on every path once taken, a cancellation
/// included: the work in flight is dropped at its next await point (every step resumes from the
/// repositories' state on a re-run), then the lock is released within the runner's window.
pub async fn deploy(
    clients: &Clients,
    settings: &Settings,
    cancellation: &Cancellation,
    journal: &mut Journal<'_, '_>,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    let deadline = Instant::now() + settings.timeout;
    let (release, release_sha) = cancellation
        .unless_cancelled(release::resolve(&clients.workflow, settings, journal))
        .await
        .ok_or_else(|| cancelled_before_the_lock(cancellation))
        .and_then(|resolved| resolved.map_err(at(Stage::Release)))?;
    outcome.release_url = Some(release.html_url.clone());
    note_env_file(settings, journal);
    let release_name = format!("{}@{}", settings.source, settings.tag);
    let owner = Owner {
        release: &release_name,
        run: settings.run.clone(),
        holder: Owner::new_holder(),
        url: settings.run_url.as_deref(),
        ttl: settings.timeout + LOCK_MARGIN,
    };
    let held = cancellation
        .unless_cancelled(lock::acquire(
            &clients.workflow,
            settings,
            &owner,
            deadline,
            journal,
        ))
        .await
        .ok_or_else(|| cancelled_before_the_lock(cancellation))
        .and_then(|held| held.map_err(at(Stage::Lock)))?;
    let result = cancellation
        .unless_cancelled(locked(
            clients,
            settings,
            &release,
            &release_sha,
            &held.signer,
            deadline,
            journal,
            outcome,
        ))
        .await
        .unwrap_or_else(|| {
            let stage = journal
                .timeline
                .last()
                .map_or(Stage::Lock, |(_, stage, _)| *stage);
            Err(Failure {
                stage,
                error: cancellation.error(
                    "stopped; the pull request, branches and checks made so far are kept for a re-run to resume",
                ),
            })
        });
    if !cancellation.is_cancelled() {
        record_end(clients, settings, &result, journal, outcome).await;
    }
    let released = cancellation
        .finish_within_window(lock::release(
            &clients.workflow,
            &settings.landing_zone,
            &held,
        ))
        .await;
    match released {
        None => journal.warn(
            Stage::Cleanup,
            format!(
                "the lock {} could not be released before the cancellation window closed; it expires on its own",
                held.branch
            ),
        ),
        Some(Ok(true)) => journal.note(Stage::Cleanup, format!("released the lock {}", held.branch)),
        Some(Ok(false)) => journal.warn(
            Stage::Cleanup,
            format!(
                "the lock {} was taken over by another deploy; left it alone",
                held.branch
            ),
        ),
        Some(Err(error)) if result.is_ok() => {
            return Err(Failure {
                stage: Stage::Cleanup,
                error: anyhow::Error::new(error).context("failed to release the lock"),
            });
        }
        Some(Err(error)) => journal.warn(
            Stage::Cleanup,
            format!("failed to release the lock: {error}"),
        ),
    }
    result
}

/// Records how the deploy ended on its GitHub deployment, if one was started.
async fn record_end(
    clients: &Clients,
    settings: &Settings,
    result: &Result<(), Failure>,
    journal: &mut Journal<'_, '_>,
    outcome: &Outcome,
) {
    let Some(recorded) = &outcome.deployment else {
        return;
    };
    let reason;
    let end = match result {
        Ok(()) if outcome.result == "deployed" => record::End::Success,
        Ok(()) => {
            reason = match &outcome.pr {
                Some((number, _)) => {
                    format!("waiting for people to merge #{number} ({})", outcome.result)
                }
                None => outcome.result.to_owned(),
            };
            record::End::Queued(&reason)
        }
        Err(failure) => {
            reason = format!("failed at {}: {:#}", failure.stage.label(), failure.error);
            record::End::Failure(&reason)
        }
    };
    record::finish(&clients.workflow, settings, recorded, end, journal).await;
}

/// Notes the environment file the deploy writes, and which kind of environment it is.
fn note_env_file(settings: &Settings, journal: &mut Journal<'_, '_>) {
    let kind = if settings.skip_merge {
        "production: skip-merge"
    } else {
        "pre-production"
    };
    journal.note(Stage::EnvFile, format!("{} ({kind})", settings.env_file));
}

/// A cancellation before the lock was taken: nothing was written.
fn cancelled_before_the_lock(cancellation: &Cancellation) -> Failure {
    Failure {
        stage: Stage::Lock,
        error: cancellation.error("stopped before the lock was taken; nothing was changed"),
    }
}

/// Steps 4 to 10, under the lock.
#[expect(clippy::too_many_arguments, reason = "the step's whole state, named")]
async fn locked(
    clients: &Clients,
    settings: &Settings,
    release: &Release,
    release_sha: &str,
    signer: &Signer,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    let workflow = &clients.workflow;
    let lz = &settings.landing_zone;
    let branch = settings
        .branches
        .deploy_branch(&settings.env_file, &settings.tag);
    let ours = workflow
        .pulls(lz, Some(&branch), &settings.base, "all")
        .await
        .with_context(|| format!("failed to list the pull requests of {branch} in {lz}"))
        .map_err(at(Stage::Edit))?;
    // Step 4: the edit.
    let edit = edit(workflow, settings, journal)
        .await
        .map_err(at(Stage::Edit))?;
    outcome.previous = Some(edit.previous.clone());
    let Some(edited) = edit.edited.clone() else {
        outcome.deployed = Some(settings.version.clone());
        // Already at the version: merged by an earlier run of this release (continue with
        // verification and clean-up), or by something else (nothing to do). With skip-merge no
        // run merges, so a merged pull request was people's doing and nothing is left to resume.
        let merged = ours
            .iter()
            .find(|pull| pull.is_merged())
            .filter(|_| !settings.skip_merge);
        let Some(merged) = merged else {
            journal.note(Stage::Edit, "nothing to deploy");
            outcome.result = "unchanged";
            return Ok(());
        };
        journal.note(
            Stage::Merge,
            format!(
                "#{} was merged by an earlier run: {}",
                merged.number, merged.html_url
            ),
        );
        outcome.pr = Some((merged.number, merged.html_url.clone()));
        outcome.merge_sha.clone_from(&merged.merge_commit_sha);
        if let Some(previous) =
            marker(merged).and_then(|m| m["previous"].as_str().map(str::to_owned))
        {
            outcome.previous = Some(previous);
        }
        outcome.deployment = record::start(workflow, settings, release_sha, journal).await;
        outcome.checks = resume::mirror_merged(workflow, settings, release_sha, merged, journal)
            .await
            .map_err(at(Stage::Checks))?;
        return after_merge(
            clients, settings, release, &branch, deadline, journal, outcome,
        )
        .await;
    };

    if let Some(closed) = closed_by_others(&ours) {
        journal.warn(
            Stage::PullRequest,
            format!(
                "#{} ({}) deploying {} to {} was closed without a merge, by a person or as superseded by a newer deploy; not opening it again. To deploy {} anyway, reopen #{} (restoring its branch if it was deleted) and run the deploy again",
                closed.number,
                closed.html_url,
                settings.tag,
                settings.env_file,
                settings.version,
                closed.number
            ),
        );
        outcome.pr = Some((closed.number, closed.html_url.clone()));
        outcome.result = "closed";
        return Ok(());
    }
    outcome.deployed = Some(settings.version.clone());
    outcome.deployment = record::start(workflow, settings, release_sha, journal).await;

    // Step 5: branch, commit, pull request, superseded ones closed.
    let pull = open_pull(
        workflow, settings, &branch, &edit, &edited, &ours, signer, journal,
    )
    .await
    .map_err(at(Stage::PullRequest))?;
    outcome.pr = Some((pull.number, pull.html_url.clone()));
    supersede::close_older(workflow, settings, &branch, &pull, journal)
        .await
        .map_err(at(Stage::PullRequest))?;

    // Steps 6 to 8: mirror and wait, then approve and merge the validated head.
    if !validate_and_merge(
        clients,
        settings,
        release_sha,
        signer,
        &pull,
        deadline,
        journal,
        outcome,
    )
    .await?
    {
        return Ok(());
    }
    after_merge(
        clients, settings, release, &branch, deadline, journal, outcome,
    )
    .await
}

/// The pull request of this deploy branch that someone closed without merging, unless another
/// one is open: auto-deploy never closes its own, so a re-run for the same version must not undo
/// that decision by opening a new one.
fn closed_by_others(ours: &[PullRequest]) -> Option<&PullRequest> {
    if ours.iter().any(|pull| pull.state == "open") {
        return None;
    }
    ours.iter()
        .find(|pull| pull.state == "closed" && !pull.is_merged())
}

/// Steps 6 to 8: check that the head holds only this deploy's change, mirror and wait for its
/// checks, then approve and merge exactly that head; a head that moved is checked and validated
/// again. `false` when skip-merge stops before the merge.
#[expect(clippy::too_many_arguments, reason = "the step's whole state, named")]
async fn validate_and_merge(
    clients: &Clients,
    settings: &Settings,
    release_sha: &str,
    signer: &Signer,
    pull: &PullRequest,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
    outcome: &mut Outcome,
) -> Result<bool, Failure> {
    let workflow = &clients.workflow;
    let lz = &settings.landing_zone;
    let mut mirror = Mirror::load(workflow, &settings.source, release_sha, lz)
        .await
        .map_err(at(Stage::Checks))?;
    let approver = clients.bot.as_ref().filter(|_| !settings.skip_merge);
    let mut sha = pull.head.sha.clone();
    loop {
        if let Some(bot) = approver {
            guard::check(workflow, bot, settings, signer, pull.number, &sha, journal)
                .await
                .map_err(at(Stage::Merge))?;
        }
        let checks = wait(
            workflow,
            settings,
            &sha,
            pull,
            &mut mirror,
            deadline,
            journal,
            outcome,
        )
        .await
        .map_err(at(Stage::Checks))?;
        let Some(bot) = approver else {
            mirror
                .sync(workflow, &checks, &pull.html_url)
                .await
                .map_err(at(Stage::Checks))?;
            journal.note(
                Stage::Merge,
                format!(
                    "skip-merge: leaving #{} open for people to merge",
                    pull.number
                ),
            );
            outcome.result = "pr-open";
            return Ok(false);
        };
        let target = Target {
            repo: lz,
            base: &settings.base,
            number: pull.number,
            sha: &sha,
            method: &settings.merge_method,
        };
        let merged = merge::approve_and_merge(bot, workflow, &target, deadline, journal)
            .await
            .map_err(at(Stage::Merge))?;
        match merged {
            Merge::Merged(merge_sha) => {
                journal.note(
                    Stage::Merge,
                    format!("merged #{} at {sha} as {merge_sha}", pull.number),
                );
                outcome.merge_sha = Some(merge_sha);
                // The mirrors catch up after the merge, so they never delay it.
                mirror
                    .sync(workflow, &checks, &pull.html_url)
                    .await
                    .map_err(at(Stage::Checks))?;
                return Ok(true);
            }
            Merge::Updated(new) => sha = new,
            Merge::HeadMoved(new) => {
                journal.warn(
                    Stage::Merge,
                    format!("the head of #{} moved from {sha} to {new}; validating the new head before any merge", pull.number),
                );
                sha = new;
            }
        }
    }
}

/// The env file as it is on the base branch and as this deploy wants it.
struct Edit {
    base_sha: String,
    blob: String,
    previous: String,
    /// `None` when the file already has the version.
    edited: Option<Vec<u8>>,
}

async fn edit(
    client: &Client<Workflow>,
    settings: &Settings,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Edit> {
    let (lz, base, path) = (&settings.landing_zone, &settings.base, &settings.env_file);
    let base_sha = client
        .git_ref(lz, &format!("heads/{base}"))
        .await?
        .ok_or_else(|| anyhow!("base branch {base} does not exist in {lz}"))?
        .object
        .sha;
    let file = client
        .file(lz, path, &base_sha)
        .await
        .with_context(|| format!("failed to read {path} from {lz}"))?
        .ok_or_else(|| anyhow!("{path} does not exist on {base} in {lz}"))?;
    let bytes = file
        .bytes()
        .map_err(|error| anyhow!("{path} in {lz} came back as invalid base64: {error}"))?;
    let (assignment, edited) = envfile::set(&bytes, &settings.key, &settings.version)
        .with_context(|| format!("cannot update {path} on {base} in {lz}"))?;
    let previous = assignment.value;
    if previous == settings.version {
        journal.note(
            Stage::Edit,
            format!("{path} already sets {}={previous}", settings.key),
        );
        return Ok(Edit {
            base_sha,
            blob: file.sha,
            previous,
            edited: None,
        });
    }
    if !settings.allow_downgrade {
        match version::compare(&settings.version, &previous) {
            Some(Ordering::Less) => {
                return Err(anyhow!(
                    "refusing to downgrade {path} in {lz} from {previous} to {}; set allow-downgrade: true to allow it",
                    settings.version
                ));
            }
            None => {
                return Err(anyhow!(
                    "cannot tell whether {} is newer than {previous} in {path} (neither SemVer nor PEP 440); set allow-downgrade: true to deploy it anyway",
                    settings.version
                ));
            }
            Some(_) => {}
        }
    }
    journal.note(
        Stage::Edit,
        format!(
            "{path} line {}: {}={previous} → {}",
            assignment.line, settings.key, settings.version
        ),
    );
    Ok(Edit {
        base_sha,
        blob: file.sha,
        previous,
        edited: Some(edited),
    })
}

/// Step 5: the deploy branch holds exactly one commit on the current base with the edit, and an
/// open pull request shows it; both are reused when an earlier run made them.
#[expect(clippy::too_many_arguments, reason = "the step's whole state, named")]
async fn open_pull(
    client: &Client<Workflow>,
    settings: &Settings,
    branch: &str,
    edit: &Edit,
    edited: &[u8],
    ours: &[PullRequest],
    signer: &Signer,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<PullRequest> {
    let (lz, path) = (&settings.landing_zone, &settings.env_file);
    let (base_sha, blob, previous) = (
        edit.base_sha.as_str(),
        edit.blob.as_str(),
        edit.previous.as_str(),
    );
    let name = format!("heads/{branch}");
    let fresh = match client.git_ref(lz, &name).await? {
        None => {
            client
                .create_ref(lz, &name, base_sha)
                .await
                .with_context(|| format!("failed to create branch {branch} in {lz}"))?;
            true
        }
        Some(found) => {
            let head = found.object.sha;
            if holds_the_change(client, settings, signer, base_sha, &head, edited).await? {
                journal.note(
                    Stage::PullRequest,
                    format!("branch {branch} already holds the change"),
                );
                false
            } else {
                if head != base_sha {
                    client
                        .update_ref(lz, &name, base_sha, true)
                        .await
                        .with_context(|| {
                            format!("failed to reset branch {branch} in {lz} to {base_sha}")
                        })?;
                }
                true
            }
        }
    };
    if fresh {
        let message = guard::commit_message(settings, previous);
        match client
            .put_file(lz, path, branch, edited, &message, Some(blob))
            .await
        {
            Ok(_) => {}
            // A retried commit whose first attempt was applied finds its own blob: done.
            Err(error)
                if error.status() == Some(409)
                    && client
                        .file(lz, path, branch)
                        .await?
                        .and_then(|file| file.bytes().ok())
                        .as_deref()
                        == Some(edited) => {}
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("failed to commit {path} to {branch} in {lz}")));
            }
        }
        journal.note(
            Stage::PullRequest,
            format!("committed the change to {branch}"),
        );
    }
    if let Some(open) = ours.iter().find(|pull| pull.state == "open") {
        journal.note(
            Stage::PullRequest,
            format!("reusing #{}: {}", open.number, open.html_url),
        );
        return Ok(client.pull(lz, open.number).await?);
    }
    let title = format!("Deploy {} {} to {path}", settings.source, settings.tag);
    let data = json!({"env_file": path, "tag": settings.tag, "version": settings.version, "previous": previous});
    let body = format!(
        "Sets `{}` in `{path}` from `{previous}` to `{}` for release [{tag}]({server}/{source}/releases/tag/{tag}).\n\nOpened by gantry auto-deploy{run}.\n\n{PR_MARKER}{data} -->",
        settings.key,
        settings.version,
        tag = settings.tag,
        server = settings.server_url,
        source = settings.source,
        run = settings
            .run_url
            .as_deref()
            .map(|url| format!(" ([run]({url}))"))
            .unwrap_or_default(),
    );
    let pull = client
        .create_pull(lz, branch, &settings.base, &title, &body)
        .await
        .with_context(|| format!("failed to open the pull request from {branch} in {lz}"))?;
    journal.note(
        Stage::PullRequest,
        format!("opened #{}: {}", pull.number, pull.html_url),
    );
    Ok(pull)
}

/// Whether the deploy branch at `head` holds the change on the current base: one commit on it,
/// or a branch an earlier run brought up to date by merging the base in, holding nothing else.
async fn holds_the_change(
    client: &Client<Workflow>,
    settings: &Settings,
    signer: &Signer,
    base_sha: &str,
    head: &str,
    edited: &[u8],
) -> anyhow::Result<bool> {
    let lz = &settings.landing_zone;
    let content = client.file(lz, &settings.env_file, head).await?;
    if content.and_then(|file| file.bytes().ok()).as_deref() != Some(edited) {
        return Ok(false);
    }
    let parent_is_base = client
        .git_commit(lz, head)
        .await?
        .parents
        .first()
        .is_some_and(|parent| parent.sha == base_sha);
    Ok(parent_is_base
        || guard::holds_only_the_change(client, settings, signer, base_sha, head).await?)
}

/// The data an earlier run wrote into the pull request body.
fn marker(pull: &PullRequest) -> Option<serde_json::Value> {
    let body = pull.body.as_deref()?;
    let line = body
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix(PR_MARKER))?;
    serde_json::from_str(line.strip_suffix(" -->")?).ok()
}

/// Steps 6 and 7: polls the checks of `sha` (conditional requests: unchanged answers are free),
/// mirrors every change and logs a progress line, until all pass or one fails.
#[expect(clippy::too_many_arguments, reason = "the step's whole state, named")]
async fn wait(
    client: &Client<Workflow>,
    settings: &Settings,
    sha: &str,
    pull: &PullRequest,
    mirror: &mut Mirror,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
    outcome: &mut Outcome,
) -> anyhow::Result<Vec<Check>> {
    let lz = &settings.landing_zone;
    let mut poll = FIRST_POLL;
    let mut last: Option<Vec<Check>> = None;
    loop {
        let checks = checks::read(client, lz, sha).await?;
        let changed = last.as_ref() != Some(&checks);
        let line = checks::progress(&checks, &settings.required_checks);
        outcome.checks.clone_from(&checks);
        match checks::verdict(&checks, &settings.required_checks) {
            Verdict::Passed => {
                journal.note(Stage::Checks, line);
                return Ok(checks);
            }
            Verdict::Failed(check) => {
                journal.note(Stage::Checks, line);
                let failure = anyhow!(
                    "check `{}` {} on #{} ({}): {}",
                    check.name,
                    check.outcome(),
                    pull.number,
                    sha,
                    check.url
                );
                mirror.sync(client, &checks, &pull.html_url).await?;
                return Err(failure);
            }
            Verdict::Waiting if changed => {
                journal.note(Stage::Checks, line);
                mirror.sync(client, &checks, &pull.html_url).await?;
                poll = FIRST_POLL;
                last = Some(checks);
            }
            Verdict::Waiting => {}
        }
        if Instant::now() + poll >= deadline {
            return Err(anyhow!(
                "deadline reached waiting for the checks of #{} ({}); last seen: {}",
                pull.number,
                sha,
                checks::progress(
                    last.as_deref().unwrap_or_default(),
                    &settings.required_checks
                )
            ));
        }
        tokio::time::sleep(poll).await;
        poll = (poll * 3 / 2).min(LONGEST_POLL);
    }
}

/// Steps 9 and 10: verify, delete the branch, promote the release.
async fn after_merge(
    clients: &Clients,
    settings: &Settings,
    release: &Release,
    branch: &str,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    let workflow = &clients.workflow;
    if let Some(check) = &settings.verify {
        verify::verify(
            check,
            &settings.client,
            &settings.version,
            deadline,
            journal,
        )
        .await
        .map_err(|error| {
            outcome.verified = Some(false);
            Failure {
                stage: Stage::Verify,
                error,
            }
        })?;
        outcome.verified = Some(true);
        journal.note(
            Stage::Verify,
            format!("{} shows {}", check.url, settings.version),
        );
    }
    if settings.delete_branch {
        outcome.branch_deleted = workflow
            .delete_ref(&settings.landing_zone, &format!("heads/{branch}"))
            .await
            .with_context(|| {
                format!(
                    "failed to delete branch {branch} in {}",
                    settings.landing_zone
                )
            })
            .map_err(at(Stage::Cleanup))?;
        if outcome.branch_deleted {
            journal.note(Stage::Cleanup, format!("deleted branch {branch}"));
        }
    }
    if settings.promote && release.prerelease {
        let fields = ReleaseFields {
            prerelease: Some(false),
            make_latest: Some("legacy".to_owned()),
            ..ReleaseFields::default()
        };
        workflow
            .update_release(&settings.source, release.id, &fields)
            .await
            .with_context(|| {
                format!(
                    "failed to promote release {} in {}",
                    settings.tag, settings.source
                )
            })
            .map_err(at(Stage::Cleanup))?;
        outcome.promoted = true;
        journal.note(
            Stage::Cleanup,
            format!("promoted {} to a full release", settings.tag),
        );
    }
    outcome.result = "deployed";
    Ok(())
}

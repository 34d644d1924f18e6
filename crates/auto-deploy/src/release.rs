//! Step 1: the release to deploy, and whether the pipeline made it. Anyone who can write a
//! release can copy create-prerelease's origin marker into its notes, and anyone who can push can
//! tag an unreviewed commit, so a release counts as the pipeline's only when its author is one of
//! `release-authors`, its notes carry the marker for this repository and tag commit, and the tag
//! commit is on the protected branch. Everything here only reads: a refused release leaves no
//! trace in either repository.

use anyhow::{Context as _, anyhow};
use gantry_github::models::Release;
use gantry_github::{Client, Origin, RepoName, Workflow};

use crate::journal::{Journal, Stage};
use crate::settings::Settings;

/// The release of `settings.tag` and its tag's commit, once they pass every check.
pub async fn resolve(
    client: &Client<Workflow>,
    settings: &Settings,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<(Release, String)> {
    let (repo, tag) = (&settings.source, settings.tag.as_str());
    let release = client
        .release_by_tag(repo, tag)
        .await
        .with_context(|| format!("failed to look up the release {tag} in {repo}"))?
        .ok_or_else(|| {
            anyhow!(
                "there is no release for tag {tag} in {repo}; create it first (create-prerelease)"
            )
        })?;
    check_author(&release, settings)?;
    let sha = client
        .tag_commit(repo, tag)
        .await
        .with_context(|| format!("failed to read tag {tag} in {repo}"))?
        .ok_or_else(|| anyhow!("tag {tag} does not exist in {repo}"))?;
    if settings.require_origin {
        check_marker(&release, repo, tag, &sha)?;
    }
    let branch = on_release_branch(client, settings, &sha).await?;
    journal.note(
        Stage::Release,
        format!(
            "{} {tag} of {repo} at {sha} (on {branch}): {}",
            if release.prerelease {
                "prerelease"
            } else {
                "release"
            },
            release.html_url
        ),
    );
    Ok((release, sha))
}

/// The release's author must be one of `release-authors` (logins compare without case, as
/// GitHub's do); with no list, any author passes (only allowed without require-automated-origin).
fn check_author(release: &Release, settings: &Settings) -> anyhow::Result<()> {
    let allowed = &settings.release_authors;
    if allowed.is_empty() {
        return Ok(());
    }
    let author = release.author.as_ref().map(|user| user.login.as_str());
    if author.is_some_and(|login| allowed.iter().any(|a| a.eq_ignore_ascii_case(login))) {
        return Ok(());
    }
    Err(anyhow!(
        "the release {} in {} was authored by {}, which is not one of release-authors ({}); refusing a release the pipeline did not make (add that login to release-authors only if it is the pipeline's own identity)",
        settings.tag,
        settings.source,
        author.unwrap_or("no account (a deleted user)"),
        allowed.join(", ")
    ))
}

/// create-prerelease's origin marker must name this repository and the tag's current commit.
fn check_marker(release: &Release, repo: &RepoName, tag: &str, sha: &str) -> anyhow::Result<()> {
    let origin = Origin::find(release.body.as_deref().unwrap_or_default()).ok_or_else(|| {
        anyhow!(
            "the release {tag} in {repo} was not made by the pipeline (no create-prerelease origin marker); refusing a hand-made release (set require-automated-origin: false to deploy it anyway)"
        )
    })?;
    if origin.repository != repo.to_string() || origin.sha != sha {
        return Err(anyhow!(
            "the origin marker of release {tag} names {}@{}, but the tag is {repo}@{sha}; refusing a release whose tag moved or was copied",
            origin.repository,
            origin.sha
        ));
    }
    Ok(())
}

/// The tag's commit must be reachable from the head of the release branch (`release-branch`, or
/// the repository's default branch): GitHub's comparison `branch...sha` says `behind` or
/// `identical` exactly when it is. Returns the branch.
async fn on_release_branch(
    client: &Client<Workflow>,
    settings: &Settings,
    sha: &str,
) -> anyhow::Result<String> {
    let (repo, tag) = (&settings.source, settings.tag.as_str());
    let branch = match &settings.release_branch {
        Some(branch) => branch.clone(),
        None => {
            client
                .repository(repo)
                .await
                .with_context(|| format!("failed to read the default branch of {repo}"))?
                .default_branch
        }
    };
    let comparison = match client.compare(repo, &branch, sha).await {
        Ok(comparison) => comparison,
        Err(error) if error.is_not_found() => {
            return Err(anyhow!(
                "the tag {tag} points at {sha}, which shares no history with branch {branch} of {repo}, or that branch does not exist; refusing a commit that is not on the release branch (check release-branch)"
            ));
        }
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!(
                "failed to compare the tag {tag} ({sha}) with branch {branch} of {repo}"
            )));
        }
    };
    match comparison.status.as_str() {
        "behind" | "identical" => Ok(branch),
        "ahead" | "diverged" => Err(anyhow!(
            "the tag {tag} points at {sha}, which is not on branch {branch} of {repo} ({} commit(s) of it are not on the branch); refusing a commit that did not land on the release branch through review (tag a commit of {branch}, or name the branch the release comes from in release-branch)",
            comparison.ahead_by
        )),
        other => Err(anyhow!(
            "comparing the tag {tag} ({sha}) with branch {branch} of {repo} gave status `{other}`, not one of ahead, behind, diverged, identical"
        )),
    }
}

//! Closes the older open deploy pull requests of the same env file, each with one comment. The
//! comment comes first and names the newer pull request, so a run killed between the two finds
//! its own comment on the re-run and only closes.

use anyhow::Context as _;
use gantry_github::models::PullRequest;
use gantry_github::{Client, Workflow};

use crate::journal::{Journal, Stage};
use crate::settings::Settings;

/// Comments on and closes every other open deploy pull request of `settings.env_file`.
pub async fn close_older(
    client: &Client<Workflow>,
    settings: &Settings,
    branch: &str,
    pull: &PullRequest,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<()> {
    let lz = &settings.landing_zone;
    let prefix = settings.branches.deploy_prefix(&settings.env_file);
    let open = client.pulls(lz, None, &settings.base, "open").await?;
    for old in open
        .iter()
        .filter(|old| old.head.name.starts_with(&prefix) && old.head.name != branch)
    {
        let comment = format!(
            "Superseded by #{} ({} {}): gantry auto-deploy closes older deploy pull requests of `{}`.",
            pull.number, settings.source, settings.tag, settings.env_file
        );
        let commented = client
            .comments(lz, old.number)
            .await
            .with_context(|| format!("failed to read the comments of #{} in {lz}", old.number))?
            .iter()
            .any(|earlier| earlier.body == comment);
        if !commented {
            client
                .comment(lz, old.number, &comment)
                .await
                .with_context(|| {
                    format!("failed to comment on superseded #{} in {lz}", old.number)
                })?;
        }
        client
            .close_pull(lz, old.number)
            .await
            .with_context(|| format!("failed to close superseded #{} in {lz}", old.number))?;
        journal.note(
            Stage::PullRequest,
            format!("closed #{} as superseded", old.number),
        );
    }
    Ok(())
}

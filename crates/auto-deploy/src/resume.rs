//! Finishing a pull request that an earlier run of this release merged. That run may have been
//! killed after the merge, or failed while mirroring the final check states, so the mirrors on
//! the release commit can still say `in_progress`: they are brought to the checks of the merged
//! head, which are also this run's `checks` output. Verification and clean-up follow as usual.

use anyhow::Context as _;
use gantry_github::models::PullRequest;
use gantry_github::{Client, Workflow};

use crate::checks::{self, Check};
use crate::journal::{Journal, Stage};
use crate::mirror::Mirror;
use crate::settings::Settings;

/// Mirrors the final checks of `merged`'s head onto `release_sha` and returns them.
pub async fn mirror_merged(
    client: &Client<Workflow>,
    settings: &Settings,
    release_sha: &str,
    merged: &PullRequest,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<Vec<Check>> {
    let lz = &settings.landing_zone;
    let head = &merged.head.sha;
    let checks = checks::read(client, lz, head).await.with_context(|| {
        format!(
            "failed to read the checks of #{} ({head}) in {lz}",
            merged.number
        )
    })?;
    let mut mirror = Mirror::load(client, &settings.source, release_sha, lz).await?;
    mirror.sync(client, &checks, &merged.html_url).await?;
    journal.note(
        Stage::Checks,
        format!(
            "mirrors brought up to date with #{}: {}",
            merged.number,
            checks::progress(&checks, &settings.required_checks)
        ),
    );
    Ok(checks)
}

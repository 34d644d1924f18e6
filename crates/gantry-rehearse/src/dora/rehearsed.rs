//! The DORA keys of what a rehearsal just did: the GitHub deployment records its own deploys
//! left in github-sim, read and computed by the same code as `gantry dora` (`records`, `keys`),
//! over the simulated day up to the simulator's now.

use std::time::Duration;

use gantry_github::{Client, ClientConfig, RepoName, Token, Workflow};
use gantry_runner::NetworkSettings;
use gantry_runner::secret::Secret;
use time::OffsetDateTime;

use super::keys::{self, Keys};
use super::period::Period;
use super::records;
use super::render::Scope;
use crate::layout::Layout;
use crate::progress::Progress;
use crate::stage::Stage;

/// How long reading the records may take (a handful of requests to github-sim).
const DEADLINE: Duration = Duration::from_secs(30);

/// The keys and what they cover.
pub struct Rehearsed {
    pub scope: Scope,
    pub keys: Keys,
}

/// Reads the service repository's records of the layout's environment, as the developer.
pub fn keys_of(layout: &Layout, stage: &Stage, progress: &Progress) -> anyhow::Result<Rehearsed> {
    let repo = RepoName::parse(&layout.service)
        .ok_or_else(|| anyhow::anyhow!("service `{}` is not owner/name", layout.service))?;
    let now =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(stage.github.now_ms()) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    // Up to a second past now: a record made in the last millisecond is in the period.
    let period = Period {
        since: now - time::Duration::days(1),
        until: now + time::Duration::seconds(1),
    };
    let config = ClientConfig::for_step(
        stage.github.url(),
        NetworkSettings::default(),
        "dora",
        DEADLINE,
    );
    let client = Client::<Workflow>::new(
        config,
        &Token::new(Secret::new(layout.tokens.developer.clone())),
    )
    .map_err(|error| anyhow::anyhow!("no client for github-sim: {error}"))?;
    let environment = layout.environment();
    let history = stage.runtime.block_on(records::read(
        &client,
        &repo,
        environment,
        &period,
        progress,
    ))?;
    Ok(Rehearsed {
        scope: Scope::new(layout.service.clone(), environment.to_owned(), &period),
        keys: keys::compute(&history, &period),
    })
}

//! `auto-deploy`: promotes a prerelease through the landing-zone repository. It takes a lock on
//! the env file, bumps the version in a pull request, mirrors the landing-zone checks onto the
//! release commit, waits for them, has the bot approve and merge the validated head, verifies the
//! deployed version over HTTP, cleans up and promotes the release. Every step is resumable from
//! the state of the repositories.

mod checks;
mod envfile;
mod flow;
mod guard;
mod journal;
mod lock;
mod merge;
mod mirror;
mod names;
mod queue;
mod record;
mod release;
mod resume;
mod settings;
mod signer;
mod spec;
mod summary;
mod supersede;
mod verify;
mod version;

use gantry_github::Client;
use gantry_runner::{ActionError, Outputs, Step};

pub use settings::Settings;
pub use spec::SPEC;

/// Runs the action.
pub fn run(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let settings = Settings::from_step(step)?;
    let clients = flow::Clients {
        workflow: Client::new(settings.client.clone(), &settings.token)
            .map_err(|error| ActionError::Failed(error.into()))?,
        bot: settings
            .bot_token
            .as_ref()
            .map(|token| Client::new(settings.client.clone(), token))
            .transpose()
            .map_err(|error| ActionError::Failed(error.into()))?,
    };
    let runtime = gantry_runner::runtime()?;
    step.console.info(&format!(
        "Deploying {} of {} to {} in {} (base {})",
        settings.tag, settings.source, settings.env_file, settings.landing_zone, settings.base
    ));
    let mut outcome = flow::Outcome::default();
    let cancellation = step.cancellation();
    let rate_limits = std::iter::once(clients.workflow.rate_limit_log())
        .chain(clients.bot.as_ref().map(Client::rate_limit_log))
        .collect();
    let mut journal = journal::Journal::new(&mut step.console, rate_limits);
    let result = runtime.block_on(flow::deploy(
        &clients,
        &settings,
        &cancellation,
        &mut journal,
        &mut outcome,
    ));
    journal.rate_limit_waits();
    let timeline = std::mem::take(&mut journal.timeline);
    let stats = clients.workflow.stats();
    let bot_stats = clients.bot.as_ref().map(Client::stats).unwrap_or_default();
    step.console.info(&format!(
        "API requests: {} with the workflow token ({} answered 304), {} with the bot token",
        stats.requests, stats.not_modified, bot_stats.requests
    ));
    let failure = result.err();
    summary::write(
        &mut step.summary,
        &settings,
        &outcome,
        failure.as_ref(),
        &timeline,
    );
    let outputs = outputs(&outcome, failure.is_some());
    match failure {
        None => Ok(outputs),
        Some(failure) => {
            let pr = outcome
                .pr
                .as_ref()
                .map(|(number, url)| format!(" (landing-zone pull request #{number} {url})"))
                .unwrap_or_default();
            Err(ActionError::refused(
                outputs,
                failure.error.context(format!(
                    "deploy failed at step {}{pr}",
                    failure.stage.label()
                )),
            ))
        }
    }
}

fn outputs(outcome: &flow::Outcome, failed: bool) -> Outputs {
    let mut outputs = Outputs::new();
    let verified = match outcome.verified {
        Some(true) => "true",
        Some(false) => "false",
        None => "skipped",
    };
    outputs
        .set("result", if failed { "failed" } else { outcome.result })
        .set(
            "pr-number",
            outcome
                .pr
                .as_ref()
                .map(|(n, _)| n.to_string())
                .unwrap_or_default(),
        )
        .set(
            "pr-url",
            outcome
                .pr
                .as_ref()
                .map(|(_, url)| url.clone())
                .unwrap_or_default(),
        )
        .set("merge-sha", outcome.merge_sha.clone().unwrap_or_default())
        .set(
            "previous-version",
            outcome.previous.clone().unwrap_or_default(),
        )
        .set(
            "deployed-version",
            if failed && outcome.merge_sha.is_none() {
                String::new()
            } else {
                outcome.deployed.clone().unwrap_or_default()
            },
        )
        .set("verified", verified)
        .set("checks", checks::to_json(&outcome.checks));
    outputs
}

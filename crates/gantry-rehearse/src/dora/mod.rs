//! `gantry dora`: the four DORA keys of one environment of one repository over a period, from the
//! records GitHub keeps (deployments and their statuses, the commits between deployed SHAs,
//! releases), read through gantry-github from github.com or github-sim alike.
//!
//! `records` reads, `keys` computes (no I/O; the definitions are written there), `render` prints.

pub mod history;
pub mod keys;
pub mod period;
pub mod records;
pub mod render;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use gantry_github::{Client, ClientConfig, RepoName, Token, Workflow};
use gantry_runner::{Env, NetworkSettings};
use time::OffsetDateTime;

use crate::progress::Progress;
use period::Period;
use render::Scope;

/// Public GitHub's REST API, the default `--api-url`.
pub const GITHUB_API: &str = "https://api.github.com";

/// Exit code when the keys were printed.
pub const EXIT_OK: u8 = 0;
/// Exit code when the records could not be read (GitHub unreachable, errors after retries, the
/// deadline passed) or the output could not be written.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for bad input: options (repository, dates), a missing or refused token, an unknown
/// repository.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The command line, as given.
#[derive(Debug, Clone)]
pub struct Options {
    pub repo: String,
    pub environment: String,
    pub since: Option<String>,
    pub until: Option<String>,
    pub days: Option<String>,
    pub api_url: String,
    /// Items per page of every list (1 to 100; GitHub's maximum, 100, by default).
    pub per_page: Option<String>,
    pub json: bool,
    pub html: Option<PathBuf>,
    /// Budget for all requests, retries and rate-limit waits included.
    pub deadline: Duration,
}

/// Why `gantry dora` stopped, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum DoraError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Read(#[from] records::ReadError),
    #[error("failed to write {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

impl DoraError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => EXIT_BAD_INPUT,
            Self::Read(error) if error.is_bad_input() => EXIT_BAD_INPUT,
            Self::Read(_) | Self::Write { .. } => EXIT_FAILED,
        }
    }
}

/// Reads the records, computes the keys and prints them to `out` (text or JSON), writing the
/// HTML page when asked. Every input is checked before the first request.
pub fn run(
    options: &Options,
    env: &Env,
    now: OffsetDateTime,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<(), DoraError> {
    let repo = RepoName::parse(&options.repo).ok_or_else(|| {
        DoraError::Input(format!(
            "--repo `{}` is not a repository: give owner/name",
            options.repo
        ))
    })?;
    if options.environment.trim().is_empty() {
        return Err(DoraError::Input(
            "--environment is empty: give the environment's name, e.g. production".to_owned(),
        ));
    }
    let period = Period::from_options(
        options.since.as_deref(),
        options.until.as_deref(),
        options.days.as_deref(),
        now,
    )
    .map_err(|error| DoraError::Input(error.to_string()))?;
    let input = |error: gantry_runner::ActionError| DoraError::Input(error.to_string());
    let (_, secret) = gantry_runner::api_token(env).map_err(input)?.ok_or_else(|| {
        DoraError::Input(format!(
            "no GitHub token: set GH_TOKEN or GITHUB_TOKEN to a token that can read {repo}'s deployments (for {})",
            options.api_url
        ))
    })?;
    let page_size = match options.per_page.as_deref() {
        None => 100,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                DoraError::Input(format!(
                    "--per-page must be a whole number from 1 to 100, not `{text}`"
                ))
            })?,
    };
    let network = NetworkSettings::from_env(env).map_err(input)?;
    let config = ClientConfig {
        page_size,
        ..ClientConfig::for_step(&options.api_url, network, "dora", options.deadline)
    };
    let client = Client::<Workflow>::new(config, &Token::new(secret))
        .map_err(|error| DoraError::Input(format!("--api-url: {error}")))?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| DoraError::Write {
            path: "the async runtime".to_owned(),
            error,
        })?;
    let history = runtime.block_on(records::read(
        &client,
        &repo,
        &options.environment,
        &period,
        progress,
    ))?;
    for wait in client.rate_limit_log().take() {
        progress.line(&wait.to_string());
    }
    let keys = keys::compute(&history, &period);
    let scope = Scope::new(repo.to_string(), options.environment.clone(), &period);

    if let Some(path) = &options.html {
        crate::report::write_html(path, &render::html(&scope, &keys)).map_err(|error| {
            DoraError::Write {
                path: path.display().to_string(),
                error,
            }
        })?;
        progress.line(&format!("wrote {}", path.display()));
    }
    let printed = if options.json {
        render::json(&scope, &keys)
    } else {
        crate::progress::plain_text(&render::text(&scope, &keys)) + "\n"
    };
    out.write_all(printed.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|error| DoraError::Write {
            path: "stdout".to_owned(),
            error,
        })
}

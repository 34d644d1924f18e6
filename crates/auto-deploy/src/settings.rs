//! Phase two of input parsing: raw inputs and the run's context turned into typed settings, every
//! problem reported against the input that caused it before any request is sent.

use std::time::Duration;

use gantry_github::{BotToken, ClientConfig, RepoName, WorkflowToken};
use gantry_runner::{ActionError, Inputs, NetworkSettings, Step, env_vars};

use crate::names::{self, Branches};

/// How the deployed version is recognised in the verify-url response.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A JSON pointer whose string (or number) value must equal the version.
    Pointer(String),
    /// A regex whose first group (or whole match) must equal the version.
    Pattern(regex::Regex),
}

/// Post-merge HTTP verification.
#[derive(Debug, Clone)]
pub struct Verify {
    pub url: String,
    pub matcher: Matcher,
    pub consecutive: u32,
    pub timeout: Duration,
}

/// One run of a workflow: `GITHUB_RUN_ID` and `GITHUB_RUN_ATTEMPT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: String,
    pub attempt: u64,
}

/// Everything the deploy needs, validated.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each flag is one documented input"
)]
pub struct Settings {
    pub source: RepoName,
    pub landing_zone: RepoName,
    pub base: String,
    pub tag: String,
    pub version: String,
    pub env_file: String,
    pub key: String,
    pub require_origin: bool,
    /// Logins allowed to author the release (empty: any author, allowed only without `require_origin`).
    pub release_authors: Vec<String>,
    /// The source branch the tag's commit must be on; `None`: the repository's default branch.
    pub release_branch: Option<String>,
    pub skip_merge: bool,
    pub allow_downgrade: bool,
    pub merge_method: String,
    /// Where deploy branches and locks live in the landing zone.
    pub branches: Branches,
    pub required_checks: Vec<String>,
    pub delete_branch: bool,
    pub promote: bool,
    pub verify: Option<Verify>,
    pub timeout: Duration,
    pub token: WorkflowToken,
    pub bot_token: Option<BotToken>,
    pub client: ClientConfig,
    pub server_url: String,
    pub run_url: Option<String>,
    /// This workflow run and attempt, which own the lock (`None` outside Actions).
    pub run: Option<Run>,
    /// Where the deploy is recorded as a GitHub deployment; `None`: record-deployment is false.
    pub record: Option<gantry_github::record::Recording>,
}

impl Settings {
    #[expect(
        clippy::too_many_lines,
        reason = "one input after another, each with its message"
    )]
    pub fn from_step(step: &mut Step<'_>) -> Result<Self, ActionError> {
        let inputs = &step.inputs;
        let token = inputs.secret("token").cloned().ok_or_else(|| {
            ActionError::input(
                "token",
                "is empty; pass a token with contents, pull-requests and checks write access",
            )
        })?;
        let skip_merge = inputs.flag("skip-merge")?;
        let bot_token = inputs.secret("bot-token").cloned();
        if bot_token.is_none() && !skip_merge {
            return Err(ActionError::input(
                "bot-token",
                "is empty; pass the bot's token that approves and merges, or set skip-merge: true",
            ));
        }
        if bot_token.as_ref() == Some(&token) {
            return Err(ActionError::input(
                "bot-token",
                "is the same token as token; an author cannot approve its own pull request, so pass the bot's own token",
            ));
        }
        let landing_zone = repo_input(inputs, "landing-zone-repo")?
            .ok_or_else(|| ActionError::input("landing-zone-repo", "is required"))?;
        let merge_method = inputs.get("merge-method").unwrap_or("squash").to_owned();
        if !matches!(merge_method.as_str(), "squash" | "merge" | "rebase") {
            return Err(ActionError::input(
                "merge-method",
                format!("`{merge_method}` is not one of squash, merge, rebase"),
            ));
        }
        let (env_file_input, env_file) = if skip_merge {
            (
                "prod-env-file",
                inputs.get("prod-env-file").unwrap_or("deploy/prod.env"),
            )
        } else {
            (
                "env-file",
                inputs.get("env-file").unwrap_or("deploy/preprod.env"),
            )
        };
        repo_path(env_file_input, env_file)?;
        let env_file = env_file.to_owned();
        let key = inputs
            .get("version-key")
            .unwrap_or("IMAGE_VERSION")
            .to_owned();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ActionError::input(
                "version-key",
                format!("`{key}` is not a variable name (letters, digits, _)"),
            ));
        }
        let timeout = inputs
            .duration("timeout")?
            .unwrap_or(Duration::from_secs(1800));
        let verify = verify_settings(inputs, timeout)?;
        let explicit_tag = inputs.get("tag").map(str::to_owned);
        let explicit_version = inputs.get("image-version").map(str::to_owned);
        let explicit_repo = repo_input(inputs, "repository")?;
        let settings = (
            inputs.flag("require-automated-origin")?,
            inputs.flag("allow-downgrade")?,
            inputs.flag("delete-branch")?,
            inputs.flag("promote-release")?,
            inputs.list("required-checks"),
            inputs.get("base-branch").unwrap_or("main").to_owned(),
        );
        let (require_origin, allow_downgrade, delete_branch, promote, required_checks, base) =
            settings;
        repo_path("base-branch", &base)?;
        let defaults = Branches::default();
        let branches = Branches {
            deploy: inputs
                .get("deploy-branch-prefix")
                .map_or(defaults.deploy, str::to_owned),
            lock: inputs
                .get("lock-branch-prefix")
                .map_or(defaults.lock, str::to_owned),
        };
        names::check_prefixes(&branches)
            .map_err(|(input, message)| ActionError::input(input, message))?;
        let record = gantry_github::record::from_inputs(inputs, &env_file)?;
        let release_authors = release_authors(inputs, require_origin)?;
        let release_branch = inputs.get("release-branch").map(str::to_owned);
        if let Some(branch) = &release_branch {
            repo_path("release-branch", branch)?;
        }

        let network = NetworkSettings::from_env(step.env())?;
        let context = step.context()?;
        let tag = explicit_tag
            .or_else(|| context.event_str("/release/tag_name").map(str::to_owned))
            .or_else(|| {
                (context.ref_type.as_deref() == Some("tag"))
                    .then(|| context.ref_name.clone())
                    .flatten()
            })
            .ok_or_else(|| {
                ActionError::input(
                    "tag",
                    "is empty and the event carries no release; set tag or run on release: prereleased",
                )
            })?;
        let tag = tag.strip_prefix("refs/tags/").unwrap_or(&tag).to_owned();
        repo_path("tag", &tag)?;
        let source = match explicit_repo {
            Some(repo) => repo,
            None => context
                .repository
                .as_deref()
                .and_then(RepoName::parse)
                .ok_or_else(|| {
                    ActionError::input(
                        "repository",
                        "is empty and GITHUB_REPOSITORY is not set; set repository to owner/name",
                    )
                })?,
        };
        let version_input = if explicit_version.is_some() {
            "image-version"
        } else {
            "tag"
        };
        let version = explicit_version.unwrap_or_else(|| tag.clone());
        gantry_image::check_version(&version).map_err(|error| {
            ActionError::input(
                version_input,
                format!(
                    "`{version}` is not an image version: it {error}; the version written to the env file must be an image tag like v1.2.3 (set image-version when the tag is not one)"
                ),
            )
        })?;
        let run = match &context.run_id {
            None => None,
            Some(id) => Some(Run {
                id: id.clone(),
                attempt: match context.run_attempt.as_deref() {
                    None => 1,
                    Some(text) => text.parse().map_err(|_| {
                        ActionError::environment(
                            env_vars::GITHUB_RUN_ATTEMPT,
                            format!("`{text}` is not a run attempt number"),
                        )
                    })?,
                },
            }),
        };
        let client = ClientConfig::for_step(&context.api_url, network, "auto-deploy", timeout);
        Ok(Self {
            source,
            landing_zone,
            base,
            tag,
            version,
            env_file,
            key,
            require_origin,
            release_authors,
            release_branch,
            skip_merge,
            allow_downgrade,
            merge_method,
            branches,
            required_checks,
            delete_branch,
            promote,
            verify,
            timeout,
            token: WorkflowToken::new(token),
            bot_token: bot_token.map(BotToken::new),
            client,
            server_url: context.server_url.trim_end_matches('/').to_owned(),
            run_url: context.run_url(),
            run,
            record,
        })
    }
}

/// A path inside the landing-zone repository (a file or a branch): checked before any request so
/// no value can reach another endpoint.
fn repo_path(input: &str, path: &str) -> Result<(), ActionError> {
    gantry_github::path::check_repo_path(path).map_err(|error| {
        ActionError::input(
            input,
            format!("`{path}` {error}; it must be a path inside the repository"),
        )
    })
}

/// `release-authors`: logins separated by commas or newlines, each checked; an empty list is bad
/// input when the origin is required, since the marker alone proves nothing (anyone who can
/// write a release can copy it).
fn release_authors(inputs: &Inputs, require_origin: bool) -> Result<Vec<String>, ActionError> {
    let logins: Vec<String> = inputs
        .get("release-authors")
        .unwrap_or_default()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|login| !login.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = logins.iter().find(|login| !is_login(login)) {
        return Err(ActionError::input(
            "release-authors",
            format!(
                "`{bad}` is not a GitHub login (letters, digits, - and _; an App as slug[bot], like release-bot[bot])"
            ),
        ));
    }
    if logins.is_empty() && require_origin {
        return Err(ActionError::input(
            "release-authors",
            "is empty while require-automated-origin is true; list the logins that make releases, comma- or newline-separated (the App that runs create-prerelease as slug[bot], like release-bot[bot], or a machine user's login), or set require-automated-origin: false",
        ));
    }
    Ok(logins)
}

/// A user's or an App's login (`name` or `slug[bot]`).
fn is_login(text: &str) -> bool {
    let name = text.strip_suffix("[bot]").unwrap_or(text);
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

fn repo_input(inputs: &Inputs, name: &str) -> Result<Option<RepoName>, ActionError> {
    inputs
        .get(name)
        .map(|text| {
            RepoName::parse(text)
                .ok_or_else(|| ActionError::input(name, format!("`{text}` is not owner/name")))
        })
        .transpose()
}

fn verify_settings(inputs: &Inputs, timeout: Duration) -> Result<Option<Verify>, ActionError> {
    let Some(url) = inputs.get("verify-url") else {
        return Ok(None);
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ActionError::input(
            "verify-url",
            format!("`{url}` is not an http(s) URL"),
        ));
    }
    let text = inputs.get("verify-match").unwrap_or("/version");
    let matcher = if text.starts_with('/') {
        Matcher::Pointer(text.to_owned())
    } else {
        Matcher::Pattern(regex::Regex::new(text).map_err(|error| {
            ActionError::input(
                "verify-match",
                format!("is neither a JSON pointer (starting with /) nor a valid regular expression: {error}"),
            )
        })?)
    };
    let consecutive = inputs
        .parse::<u32>("verify-consecutive", "a whole number of responses")?
        .unwrap_or(2)
        .max(1);
    let verify_timeout = inputs
        .duration("verify-timeout")?
        .unwrap_or(Duration::from_secs(600))
        .min(timeout);
    Ok(Some(Verify {
        url: url.to_owned(),
        matcher,
        consecutive,
        timeout: verify_timeout,
    }))
}

//! The standard `GITHUB_*` context of a run, read from the environment and the event payload file.

use serde_json::Value;

use crate::env::Env;
use crate::env_vars as vars;
use crate::error::ActionError;
use crate::secret::Secret;

/// How the runner reaches the network: proxy and extra CA bundle, for the HTTP clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSettings {
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub extra_ca_file: Option<String>,
}

impl NetworkSettings {
    /// Reads `HTTPS_PROXY`/`https_proxy`, `NO_PROXY`/`no_proxy` and `SSL_CERT_FILE`.
    pub fn from_env(env: &Env) -> Result<Self, ActionError> {
        let either = |upper: &str, lower: &str| -> Result<Option<String>, ActionError> {
            Ok(env
                .non_empty(upper)?
                .or(env.non_empty(lower)?)
                .map(str::to_owned))
        };
        Ok(Self {
            https_proxy: either(vars::HTTPS_PROXY, vars::HTTPS_PROXY_LOWER)?,
            no_proxy: either(vars::NO_PROXY, vars::NO_PROXY_LOWER)?,
            extra_ca_file: env.non_empty(vars::SSL_CERT_FILE)?.map(str::to_owned),
        })
    }

    /// The proxy for a connection to `host`: `HTTPS_PROXY`, unless `NO_PROXY` names the host.
    pub fn proxy_for(&self, host: &str) -> Option<&str> {
        let bypassed = self
            .no_proxy
            .as_deref()
            .is_some_and(|list| crate::no_proxy::bypasses(list, host));
        self.https_proxy.as_deref().filter(|_| !bypassed)
    }
}

/// A GitHub token from the environment: `GH_TOKEN`, else `GITHUB_TOKEN` (the GitHub CLI's
/// order), trimmed, with the name of the variable it came from; `None` when neither holds more
/// than whitespace.
pub fn api_token(env: &Env) -> Result<Option<(&'static str, Secret)>, ActionError> {
    for name in [vars::GH_TOKEN, vars::GITHUB_TOKEN] {
        if let Some(value) = env
            .non_empty(name)?
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return Ok(Some((name, Secret::new(value))));
        }
    }
    Ok(None)
}

/// What the runner tells every step about the run. Unset variables are `None`.
#[derive(Debug, Clone, Default)]
pub struct GithubContext {
    pub repository: Option<String>,
    pub sha: Option<String>,
    pub ref_full: Option<String>,
    pub ref_name: Option<String>,
    pub ref_type: Option<String>,
    pub head_ref: Option<String>,
    pub base_ref: Option<String>,
    pub event_name: Option<String>,
    /// The webhook payload from `GITHUB_EVENT_PATH`, or `Null` when there is none.
    pub event: Value,
    pub api_url: String,
    pub server_url: String,
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub workflow: Option<String>,
    pub job: Option<String>,
    pub actor: Option<String>,
    pub workspace: Option<String>,
}

impl GithubContext {
    /// Reads the context; a payload path that is set but unreadable or not JSON is an error.
    pub fn from_env(env: &Env) -> Result<Self, ActionError> {
        let text = |name: &str| -> Result<Option<String>, ActionError> {
            Ok(env.non_empty(name)?.map(str::to_owned))
        };
        let event = match env.non_empty(vars::GITHUB_EVENT_PATH)? {
            None => Value::Null,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|error| {
                    ActionError::environment(
                        vars::GITHUB_EVENT_PATH,
                        format!("cannot read `{path}`: {error}"),
                    )
                })?;
                serde_json::from_slice(&bytes).map_err(|error| {
                    ActionError::environment(
                        vars::GITHUB_EVENT_PATH,
                        format!("`{path}` is not a JSON event payload: {error}"),
                    )
                })?
            }
        };
        Ok(Self {
            repository: text(vars::GITHUB_REPOSITORY)?,
            sha: text(vars::GITHUB_SHA)?,
            ref_full: text(vars::GITHUB_REF)?,
            ref_name: text(vars::GITHUB_REF_NAME)?,
            ref_type: text(vars::GITHUB_REF_TYPE)?,
            head_ref: text(vars::GITHUB_HEAD_REF)?,
            base_ref: text(vars::GITHUB_BASE_REF)?,
            event_name: text(vars::GITHUB_EVENT_NAME)?,
            event,
            api_url: text(vars::GITHUB_API_URL)?
                .unwrap_or_else(|| "https://api.github.com".to_owned()),
            server_url: text(vars::GITHUB_SERVER_URL)?
                .unwrap_or_else(|| "https://github.com".to_owned()),
            run_id: text(vars::GITHUB_RUN_ID)?,
            run_attempt: text(vars::GITHUB_RUN_ATTEMPT)?,
            workflow: text(vars::GITHUB_WORKFLOW)?,
            job: text(vars::GITHUB_JOB)?,
            actor: text(vars::GITHUB_ACTOR)?,
            workspace: text(vars::GITHUB_WORKSPACE)?,
        })
    }

    /// A string field of the event payload by JSON pointer, e.g. `/pull_request/head/sha`.
    pub fn event_str(&self, pointer: &str) -> Option<&str> {
        self.event.pointer(pointer).and_then(Value::as_str)
    }

    /// A run for a pull request (`pull_request` or `pull_request_target`).
    pub fn is_pull_request(&self) -> bool {
        matches!(
            self.event_name.as_deref(),
            Some("pull_request" | "pull_request_target")
        )
    }

    /// Link to this run (and attempt), when the run is known.
    pub fn run_url(&self) -> Option<String> {
        let repository = self.repository.as_deref()?;
        let run_id = self.run_id.as_deref()?;
        let mut url = format!(
            "{}/{repository}/actions/runs/{run_id}",
            self.server_url.trim_end_matches('/')
        );
        if let Some(attempt) = &self.run_attempt {
            url.push_str("/attempts/");
            url.push_str(attempt);
        }
        Some(url)
    }
}

#[cfg(test)]
mod token_tests {
    use super::api_token;
    use crate::env::Env;

    #[test]
    fn gh_token_wins_over_github_token_and_empty_values_do_not_count() {
        let env = Env::from_pairs([("GH_TOKEN", "gh-one"), ("GITHUB_TOKEN", "workflow-one")]);
        let (name, token) = api_token(&env).unwrap().unwrap();
        assert_eq!((name, token.expose()), ("GH_TOKEN", "gh-one"));
        let env = Env::from_pairs([("GH_TOKEN", ""), ("GITHUB_TOKEN", "workflow-one\n")]);
        let (name, token) = api_token(&env).unwrap().unwrap();
        assert_eq!((name, token.expose()), ("GITHUB_TOKEN", "workflow-one"));
        assert!(
            api_token(&Env::from_pairs([("GH_TOKEN", " \n")]))
                .unwrap()
                .is_none()
        );
        assert!(api_token(&Env::default()).unwrap().is_none());
    }
}

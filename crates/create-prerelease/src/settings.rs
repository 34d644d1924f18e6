//! Phase two of input parsing: the raw inputs and the run's context turned into typed settings,
//! every problem reported against the input that caused it before any request is sent.

use std::time::Duration;

use gantry_github::{ClientConfig, RepoName, WorkflowToken};
use gantry_runner::{ActionError, NetworkSettings, Step};
use regex::Regex;

use crate::template::Template;

/// Whether the release is a prerelease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrereleasePolicy {
    Always,
    Never,
    /// From the version: a pre-release part makes it a prerelease.
    Auto,
}

/// What to do with an existing release that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    Fail,
    Update,
}

/// Everything the action needs, validated.
#[derive(Debug)]
pub struct Settings {
    pub repo: RepoName,
    pub tag: String,
    /// What the tag may carry before the version (`v`; `api-v` for per-service tags).
    pub tag_prefix: String,
    pub prerelease: PrereleasePolicy,
    pub name: Template,
    pub body: Option<Template>,
    pub generate_notes: bool,
    pub on_existing: OnExisting,
    pub make_latest: String,
    pub token: WorkflowToken,
    pub client: ClientConfig,
    pub run_id: Option<String>,
    pub workflow: Option<String>,
}

impl Settings {
    pub fn from_step(step: &mut Step<'_>) -> Result<Self, ActionError> {
        let inputs = &step.inputs;
        let token = inputs.secret("token").cloned().ok_or_else(|| {
            ActionError::input(
                "token",
                "is empty; pass a token that may create releases (contents: write)",
            )
        })?;
        let tag_prefix = inputs.get("tag-prefix").unwrap_or_default().to_owned();
        let pattern = inputs
            .get("tag-pattern")
            .map(|text| {
                Regex::new(text).map_err(|error| {
                    ActionError::input(
                        "tag-pattern",
                        format!("is not a valid regular expression: {error}"),
                    )
                })
            })
            .transpose()?;
        let prerelease = choice(
            inputs,
            "prerelease",
            &[
                ("true", PrereleasePolicy::Always),
                ("false", PrereleasePolicy::Never),
                ("auto", PrereleasePolicy::Auto),
            ],
        )?;
        let on_existing = choice(
            inputs,
            "on-existing",
            &[("fail", OnExisting::Fail), ("update", OnExisting::Update)],
        )?;
        let make_latest = choice(
            inputs,
            "make-latest",
            &[("true", "true"), ("false", "false"), ("legacy", "legacy")],
        )?;
        let name = Template::parse("name", inputs.get("name").unwrap_or("{tag}"))?;
        let body = inputs
            .get("body")
            .map(|text| Template::parse("body", text))
            .transpose()?;
        let generate_notes = inputs.flag("generate-notes")?;
        let deadline = inputs
            .duration("timeout")?
            .unwrap_or(Duration::from_secs(300));
        let explicit_tag = inputs.get("tag").map(str::to_owned);
        let explicit_repo = inputs.get("repository").map(str::to_owned);

        let network = NetworkSettings::from_env(step.env())?;
        let context = step.context()?;
        let tag = match explicit_tag {
            Some(tag) => tag,
            None if context.ref_type.as_deref() == Some("tag") => {
                context.ref_name.clone().unwrap_or_default()
            }
            None => {
                return Err(ActionError::input(
                    "tag",
                    "is empty and this run was not triggered by a tag push; set tag or run on push: tags",
                ));
            }
        };
        let tag = tag.strip_prefix("refs/tags/").unwrap_or(&tag).to_owned();
        check_tag_path(&tag)?;
        check_tag_shape(&tag, &tag_prefix, pattern.as_ref())?;
        let repo_text = explicit_repo
            .or_else(|| context.repository.clone())
            .ok_or_else(|| {
                ActionError::input(
                    "repository",
                    "is empty and GITHUB_REPOSITORY is not set; set repository to owner/name",
                )
            })?;
        let repo = RepoName::parse(&repo_text).ok_or_else(|| {
            ActionError::input("repository", format!("`{repo_text}` is not owner/name"))
        })?;
        let client =
            ClientConfig::for_step(&context.api_url, network, "create-prerelease", deadline);
        Ok(Self {
            repo,
            tag,
            tag_prefix,
            prerelease,
            name,
            body,
            generate_notes,
            on_existing,
            make_latest: make_latest.to_owned(),
            token: WorkflowToken::new(token),
            client,
            run_id: context.run_id.clone(),
            workflow: context.workflow.clone(),
        })
    }

    /// The tag without its prefix.
    pub fn version(&self) -> &str {
        without_prefix(&self.tag, &self.tag_prefix)
    }

    /// Whether the release should be a prerelease.
    pub fn is_prerelease(&self) -> bool {
        match self.prerelease {
            PrereleasePolicy::Always => true,
            PrereleasePolicy::Never => false,
            PrereleasePolicy::Auto => version_is_prerelease(self.version()),
        }
    }
}

/// One of a fixed set of words (booleans in any of the three accepted spellings).
fn choice<T: Copy>(
    inputs: &gantry_runner::Inputs,
    name: &str,
    options: &[(&str, T)],
) -> Result<T, ActionError> {
    let text = inputs.get(name).unwrap_or_default();
    let word = match gantry_runner::inputs::parse_bool(text) {
        Some(flag) => {
            if flag {
                "true"
            } else {
                "false"
            }
        }
        None => text,
    };
    options
        .iter()
        .find(|(option, _)| *option == word)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(option, _)| *option).collect();
            ActionError::input(name, format!("`{text}` is not one of {}", names.join(", ")))
        })
}

/// The tag matches `tag-pattern`, or without one is `tag-prefix` (optional) then a version.
fn check_tag_shape(
    tag: &str,
    tag_prefix: &str,
    pattern: Option<&Regex>,
) -> Result<(), ActionError> {
    match pattern {
        Some(pattern) if !pattern.is_match(tag) => Err(ActionError::input(
            "tag",
            format!(
                "`{tag}` does not match tag-pattern `{pattern}`; push a tag like v1.2.3 or change tag-pattern"
            ),
        )),
        None if gantry_version::parse_any(without_prefix(tag, tag_prefix)).is_none() => {
            Err(ActionError::input(
                "tag",
                format!(
                    "`{tag}` is not a version after tag-prefix `{tag_prefix}`: push a tag like {tag_prefix}1.2.3, {tag_prefix}1.2.3-rc.1 (SemVer) or {tag_prefix}1.2.3rc1 (PEP 440), set tag-prefix to what your tags carry before the version, or set tag-pattern"
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The tag without `prefix`, as ticgen's `tag-prefix` reads it: the prefix is optional.
fn without_prefix<'a>(tag: &'a str, prefix: &str) -> &'a str {
    tag.strip_prefix(prefix).unwrap_or(tag)
}

/// A SemVer pre-release part, or a PEP 440 pre/dev marker (`1.0a1`, `1.0rc2`, `1.0.dev3`); any
/// spelling of the version ticgen reads (SemVer, OCI tag, PEP 440).
pub fn version_is_prerelease(version: &str) -> bool {
    gantry_version::parse_any(version).is_some_and(|version| version.is_prerelease())
}

/// A tag is a path inside `refs/tags`: checked before any request so it cannot reach another
/// endpoint.
fn check_tag_path(tag: &str) -> Result<(), ActionError> {
    gantry_github::path::check_repo_path(tag).map_err(|error| {
        ActionError::input(
            "tag",
            format!("`{tag}` {error}; a tag name is a path inside refs/tags"),
        )
    })
}

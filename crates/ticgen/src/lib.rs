//! `ticgen`: a deterministic version and image tag for a build, from the project manifest and the
//! GitHub event alone (no history walk, no wall clock), with one tested PEP 440 ⇄ SemVer ⇄ OCI
//! tag mapping ([`version`]).

pub mod commit_time;
pub mod git_context;
pub mod manifest;
mod report;
mod settings;
mod summary;
pub mod tags;
mod vcs;
/// The PEP 440 ⇄ SemVer ⇄ OCI tag mapping ticgen applies.
pub use gantry_version as version;

use gantry_runner::{ActionError, ActionSpec, Annotation, InputSpec, OutputSpec, Outputs, Step};

use crate::git_context::{Build, ContextError, Origin};
use crate::manifest::ManifestError;
use crate::report::Report;
use crate::settings::Settings;

pub static SPEC: ActionSpec = ActionSpec {
    name: "ticgen",
    title: "ticgen: deterministic version and image tag",
    description: "Reads the version from pyproject.toml, Cargo.toml or package.json, checks it against a pushed tag, \
        and derives the image tag (tic), SemVer and PEP 440 forms, alias tags, OCI labels and SOURCE_DATE_EPOCH \
        from the event alone: it works on a depth-1 checkout, builds pull requests at their head commit, and \
        gives byte-identical outputs for the same inputs.",
    inputs: &[
        InputSpec::optional(
            "path",
            ".",
            "Project directory holding the manifest, relative to the working directory (for monorepos, e.g. `services/api`).",
        ),
        InputSpec::optional(
            "manifest",
            "",
            "Manifest file relative to `path`: `pyproject.toml`, `Cargo.toml` or `package.json`. \
             Default: the first of these that exists in `path`.",
        ),
        InputSpec::optional(
            "tag-prefix",
            "v",
            "Prefix a release tag may carry before the version: with `v`, tag `v1.2.3` or `1.2.3` releases version 1.2.3. \
             Use e.g. `api-v` for per-package tags in a monorepo.",
        ),
        InputSpec::optional(
            "image",
            "",
            "Image name without tag, e.g. `ghcr.io/org/app`; when set, every entry of `tags` is a full reference `image:tag`.",
        ),
        InputSpec::optional(
            "aliases",
            "true",
            "Whether a final release (tag push, not a pre-release) also gets the moving `major.minor` and `major` tags. Registries that make tags immutable (Harbor's tag immutability, ECR's IMMUTABLE) refuse to move them: set false there, and latest too.",
        ),
        InputSpec::optional(
            "latest",
            "true",
            "Whether a final release (tag push, not a pre-release) also gets the `latest` tag.",
        ),
        InputSpec::optional(
            "ref",
            "",
            "Git ref to build instead of the event's, e.g. `refs/tags/v1.2.3`, `refs/heads/main` or `refs/pull/42/merge`.",
        ),
        InputSpec::optional(
            "sha",
            "",
            "Full commit SHA to stamp instead of the event's (default: the pull request head for pull requests, else `GITHUB_SHA`).",
        ),
        InputSpec::optional(
            "source-date-epoch",
            "",
            "Commit time in Unix seconds, overriding the lookup (`SOURCE_DATE_EPOCH`, the push payload, then `git show` of the commit).",
        ),
    ],
    outputs: &[
        OutputSpec::new(
            "version",
            "The manifest version, normalised in its own scheme: PEP 440 for pyproject.toml (`1.0.0-RC1` → `1.0.0rc1`), SemVer for Cargo.toml and package.json.",
        ),
        OutputSpec::new(
            "pep440",
            "The PEP 440 form of the version; empty for a SemVer version with no PEP 440 form (e.g. `1.0.0-x.7`).",
        ),
        OutputSpec::new(
            "semver",
            "The SemVer 2.0 form of the version, by the documented mapping (`1.0rc1` → `1.0.0-rc.1`, `1.0.post1` → `1.0.0+post.1`).",
        ),
        OutputSpec::new(
            "tic",
            "The image tag of this build: the SemVer form (with `+` → `_`) for a release tag; otherwise a pre-release form naming the build, \
             `1.2.3-pr.42.gabc1234` for pull request 42 or `1.2.3-main.gabc1234` for branch `main`.",
        ),
        OutputSpec::new(
            "tags",
            "Newline-separated tags to push: `tic`, plus `major.minor`, `major` and `latest` for final releases only; `image:`-prefixed when `image` is set.",
        ),
        OutputSpec::new(
            "labels",
            "Newline-separated `org.opencontainers.image.*=value` labels: created, description, licenses, revision, source, title, version (unknown ones left out).",
        ),
        OutputSpec::new(
            "is-release",
            "`true` for a tag push whose tag matches the manifest version, else `false`.",
        ),
        OutputSpec::new(
            "is-prerelease",
            "`true` when the version is a pre-release (PEP 440 a/b/rc/dev, or a SemVer prerelease), else `false`.",
        ),
        OutputSpec::new(
            "source-date-epoch",
            "The commit time in Unix seconds (for `SOURCE_DATE_EPOCH`), never the wall clock; empty when it cannot be known without a history walk.",
        ),
        OutputSpec::new(
            "created",
            "The commit time in RFC 3339 UTC, e.g. `2024-05-01T12:00:00Z`; empty when unknown.",
        ),
        OutputSpec::new(
            "sha",
            "The full commit SHA the build stamps: the pull request head for pull requests, never the merge commit.",
        ),
        OutputSpec::new(
            "build",
            "What is being built: `tag`, `pull-request`, `branch` or `default-branch`.",
        ),
        OutputSpec::new(
            "manifest",
            "The manifest file the version was read from, relative to the working directory.",
        ),
        OutputSpec::new(
            "json",
            "Every output above as one JSON object, with `tags` as an array, `labels` as an object, booleans and numbers typed (use `fromJSON`).",
        ),
    ],
};

/// The action: phase-two inputs, manifest, build context, tag check, commit time, then outputs.
pub fn run(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let settings = Settings::from_step(step)?;
    let context = step.context()?.clone();
    let git = git_context::resolve(&context, &settings.overrides).map_err(context_error)?;
    let from_git = || vcs::version(&settings.path, &git.build, &git.sha, &settings.tag_prefix);
    let manifest = manifest::read(&settings.path, settings.manifest.as_deref(), &from_git)
        .map_err(|error: ManifestError| ActionError::input(error.input(), error.to_string()))?;
    if let Build::Tag { tag } = &git.build {
        let bare = tag
            .strip_prefix(settings.tag_prefix.as_str())
            .unwrap_or(tag);
        if !manifest.version.matches(bare) && !manifest.version.matches(tag) {
            return Err(ActionError::input(
                "manifest",
                format!(
                    "tag `{tag}` does not match version `{}` in `{}`; bump the manifest or re-tag",
                    manifest.version.normalised(),
                    manifest.path.display()
                ),
            ));
        }
    }
    let commit_time = match commit_time::resolve(step.env(), &context, &settings, &git.sha)? {
        Ok(time) => Some(time),
        Err(reason) => {
            let message = format!(
                "source-date-epoch is empty: {reason}; check out that commit (for pull requests `ref: ${{{{ github.event.pull_request.head.sha }}}}`) or set `source-date-epoch`"
            );
            step.console
                .warning(&message, &Annotation::titled("ticgen: commit time unknown"));
            None
        }
    };
    let semver = manifest.version.semver();
    let tic = tags::tic(&semver, &git)
        .map_err(|error| ActionError::input("manifest", error.to_string()))?;
    let source = context
        .repository
        .as_ref()
        .map(|repo| format!("{}/{repo}", context.server_url.trim_end_matches('/')));
    let labels = tags::labels(&tags::LabelFacts {
        manifest: &manifest,
        tic: &tic,
        sha: &git.sha,
        source,
        created: commit_time,
    });
    let tags = tags::tags(
        &tic,
        &manifest.version,
        &git.build,
        settings.aliases,
        settings.image.as_deref(),
    );
    let report = Report {
        semver,
        tic,
        tags,
        labels,
        commit_time,
        aliases: settings.aliases,
        manifest,
        git,
    };
    report.log(&mut step.console);
    summary::write(&report, &mut step.summary);
    Ok(report.outputs())
}

fn context_error(error: ContextError) -> ActionError {
    match error.origin {
        Origin::Input(input) => ActionError::input(input, error.message),
        Origin::Env(variable) => ActionError::environment(variable, error.message),
    }
}

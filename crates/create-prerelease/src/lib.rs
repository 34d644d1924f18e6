//! `create-prerelease`: turns a tag into a GitHub release (a prerelease by default), idempotently:
//! created when missing, a no-op when an identical one exists, an error on drift unless told to
//! update. The body carries an origin marker that auto-deploy can verify.

mod plan;
mod settings;
mod summary;
mod template;

use gantry_github::{Client, Workflow};
use gantry_runner::{ActionError, ActionSpec, InputSpec, OutputSpec, Outputs, Step};

pub use settings::Settings;

/// Inputs and outputs of `create-prerelease`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "create-prerelease",
    title: "Create a GitHub prerelease for a tag, idempotently",
    description: "Creates the GitHub release for a pushed tag (a prerelease by default), with an origin marker that \
                  names the workflow run, so deploy steps can tell a pipeline release from a hand-made one. A re-run \
                  finds the identical release and changes nothing; a differing release is an error unless \
                  on-existing is update.",
    inputs: &[
        InputSpec::secret(
            "token",
            "${{ github.token }}",
            "Token that creates the release. Releases created with the workflow's own GITHUB_TOKEN trigger no other workflows (no on: release); pass a GitHub App or bot token when a deploy workflow must start",
        ),
        InputSpec::optional(
            "tag",
            "",
            "Tag to release. Empty: the pushed tag (GITHUB_REF_NAME on a tag push)",
        ),
        InputSpec::optional(
            "tag-prefix",
            "v",
            "What a tag may carry before the version, as ticgen's tag-prefix: with v, tag v1.2.3 or 1.2.3 releases version 1.2.3; api-v for per-service tags in a monorepo (api-v2.4.0rc1). {version} and prerelease: auto read the version after it",
        ),
        InputSpec::optional(
            "tag-pattern",
            "",
            "Regular expression the tag must match. Empty: tag-prefix (optional) followed by a version, SemVer (1.2.3-rc.1) or PEP 440 (1.2.3rc1)",
        ),
        InputSpec::optional(
            "prerelease",
            "true",
            "true: mark the release as a prerelease; false: a full release; auto: a prerelease only when the version after tag-prefix has a pre-release part (-rc.1, -beta, 1.0a1, 1.0.dev3, -pr.7)",
        ),
        InputSpec::optional(
            "name",
            "{tag}",
            "Release title template. Placeholders: {tag}, {version} (tag without tag-prefix), {repository}, {sha}",
        ),
        InputSpec::optional(
            "body",
            "",
            "Release notes template (same placeholders as name). Empty: GitHub's generated notes when generate-notes is true, else no notes",
        ),
        InputSpec::optional(
            "generate-notes",
            "true",
            "Use GitHub's generated release notes when body is empty",
        ),
        InputSpec::optional(
            "on-existing",
            "fail",
            "What to do when a release for the tag exists and differs (title, prerelease flag, draft, notes from a body template, or no origin marker): fail (say how it differs) or update (make it match). An identical release is always left alone",
        ),
        InputSpec::optional(
            "make-latest",
            "legacy",
            "GitHub's make_latest for full releases: true, false or legacy (latest by date and version). Prereleases are never latest",
        ),
        InputSpec::optional(
            "repository",
            "",
            "owner/name of the repository. Empty: GITHUB_REPOSITORY",
        ),
        InputSpec::optional(
            "timeout",
            "5m",
            "Overall deadline for all API calls, retries included",
        ),
    ],
    outputs: &[
        OutputSpec::new("release-id", "Numeric id of the release"),
        OutputSpec::new("html-url", "Web page of the release"),
        OutputSpec::new("upload-url", "Asset upload URL template of the release"),
        OutputSpec::new("tag", "The released tag"),
        OutputSpec::new("prerelease", "true when the release is a prerelease"),
        OutputSpec::new(
            "created",
            "true when this run created the release; false when an identical one existed or one was updated",
        ),
        OutputSpec::new(
            "updated",
            "true when an existing, differing release was updated (on-existing: update)",
        ),
    ],
};

/// Runs the action.
pub fn run(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let settings = Settings::from_step(step)?;
    let client: Client<Workflow> = Client::new(settings.client.clone(), &settings.token)
        .map_err(|error| ActionError::Failed(error.into()))?;
    let runtime = gantry_runner::runtime()?;
    step.console.info(&format!(
        "Releasing {} in {} with {}",
        settings.tag,
        settings.repo,
        client.api_url()
    ));
    let cancellation = step.cancellation();
    let released = runtime.block_on(plan::release(&client, &settings, &cancellation));
    client.rate_limit_log().warn(&mut step.console);
    let outcome = match released {
        Ok(outcome) => outcome,
        Err(error) => {
            if cancellation.is_cancelled() {
                step.summary
                    .heading(
                        2,
                        &format!("create-prerelease: cancelled ({})", settings.tag),
                    )
                    .paragraph(&gantry_runner::summary::escape_cell(&error.full_message()));
            }
            return Err(error);
        }
    };
    let release = &outcome.release;
    let verb = match outcome.action {
        plan::Action::Created => "created",
        plan::Action::Unchanged => "exists and is identical; nothing to do for",
        plan::Action::Updated => "updated",
    };
    step.console.info(&format!(
        "Release {verb} {} (id {}, prerelease {}): {} ({} API requests)",
        release.tag_name,
        release.id,
        release.prerelease,
        release.html_url,
        client.stats().requests
    ));
    summary::write(step, &settings, &outcome, client.stats());
    if outcome
        .release
        .author
        .as_ref()
        .is_some_and(|author| author.login == "github-actions[bot]")
    {
        step.console.warning(
            summary::GITHUB_TOKEN_WARNING,
            &gantry_runner::Annotation::titled("create-prerelease"),
        );
    }
    let mut outputs = Outputs::new();
    outputs
        .set("release-id", release.id.to_string())
        .set("html-url", release.html_url.clone())
        .set("upload-url", release.upload_url.clone())
        .set("tag", release.tag_name.clone())
        .set("prerelease", release.prerelease.to_string())
        .set(
            "created",
            (outcome.action == plan::Action::Created).to_string(),
        )
        .set(
            "updated",
            (outcome.action == plan::Action::Updated).to_string(),
        );
    if cancellation.is_cancelled() {
        // The write finished within the window: the release is whole, and the step still reports
        // the cancellation.
        let error = cancellation.error(format!(
            "the release for {} is whole ({}), nothing is half-made: {}",
            release.tag_name,
            match outcome.action {
                plan::Action::Created => "created by this run",
                plan::Action::Unchanged => "it existed already",
                plan::Action::Updated => "updated by this run",
            },
            release.html_url
        ));
        step.summary
            .paragraph(&gantry_runner::summary::escape_cell(&format!("{error}")));
        return Err(ActionError::refused(outputs, error));
    }
    Ok(outputs)
}

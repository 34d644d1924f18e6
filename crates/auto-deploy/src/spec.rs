//! The declaration of auto-deploy's inputs and outputs, from which `action.yml`, the CLI and the
//! README tables are generated.

use gantry_runner::{ActionSpec, InputSpec, OutputSpec};

/// Inputs and outputs of `auto-deploy`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "auto-deploy",
    title: "Deploy a prerelease through the landing-zone repository",
    description: "Bumps the image version in an env file of the landing-zone (GitOps) repository through a pull \
                  request, mirrors the landing-zone checks onto the release commit, waits for them, has the bot \
                  approve and merge the validated head, verifies the deployed version over HTTP, then cleans up and \
                  promotes the prerelease. A lock per env file serialises deploys; a re-run continues where the last \
                  run stopped.",
    inputs: &[
        InputSpec::secret(
            "token",
            "${{ github.token }}",
            "Workflow token: reads both repositories, pushes the deploy branch, opens and closes pull requests, comments, mirrors check runs, records the deployment and promotes the release. Needs contents, pull-requests and checks write on the landing zone and the source repository, and deployments write on the source repository (record-deployment)",
        ),
        InputSpec::secret(
            "bot-token",
            "",
            "Bot token that approves and merges the pull request (only that). Must be another identity than token, since an author cannot approve its own pull request. Required unless skip-merge",
        ),
        InputSpec::required(
            "landing-zone-repo",
            "owner/name of the landing-zone (GitOps) repository holding the env files",
        ),
        InputSpec::optional(
            "base-branch",
            "main",
            "Branch of the landing zone that deploys are merged into",
        ),
        InputSpec::optional(
            "env-file",
            "deploy/preprod.env",
            "Env file updated by default (the pre-production environment)",
        ),
        InputSpec::optional(
            "prod-env-file",
            "deploy/prod.env",
            "Env file updated when skip-merge is true (production: the pull request is left for people to merge)",
        ),
        InputSpec::optional(
            "version-key",
            "IMAGE_VERSION",
            "Variable set in the env file, as export KEY=value; it must appear exactly once",
        ),
        InputSpec::optional(
            "tag",
            "",
            "Release tag to deploy. Empty: the release of the event payload, else the pushed tag",
        ),
        InputSpec::optional(
            "image-version",
            "",
            "Value written to version-key. Empty: the tag",
        ),
        InputSpec::optional(
            "repository",
            "",
            "owner/name of the source repository (the release and its tag). Empty: GITHUB_REPOSITORY",
        ),
        InputSpec::optional(
            "require-automated-origin",
            "true",
            "Refuse a release the pipeline did not make: it must carry create-prerelease's origin marker for this repository and tag commit, and be authored by one of release-authors (which must then be set)",
        ),
        InputSpec::optional(
            "release-authors",
            "",
            "Logins allowed to author the release, comma- or newline-separated: a GitHub App as slug[bot] (release-bot[bot]), a machine user by its login. Required when require-automated-origin is true; whenever set, a release by anyone else is refused",
        ),
        InputSpec::optional(
            "release-branch",
            "",
            "Branch of the source repository the tag's commit must be on (reachable from its head); a tag on any other commit is refused. Empty: the repository's default branch",
        ),
        InputSpec::optional(
            "skip-merge",
            "false",
            "Open the pull request on prod-env-file, wait for its checks and stop (result pr-open)",
        ),
        InputSpec::optional(
            "allow-downgrade",
            "false",
            "Allow writing a version lower than the one in the env file",
        ),
        InputSpec::optional(
            "merge-method",
            "squash",
            "How the bot merges: squash, merge or rebase",
        ),
        InputSpec::optional(
            "required-checks",
            "",
            "Check names (one per line) that must appear on the pull request before it counts as validated; every check that appears must pass either way",
        ),
        InputSpec::optional(
            "deploy-branch-prefix",
            "deploy/",
            "Start of every deploy branch's name in the landing zone (<prefix><env file>/<tag>); exempt it from rulesets that restrict branch creation or updates",
        ),
        InputSpec::optional(
            "lock-branch-prefix",
            "gantry-lock/",
            "Start of every lock branch's name in the landing zone (<prefix><env file>); exempt it from rulesets that restrict branch creation, updates or deletion, and from the landing zone's CI triggers",
        ),
        InputSpec::optional(
            "delete-branch",
            "true",
            "Delete the deploy branch after the merge",
        ),
        InputSpec::optional(
            "promote-release",
            "true",
            "Turn the prerelease into a full release after a verified deploy",
        ),
        InputSpec::optional(
            "verify-url",
            "",
            "URL polled after the merge until it shows the new version. Empty: no verification",
        ),
        InputSpec::optional(
            "verify-match",
            "/version",
            "Where the version shows in the verify-url response: a JSON pointer (starting with /) whose value must be it, or a regular expression whose first group (or whole match) must be it. Compared as versions: the PEP 440, SemVer and OCI tag spellings of one version match (2.4.0rc1 is 2.4.0-rc.1)",
        ),
        InputSpec::optional(
            "verify-consecutive",
            "2",
            "Consecutive matching responses needed to count the deploy as verified",
        ),
        InputSpec::optional(
            "verify-timeout",
            "10m",
            "How long to poll verify-url (within timeout)",
        ),
        InputSpec::optional(
            "record-deployment",
            "true",
            "Record the deploy as a GitHub deployment of the tag's commit in the source repository, so its Deployments page and pull requests show where each version runs: in_progress when it starts, success (with environment-url and this run's URL) once merged and verified, failure with the reason, queued with skip-merge; the deployments it replaced become inactive. A re-run continues the same deployment. token then needs deployments: write on the source repository; a refusal is a warning, never a failed deploy",
        ),
        InputSpec::optional(
            "deployment-environment",
            "",
            "Environment the deployment is recorded in (A-Z a-z 0-9 . _ -). Empty: the env file's name without directory and extension (deploy/preprod.env → preprod), as the k8s-deploy workflow names its environments",
        ),
        InputSpec::optional(
            "environment-url",
            "",
            "URL of the environment, shown on the successful deployment (environment_url). Empty: none",
        ),
        InputSpec::optional(
            "timeout",
            "30m",
            "Overall deadline for the whole deploy, waits and retries included; keep it below the job's timeout-minutes",
        ),
    ],
    outputs: &[
        OutputSpec::new(
            "result",
            "deployed, unchanged (the env file already had the version), pr-open (skip-merge), closed (this release's pull request was closed without a merge: not opened again) or failed",
        ),
        OutputSpec::new("pr-number", "Number of the landing-zone pull request"),
        OutputSpec::new("pr-url", "Web page of the landing-zone pull request"),
        OutputSpec::new("merge-sha", "Commit the merge made on the base branch"),
        OutputSpec::new(
            "previous-version",
            "Version in the env file before the deploy",
        ),
        OutputSpec::new("deployed-version", "Version written to the env file"),
        OutputSpec::new(
            "verified",
            "true when verify-url showed the version, false when it did not, skipped without verify-url",
        ),
        OutputSpec::new(
            "checks",
            "JSON array of the landing-zone checks: name, status, conclusion, url",
        ),
    ],
};

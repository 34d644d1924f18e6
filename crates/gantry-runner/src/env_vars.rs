//! The one catalogue of every environment variable the suite reads, each documented.
//!
//! Nothing outside [`crate::env`] reads the process environment, and nothing reads a variable that
//! is not named here, so this file is the complete answer to "what does the suite look at?".

/// Set to `true` by the runner for every step; tells a binary it runs inside GitHub Actions.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// Path of the file that collects step outputs (`name<<DELIM` heredocs). Required inside Actions.
pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
/// Path of the Markdown step summary file; appended to, at most 1 MiB per step.
pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// `owner/name` of the repository the workflow runs in.
pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
/// Commit SHA that triggered the workflow (for `pull_request`, the merge commit, not the PR head).
pub const GITHUB_SHA: &str = "GITHUB_SHA";
/// Fully-formed ref that triggered the workflow, e.g. `refs/tags/v1.2.3` or `refs/pull/7/merge`.
pub const GITHUB_REF: &str = "GITHUB_REF";
/// Short ref name, e.g. `v1.2.3`, `main` or `7/merge`.
pub const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";
/// `branch` or `tag`.
pub const GITHUB_REF_TYPE: &str = "GITHUB_REF_TYPE";
/// Source branch of a pull request (set only for `pull_request` events).
pub const GITHUB_HEAD_REF: &str = "GITHUB_HEAD_REF";
/// Target branch of a pull request (set only for `pull_request` events).
pub const GITHUB_BASE_REF: &str = "GITHUB_BASE_REF";
/// Name of the event that triggered the workflow, e.g. `push`, `pull_request`, `release`.
pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
/// Path of the JSON file holding the full webhook event payload.
pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
/// REST API base URL, e.g. `https://api.github.com` or a GitHub Enterprise Server `…/api/v3`.
pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
/// Web base URL, e.g. `https://github.com`; used to build links to runs and commits.
pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
/// Unique number of the workflow run; stable across re-runs.
pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
/// Attempt number of this run, starting at 1; increases on re-runs.
pub const GITHUB_RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";
/// Name of the workflow.
pub const GITHUB_WORKFLOW: &str = "GITHUB_WORKFLOW";
/// Job id of the current job.
pub const GITHUB_JOB: &str = "GITHUB_JOB";
/// Login of the user or app that triggered the run.
pub const GITHUB_ACTOR: &str = "GITHUB_ACTOR";
/// Default working directory of steps, where `actions/checkout` puts the repository.
pub const GITHUB_WORKSPACE: &str = "GITHUB_WORKSPACE";
/// `1` when step debug logging is on; enables `::debug::` lines.
pub const RUNNER_DEBUG: &str = "RUNNER_DEBUG";
/// Operating system of the runner: `Linux`, `Windows` or `macOS`.
pub const RUNNER_OS: &str = "RUNNER_OS";
/// Architecture of the runner: `X64`, `ARM64`, …
pub const RUNNER_ARCH: &str = "RUNNER_ARCH";
/// Per-job scratch directory, emptied after each job.
pub const RUNNER_TEMP: &str = "RUNNER_TEMP";
/// Reproducible-builds convention: seconds since the epoch to use instead of the wall clock.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Proxy for HTTPS requests (corporate runners); the lower-case spelling is read too.
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Lower-case spelling of [`HTTPS_PROXY`], which many tools set instead.
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// Hosts that bypass the proxy; the lower-case spelling is read too.
pub const NO_PROXY: &str = "NO_PROXY";
/// Lower-case spelling of [`NO_PROXY`].
pub const NO_PROXY_LOWER: &str = "no_proxy";
/// The trust store, as OpenSSL reads it: a PEM bundle that replaces the system roots (a private
/// corporate CA together with the public roots).
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// A GitHub token for `gantry dora` (read first, as the GitHub CLI reads it).
pub const GH_TOKEN: &str = "GH_TOKEN";
/// A GitHub token for `gantry dora` when [`GH_TOKEN`] is not set (a workflow's `GITHUB_TOKEN`
/// passed through `env:`; the runner does not set it by itself).
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";

/// Set by Kubernetes inside a pod: the API server's address. Read by kube-rs itself (not through
/// [`crate::env::Env`]) when k8s-deploy is given no kubeconfig and falls back to in-cluster config.
pub const KUBERNETES_SERVICE_HOST: &str = "KUBERNETES_SERVICE_HOST";
/// Set by Kubernetes inside a pod: the API server's port; read by kube-rs like the host.
pub const KUBERNETES_SERVICE_PORT: &str = "KUBERNETES_SERVICE_PORT";

/// Prefix of every action input: `with: {dry-run: x}` arrives as `INPUT_DRY-RUN`.
pub const INPUT_PREFIX: &str = "INPUT_";

/// Every variable named above except the `INPUT_*` family, for documentation and tests.
pub const ALL: &[&str] = &[
    GITHUB_ACTIONS,
    GITHUB_OUTPUT,
    GITHUB_STEP_SUMMARY,
    GITHUB_REPOSITORY,
    GITHUB_SHA,
    GITHUB_REF,
    GITHUB_REF_NAME,
    GITHUB_REF_TYPE,
    GITHUB_HEAD_REF,
    GITHUB_BASE_REF,
    GITHUB_EVENT_NAME,
    GITHUB_EVENT_PATH,
    GITHUB_API_URL,
    GITHUB_SERVER_URL,
    GITHUB_RUN_ID,
    GITHUB_RUN_ATTEMPT,
    GITHUB_WORKFLOW,
    GITHUB_JOB,
    GITHUB_ACTOR,
    GITHUB_WORKSPACE,
    RUNNER_DEBUG,
    RUNNER_OS,
    RUNNER_ARCH,
    RUNNER_TEMP,
    SOURCE_DATE_EPOCH,
    HTTPS_PROXY,
    HTTPS_PROXY_LOWER,
    NO_PROXY,
    NO_PROXY_LOWER,
    SSL_CERT_FILE,
    GH_TOKEN,
    GITHUB_TOKEN,
    KUBERNETES_SERVICE_HOST,
    KUBERNETES_SERVICE_PORT,
];

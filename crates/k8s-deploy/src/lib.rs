//! `k8s-deploy`: sets a Deployment's container image (a server-side dry-run on pull requests, or a
//! read-only client-side diff), never behind a newer landing-zone commit already deployed, watches
//! the rollout with kubectl's rules and the new pods' states, fails fast on states that do not
//! heal, rolls back to the revision recorded before the patch with a compare-and-swap, and
//! verifies that the pods run the image.

pub mod analysis;
mod blue_green;
mod canary;
mod derived;
mod envfile;
mod flow;
mod names;
mod record;
mod settings;
mod strategy;
mod summary;
mod timeline;

use std::time::Instant;

use gantry_github::DeploymentState;
use gantry_kube::kubeconfig;
use gantry_runner::{ActionError, ActionSpec, InputSpec, OutputSpec, Outputs, Secret, Step};

pub use settings::{DryRun, Settings};

use crate::flow::{Conclusion, Report};
use crate::strategy::Strategy;
use crate::timeline::Timeline;

/// Inputs and outputs of `k8s-deploy`.
pub static SPEC: ActionSpec = ActionSpec {
    name: "k8s-deploy",
    title: "Deploy an image to a Kubernetes Deployment, verify it, roll back safely",
    description: "Sets the image of one container of a Deployment (or of several Deployments, rolled out as one) and watches the rollout: kubectl's rules plus the \
                  new pods' states, so ErrImagePull, CrashLoopBackOff and friends fail it in seconds rather than at \
                  the progress deadline. Verifies that every ready pod runs the image. On failure it rolls back to \
                  the revision recorded before the patch, unless someone else changed the Deployment meanwhile, \
                  and verifies the rollback. On pull requests it only runs a server-side dry-run; dry-run: client \
                  needs only read access. With source-sequence it never deploys over a newer landing-zone commit.",
    inputs: &[
        InputSpec::secret(
            "kubeconfig",
            "",
            "Kubeconfig as YAML content, base64 of it, or a file path (a secret; masked). Empty: the in-cluster service account",
        ),
        InputSpec::optional(
            "context",
            "",
            "Kubeconfig context to use. Empty: KUBE_CONTEXT from env-file, else the kubeconfig's current-context",
        ),
        InputSpec::optional(
            "namespace",
            "",
            "Namespace of the Deployments. Empty: NAMESPACE from env-file, else the context's namespace, else default",
        ),
        InputSpec::optional(
            "deployment",
            "",
            "The Deployment, or several rolled out as one: NAME[:CONTAINER] items separated by commas (api-web or api-web:app,api-grpc:server; spaces around items allowed, each name once). Empty: the first of DEPLOYMENTS, DEPLOYMENT_NAME, DEPLOYMENT and NAME from env-file that is set, read with the same grammar",
        ),
        InputSpec::optional(
            "container",
            "",
            "Container to update in each Deployment that names none in its item. Empty: CONTAINER from env-file, else the only container, or the only one whose image repository matches the new image (init containers are never updated)",
        ),
        InputSpec::optional(
            "image",
            "",
            "Full image reference to deploy (registry.example/app:1.4.0). Alternative to image-name and version",
        ),
        InputSpec::optional(
            "image-name",
            "",
            "Image repository; with version it makes the image. Empty: IMAGE_NAME from env-file",
        ),
        InputSpec::optional(
            "version",
            "",
            "Image tag (or sha256 digest); with image-name it makes the image. Empty: the version-key variable from env-file",
        ),
        InputSpec::optional(
            "version-key",
            "IMAGE_VERSION",
            "Env-file variable holding the version (IMAGE_TAG, say)",
        ),
        InputSpec::optional(
            "env-file",
            "",
            "Landing-zone env file (NAME=value lines, export optional, quotes and comments allowed): IMAGE_NAME, the version-key variable, DEPLOYMENTS (or DEPLOYMENT_NAME, DEPLOYMENT, NAME), CONTAINER, NAMESPACE, KUBE_CONTEXT. Inputs win over its values",
        ),
        InputSpec::optional(
            "dry-run",
            "auto",
            "false: deploy; true or server: only a server-side dry-run of the patch (needs patch rights), with a before/after table; client: only read the Deployment (get) and show the change applied locally, not checked by the server; auto: server on pull_request and pull_request_target events, else false",
        ),
        InputSpec::optional(
            "source-sequence",
            "",
            "Position of the landing-zone commit the values come from along its base branch (git rev-list --count --first-parent HEAD). Recorded as gantry.dev/source-sequence with the image; a Deployment that records a higher one is left alone (result superseded). Needs source-revision",
        ),
        InputSpec::optional(
            "source-revision",
            "",
            "SHA of that landing-zone commit, recorded as gantry.dev/source-revision. Needs source-sequence",
        ),
        InputSpec::optional(
            "timeout",
            "10m",
            "How long to wait for each rollout (the deploy, then the rollback)",
        ),
        InputSpec::optional(
            "fail-fast",
            "true",
            "Fail as soon as a new pod is in a state that does not heal (ErrImagePull, ImagePullBackOff, InvalidImageName, CreateContainerConfigError, CrashLoopBackOff after 2 restarts, unschedulable beyond unschedulable-grace) or the ReplicaSet cannot create pods; false: only kubectl's rules and the progress deadline",
        ),
        InputSpec::optional(
            "unschedulable-grace",
            "60s",
            "With fail-fast, how long a new pod may stay unschedulable (waiting for capacity, or a cluster autoscaler) before the rollout fails",
        ),
        InputSpec::optional(
            "rollback",
            "true",
            "On failure, roll back to the revision recorded before the patch (not if someone else changed the Deployment meanwhile) and verify the rollback",
        ),
        InputSpec::optional(
            "soak",
            "",
            "After success, a period (such as 60s) in which no new pod may restart; a restart fails the deploy",
        ),
        InputSpec::optional(
            "strategy",
            "rolling",
            "rolling: the Deployment's own rolling update; canary: a <name>-canary Deployment with the new image grown through steps, then the rolling update, the canary removed (a failed step removes it and changes nothing else); blue-green: a full-size <name>-green Deployment, the Service's selector switched to it, the old pods kept for rollback-window, then the rolling update, the selector switched back and green removed. canary and blue-green take one Deployment whose selector is matchLabels only",
        ),
        InputSpec::optional(
            "steps",
            "",
            "With strategy canary: a YAML list of steps, each weight (the canary's replicas in percent of the Deployment's, rounded up, at least 1; 1 to 100, increasing), pause (optional duration held once the canary's pods are ready and analysed) and analysis (optional, as the analysis input: measured once the canary's pods are ready; a failed one fails the step), such as [{weight: 25, pause: 5m}, {weight: 50, pause: 5m}]",
        ),
        InputSpec::optional(
            "analysis",
            "",
            "With strategy blue-green: an analysis (YAML) of green once it is ready, before the switch; a failed one removes green. prometheus: {address, query} or http: {url, status, json-pointer}, success-condition (such as result < 0.01), interval, count, failure-limit, inconclusive-limit, consecutive-error-limit, initial-delay; {{image}}, {{version}}, {{namespace}}, {{deployment}} and {{canary}} (the canary or green Deployment) in the query or URL are substituted. A canary takes one per step, under steps",
        ),
        InputSpec::optional(
            "service",
            "",
            "The Service in front of the Deployment. blue-green switches its selector; empty: the one Service of the namespace whose selector picks the Deployment's pods (none or several: the step fails before any write). canary checks that it selects the canary's pods too",
        ),
        InputSpec::optional(
            "rollback-window",
            "5m",
            "With strategy blue-green: how long the old pods stay ready to take the traffic back after the switch",
        ),
        InputSpec::optional(
            "change-cause",
            "",
            "kubernetes.io/change-cause annotation. Empty: k8s-deploy set <image> (<run URL>)",
        ),
        InputSpec::optional(
            "provenance",
            "true",
            "Annotate the Deployment with gantry.dev/run-url, source-sha, source-ref and image in the same patch",
        ),
        InputSpec::optional(
            "record-deployment",
            "true",
            "Record the deploy as a GitHub deployment of this run's commit (GITHUB_SHA, ref GITHUB_REF_NAME) in this run's repository, so its Deployments page and pull requests show where each version runs and gantry dora counts it: in_progress once connected, success (with environment-url and this run's URL) when deployed or already running, failure when it failed or was rolled back, error when nothing was deployed or it was cancelled (the reason says what was left), inactive when superseded or cancelled and rolled back. Dry-runs are not recorded. A re-run continues the same deployment. github-token then needs deployments: write; a refusal is a warning, never a failed deploy. A job that names an environment already gets a deployment from GitHub: set record-deployment: false there, or environment.deployment: false on the job",
        ),
        InputSpec::secret(
            "github-token",
            "${{ github.token }}",
            "GitHub token that records the deployment (deployments: write on this run's repository); used for nothing else",
        ),
        InputSpec::optional(
            "deployment-environment",
            "",
            "Environment the deployment is recorded in (A-Z a-z 0-9 . _ -). Empty: the env file's name without directory and extension (deploy/preprod.env → preprod), else the namespace",
        ),
        InputSpec::optional(
            "environment-url",
            "",
            "URL of the environment, shown on the successful deployment (environment_url). Empty: none",
        ),
    ],
    outputs: &[
        OutputSpec::new(
            "result",
            "deployed, unchanged (already ran the image, rollout complete and healthy), dry-run, superseded (the Deployment records a newer source-sequence; nothing changed), rolled-back (failed or cancelled, then rolled back and verified), failed or cancelled",
        ),
        OutputSpec::new(
            "previous-image",
            "Image of the container before the deploy (of the first Deployment)",
        ),
        OutputSpec::new("image", "Image the deploy set"),
        OutputSpec::new(
            "image-digest",
            "The sha256 digest the ready pods (of the first Deployment) run: the one the image names, or the one its tag resolved to (all pods agree, or the deploy fails)",
        ),
        OutputSpec::new(
            "revision",
            "Revision of the first Deployment at the end (a rollback gives the restored template a new number)",
        ),
        OutputSpec::new(
            "rollback-revision",
            "Revision the rollback of the first Deployment restored (set when it was rolled back)",
        ),
        OutputSpec::new(
            "deployments",
            "JSON array, one object per Deployment in the order named: namespace, name, container, result, previous-image, image-digest, revision, rollback-revision (numbers or null), failure-reason",
        ),
        OutputSpec::new(
            "failure-reason",
            "Why the deploy failed, and what happened next",
        ),
        OutputSpec::new("duration-ms", "Wall time of the step in milliseconds"),
    ],
};

/// Runs the action.
pub fn run(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let started = Instant::now();
    let settings = Settings::from_step(step)?;
    let runtime = gantry_runner::runtime()?;
    let mut timeline = Timeline::starting_at(started);
    let Deployed {
        target,
        result,
        recorded,
    } = runtime.block_on(execute(step, &settings, &mut timeline))?;
    let target = target.as_str();
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            let message = format!("failed to deploy to {target}: {}", flow::chain(&error));
            if let gantry_kube::Error::NoSuchContainer { .. }
            | gantry_kube::Error::AmbiguousContainer { .. } = error
            {
                return Err(ActionError::input("container", message));
            }
            step.summary
                .heading(2, &format!("k8s-deploy: nothing deployed to {target}"))
                .paragraph(&gantry_runner::summary::escape_cell(&message));
            if let Some(recorded) = &recorded {
                step.summary
                    .paragraph(&format!("GitHub deployment {recorded}"));
            }
            let mut outputs = Outputs::new();
            outputs
                .set("result", Conclusion::Failed.as_str())
                .set("image", settings.image.clone())
                .set("failure-reason", message.clone())
                .set("deployments", "[]")
                .set("duration-ms", started.elapsed().as_millis().to_string());
            return Err(ActionError::refused(outputs, anyhow::anyhow!(message)));
        }
    };
    summary::write(
        &mut step.summary,
        target,
        &report,
        &timeline,
        recorded.as_deref(),
    );
    let outputs = outputs(&report, started);
    if report.conclusion.succeeded() {
        return Ok(outputs);
    }
    let failure = report.failure.as_deref().unwrap_or("the rollout failed");
    let message = match (report.cancelled_by, report.conclusion) {
        (Some(signal), _) => format!(
            "deploy of {} to {target} was cancelled ({signal}): {failure}",
            report.image
        ),
        (None, Conclusion::RolledBack) => format!(
            "deploy of {} to {target} failed and was rolled back: {failure}",
            report.image
        ),
        (None, _) => format!("deploy of {} to {target} failed: {failure}", report.image),
    };
    Err(ActionError::refused(outputs, anyhow::anyhow!(message)))
}

/// What [`execute`] did.
struct Deployed {
    /// How the messages name the set (`prod/web`, or `prod/api-web, prod/api-grpc`).
    target: String,
    result: Result<Report, gantry_kube::Error>,
    /// What the summary says of the GitHub deployment record; `None` when not recording.
    recorded: Option<String>,
}

/// Connects (masking the kubeconfig's credentials first), runs the deploy and records it.
async fn execute(
    step: &mut Step<'_>,
    settings: &Settings,
    timeline: &mut Timeline,
) -> Result<Deployed, ActionError> {
    let loaded = match &settings.kubeconfig {
        Some(kubeconfig) => {
            let source = kubeconfig::read(kubeconfig.expose())
                .map_err(|error| ActionError::input("kubeconfig", error.to_string()))?;
            // Masked the moment they are read: before parsing, whose errors could show them.
            for secret in source.secrets() {
                step.console.add_mask(&Secret::new(secret.clone()));
            }
            source
                .load(settings.context.as_deref(), &settings.network)
                .await
                .map_err(|error| match error {
                    kubeconfig::KubeconfigError::NoContext(_) => {
                        ActionError::input("context", error.to_string())
                    }
                    kubeconfig::KubeconfigError::Proxy(origin @ "HTTPS_PROXY") => {
                        ActionError::environment(origin, "is not a URL; set it as http://host:port")
                    }
                    _ => ActionError::input("kubeconfig", error.to_string()),
                })?
        }
        None if settings.context.is_some() => {
            return Err(ActionError::input(
                "context",
                "needs a kubeconfig; set kubeconfig too, or leave context empty for in-cluster access",
            ));
        }
        None => kubeconfig::in_cluster(&settings.network).map_err(|error| {
            ActionError::input(
                "kubeconfig",
                format!("is empty, and in-cluster access failed: {error}"),
            )
        })?,
    };
    let namespace = settings
        .namespace
        .clone()
        .unwrap_or_else(|| loaded.config.default_namespace.clone());
    let target = settings
        .deployments
        .iter()
        .map(|deployment| format!("{namespace}/{}", deployment.name))
        .collect::<Vec<_>>()
        .join(", ");
    step.console.info(&format!(
        "{} {} to {target} at {}{}{}",
        if settings.dry_run.is_some() {
            "Dry-running"
        } else {
            "Deploying"
        },
        settings.image,
        loaded.config.cluster_url,
        match settings.dry_run {
            Some(DryRun::Server) => " (server-side dry-run)",
            Some(DryRun::Client) => " (client-side: reads only, the change is applied locally)",
            None => "",
        },
        settings
            .source
            .as_ref()
            .map(|source| format!(" from source {source}"))
            .unwrap_or_default(),
    ));
    let client = gantry_kube::client(loaded.config)
        .map_err(|error| ActionError::Failed(anyhow::anyhow!(flow::chain(&error))))?;
    let recorder = match &settings.record {
        Some(record) => record::start(record, &namespace, &settings.image, &mut step.console).await,
        None => None,
    };
    let mut cx = derived::Context {
        client: &client,
        namespace: &namespace,
        settings,
        cancellation: step.cancellation(),
        console: &mut step.console,
        timeline,
    };
    // Boxed: the strategies' state machines are large futures.
    let result = match &settings.strategy {
        Strategy::Rolling => Ok(cx.rolling().await),
        Strategy::Canary(steps) => Box::pin(canary::run(cx, steps)).await,
        Strategy::BlueGreen {
            rollback_window,
            analysis,
        } => Box::pin(blue_green::run(cx, *rollback_window, analysis.as_ref())).await,
    };
    let recorded = match (recorder, &settings.record) {
        (Some(recorder), _) => {
            Some(record::finish(recorder, deployment_status(&result), &mut step.console).await)
        }
        (None, Some(_)) => Some(record::NOT_RECORDED.to_owned()),
        (None, None) => None,
    };
    Ok(Deployed {
        target,
        result: result?,
        recorded,
    })
}

fn outputs(report: &Report, started: Instant) -> Outputs {
    let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    let first = report.first();
    let deployments: Vec<_> = report
        .deployments
        .iter()
        .map(flow::DeploymentReport::to_json)
        .collect();
    let mut outputs = Outputs::new();
    outputs
        .set("result", report.conclusion.as_str())
        .set("previous-image", first.previous_image.clone())
        .set("image", report.image.clone())
        .set("image-digest", first.digest.clone().unwrap_or_default())
        .set("revision", optional(first.revision))
        .set("rollback-revision", optional(first.rollback_revision))
        .set("failure-reason", report.failure.clone().unwrap_or_default())
        .set(
            "deployments",
            serde_json::Value::from(deployments).to_string(),
        )
        .set("duration-ms", started.elapsed().as_millis().to_string());
    outputs
}

/// The GitHub deployment status that says how the deploy ended, and why.
fn deployment_status(
    result: &Result<Result<Report, gantry_kube::Error>, ActionError>,
) -> (DeploymentState, String) {
    let report = match result {
        Ok(Ok(report)) => report,
        Err(refused) => return (DeploymentState::Error, format!("refused: {refused}")),
        Ok(Err(error)) => {
            return (
                DeploymentState::Error,
                format!("nothing deployed: {}", flow::chain(error)),
            );
        }
    };
    let failure = report.failure.as_deref().unwrap_or("the rollout failed");
    match (report.conclusion, report.cancelled_by) {
        (Conclusion::Deployed, _) => (
            DeploymentState::Success,
            format!("{} deployed and verified", report.image),
        ),
        (Conclusion::Unchanged, _) => (
            DeploymentState::Success,
            format!("{} already running", report.image),
        ),
        (Conclusion::RolledBack, Some(signal)) => (
            DeploymentState::Inactive,
            format!("cancelled ({signal}) and rolled back: {failure}"),
        ),
        (Conclusion::RolledBack, None) => {
            (DeploymentState::Failure, format!("rolled back: {failure}"))
        }
        (Conclusion::Failed, _) => (DeploymentState::Failure, failure.to_owned()),
        (Conclusion::Cancelled, _) => (DeploymentState::Error, format!("cancelled: {failure}")),
        (Conclusion::Superseded | Conclusion::DryRun, _) => (
            DeploymentState::Inactive,
            format!("{}: {failure}", report.conclusion.as_str()),
        ),
    }
}

//! The deploy as a GitHub deployment in the repository the workflow runs in, on the run's commit
//! (`gantry_github::record` does the requests), so a service that deploys itself with k8s-deploy
//! shows where each version runs and `gantry dora` counts it: `in_progress` once connected, then
//! `success`, `failure` (failed or rolled back), `error` (nothing deployed, or cancelled) or
//! `inactive` (superseded, or cancelled and rolled back: it never deployed). Dry-runs are not
//! recorded. A record, not a gate: every refusal is a warning and the deploy goes on.

use std::time::Duration;

use gantry_github::record::{DeployRecord, Recording, Started, not_recorded};
use gantry_github::{Client, ClientConfig, DeploymentState, RepoName, Workflow, WorkflowToken};
use gantry_runner::{ActionError, Annotation, Console, GithubContext, Inputs, NetworkSettings};
use serde_json::json;

/// How long one record request may take, retries included: a record never holds a deploy up
/// for longer.
const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// Where the deploy is recorded, from `record-deployment`, `github-token`,
/// `deployment-environment` and `environment-url`.
#[derive(Debug)]
pub struct Record {
    recording: Recording,
    /// Neither deployment-environment nor env-file named the environment: it is the namespace,
    /// known once connected.
    named_after_namespace: bool,
    /// `None`: the run cannot be recorded, and this says why.
    run: Result<Run, String>,
}

/// The run's repository, commit and identity.
#[derive(Debug)]
struct Run {
    repo: RepoName,
    sha: String,
    git_ref: String,
    token: WorkflowToken,
    client: ClientConfig,
    log_url: Option<String>,
}

impl Record {
    /// `None` when record-deployment is false or the step only dry-runs.
    pub fn from_inputs(
        inputs: &Inputs,
        env_file: Option<&str>,
        github: &GithubContext,
        network: NetworkSettings,
        dry_run: bool,
    ) -> Result<Option<Self>, ActionError> {
        let named_after_namespace =
            env_file.is_none() && inputs.get("deployment-environment").is_none();
        // The namespace is a DNS label, always an environment name: this one stands in for it.
        let default = env_file.map_or("default", gantry_github::record::environment_of);
        let Some(recording) = gantry_github::record::from_inputs(inputs, default)? else {
            return Ok(None);
        };
        if dry_run {
            return Ok(None);
        }
        let run = match (
            inputs.secret("github-token"),
            github.repository.as_deref().and_then(RepoName::parse),
            github.sha.as_deref(),
        ) {
            (None, _, _) => Err(
                "github-token is empty; pass a token with deployments: write, or set record-deployment: false"
                    .to_owned(),
            ),
            (_, None, _) | (_, _, None) => Err(
                "GITHUB_REPOSITORY and GITHUB_SHA do not name the run's repository and commit"
                    .to_owned(),
            ),
            (Some(token), Some(repo), Some(sha)) => Ok(Run {
                repo,
                sha: sha.to_owned(),
                git_ref: github
                    .ref_name
                    .clone()
                    .unwrap_or_else(|| sha.to_owned()),
                token: WorkflowToken::new(token.clone()),
                client: ClientConfig::for_step(
                    &github.api_url,
                    network,
                    "k8s-deploy",
                    REQUEST_DEADLINE,
                ),
                log_url: github.run_url(),
            }),
        };
        Ok(Some(Self {
            recording,
            named_after_namespace,
            run,
        }))
    }
}

/// A deployment being recorded.
pub struct Recorder {
    client: Client<Workflow>,
    record: DeployRecord,
    started: Started,
}

/// Finds or creates the deployment of the run's commit in the environment and marks it
/// `in_progress`; `None` (with a warning) when GitHub refused or the run cannot be recorded.
pub async fn start(
    record: &Record,
    namespace: &str,
    image: &str,
    console: &mut Console<'_>,
) -> Option<Recorder> {
    let mut recording = record.recording.clone();
    if record.named_after_namespace {
        namespace.clone_into(&mut recording.environment);
    }
    let warn = |console: &mut Console<'_>, why: &str| {
        console.warning(why, &Annotation::titled("k8s-deploy deployment record"));
    };
    let run = match &record.run {
        Ok(run) => run,
        Err(why) => {
            warn(console, &format!("the deploy is not recorded: {why}"));
            return None;
        }
    };
    let client = match Client::new(run.client.clone(), &run.token) {
        Ok(client) => client,
        Err(error) => {
            warn(console, &not_recorded(&run.repo, &error));
            return None;
        }
    };
    let deploy = DeployRecord {
        repo: run.repo.clone(),
        sha: run.sha.clone(),
        git_ref: run.git_ref.clone(),
        recording,
        description: format!("gantry k8s-deploy {image} to {namespace}"),
        payload: json!({ "image": image, "namespace": namespace }),
        log_url: run.log_url.clone(),
    };
    match deploy.start(&client, &format!("deploying {image}")).await {
        Ok(started) => {
            console.info(&format!(
                "{} deployment {} of {} in environment {} of {}",
                if started.reused {
                    "Continuing"
                } else {
                    "Recording"
                },
                started.id,
                run.git_ref,
                deploy.recording.environment,
                run.repo
            ));
            Some(Recorder {
                client,
                record: deploy,
                started,
            })
        }
        Err(error) => {
            warn(console, &not_recorded(&run.repo, &error));
            None
        }
    }
}

/// What the summary says of the record when the deploy could not be recorded.
pub const NOT_RECORDED: &str = "not recorded (see the warning)";

/// Records how the deploy ended: `state`, and `why`. Returns what the summary says of the record.
pub async fn finish(
    recorder: Recorder,
    (state, why): (DeploymentState, String),
    console: &mut Console<'_>,
) -> String {
    let title = Annotation::titled("k8s-deploy deployment record");
    let id = recorder.started.id;
    let record = &recorder.record;
    let recorded = format!(
        "{id} of `{}` in environment `{}` of {}: {}",
        record.git_ref,
        record.recording.environment,
        record.repo,
        state.as_str()
    );
    match record
        .finish(&recorder.client, recorder.started, state, &why)
        .await
    {
        Ok(finished) => {
            console.info(&format!("Deployment {id} is {}", state.as_str()));
            match finished.retired {
                Ok(retired) if !retired.is_empty() => console.info(&format!(
                    "Marked the replaced deployment(s) {retired:?} inactive"
                )),
                Ok(_) => {}
                Err(error) => console.warning(
                    &format!("could not mark the replaced deployments inactive: {error}"),
                    &title,
                ),
            }
            recorded
        }
        Err(error) => {
            console.warning(&not_recorded(&record.repo, &error), &title);
            NOT_RECORDED.to_owned()
        }
    }
}

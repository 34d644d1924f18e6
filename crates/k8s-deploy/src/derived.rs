//! What canary and blue-green share: the Deployment derived from the main one (`<name>-canary`,
//! `<name>-green`: the same spec, the new image, one more label in its selector and pods so the
//! main Deployment never counts them), checked before any write, created or resumed, watched and
//! removed; and the Service in front of them.

use std::collections::BTreeMap;

use gantry_kube::Target;
use gantry_kube::deployment::{self, FIELD_MANAGER};
use gantry_kube::watch::{self, Expectation, Outcome, WaitOptions};
use gantry_runner::cancel::Cancellation;
use gantry_runner::{ActionError, Console};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::analysis::{self, AnalysisError, AnalysisSpec, Measurement, Substitutions};
use crate::flow::{Conclusion, Deploy, DeploymentReport, Report, Stage, chain};
use crate::settings::Settings;
use crate::timeline::Timeline;

/// The label that tells a derived Deployment's pods from the main one's: `canary` or `green`.
pub const TRACK: &str = "gantry.dev/track";
/// On a derived Deployment: the Deployment it was derived from.
pub const DERIVED_FROM: &str = "gantry.dev/derived-from";

/// The pieces a strategy works with.
pub struct Context<'a, 'c> {
    pub client: &'a kube::Client,
    pub namespace: &'a str,
    pub settings: &'a Settings,
    pub console: &'a mut Console<'c>,
    pub timeline: &'a mut Timeline,
    pub cancellation: Cancellation,
}

impl Context<'_, '_> {
    /// The main Deployment's ordinary rolling update (or dry-run), with its own cancellation.
    pub async fn rolling(&mut self) -> Result<Report, gantry_kube::Error> {
        let mut deploy = Deploy::new(
            self.client,
            self.namespace,
            self.settings,
            self.console,
            self.timeline,
            self.cancellation.clone(),
        );
        Box::pin(deploy.run()).await
    }

    /// In a dry-run, a canary or blue-green only tries the main Deployment's change and `derived`
    /// (what the strategy would create) is not created. `None` when not a dry-run.
    pub async fn dry_run_only(
        &mut self,
        strategy: &str,
        derived: &str,
    ) -> Option<Result<Report, gantry_kube::Error>> {
        self.settings.dry_run?;
        self.console.info(&format!(
            "Strategy {strategy} in a dry-run: only the main Deployment's change is tried; no {derived} is created"
        ));
        Some(self.rolling().await)
    }

    /// The report of a strategy that ended before the main Deployment was changed.
    pub fn untouched(&self, plan: &Plan, conclusion: Conclusion, failure: String) -> Report {
        let mut main = DeploymentReport::unread(&plan.target);
        main.container.clone_from(&plan.container);
        main.previous_image.clone_from(&plan.previous_image);
        main.revision = deployment::revision(&plan.main);
        main.conclusion = conclusion;
        main.failure = Some(failure);
        Report {
            conclusion,
            image: self.settings.image.clone(),
            failure: None,
            cancelled_by: self.cancellation.received().map(|received| received.signal),
            dry_run: self.settings.dry_run,
            source: self.settings.source.clone(),
            deployments: vec![main],
            stages: Vec::new(),
        }
        .conclude()
    }
}

/// The promotion's report (the main Deployment's rolling update), its stage added to `stages`
/// and the `problems` of the cleanup after it added to its failure.
pub fn promoted(
    result: Result<Report, gantry_kube::Error>,
    plan: &Plan,
    stages: &mut Vec<Stage>,
    problems: Vec<String>,
) -> Result<Report, gantry_kube::Error> {
    let mut report = result?;
    stages.push(Stage {
        name: format!("promote {}", plan.target),
        outcome: report.conclusion.as_str().to_owned(),
        measurements: Vec::new(),
    });
    for problem in problems {
        report.failure = Some(match report.failure.take() {
            Some(failure) => format!("{failure}; {problem}"),
            None => problem,
        });
    }
    Ok(report)
}

/// The main Deployment as read before any write, and what the strategies derive from it.
pub struct Plan {
    pub main: Deployment,
    pub target: Target,
    pub container: String,
    pub previous_image: String,
    /// `<name>-<track>`.
    pub derived: Target,
    pub track: &'static str,
    /// The derived Deployment left by an earlier run, if any.
    pub existing: Option<Deployment>,
    /// The Service in front of the main Deployment, if one was named or is needed.
    pub service: Option<Service>,
}

/// Refuses what the strategies cannot reason about (exit 2, nothing written).
fn refuse(input: &str, message: String) -> ActionError {
    ActionError::input(input, message)
}

fn failed(message: String) -> ActionError {
    ActionError::Failed(anyhow::anyhow!(message))
}

/// Reads and checks the main Deployment, the derived one an earlier run may have left, and the
/// Service (`service_needed`: blue-green switches one; canary only checks a named one).
pub async fn plan(
    client: &kube::Client,
    namespace: &str,
    settings: &Settings,
    track: &'static str,
    service_needed: bool,
) -> Result<Plan, ActionError> {
    let named = &settings.deployments[0];
    let target = Target {
        namespace: namespace.to_owned(),
        name: named.name.clone(),
    };
    let main = deployment::read_unpaused(client, &target)
        .await
        .map_err(|error| failed(chain(&error)))?;
    let container =
        deployment::choose_container(&main, &target, named.container.as_deref(), &settings.image)
            .map_err(|error| refuse("container", chain(&error)))?;
    let previous_image = deployment::image_of(&main, &container).unwrap_or_default();
    let spec = main.spec.clone().unwrap_or_default();
    let expressions = spec
        .selector
        .match_expressions
        .as_ref()
        .is_some_and(|e| !e.is_empty());
    let selector = spec.selector.match_labels.clone().unwrap_or_default();
    if expressions || selector.is_empty() {
        return Err(refuse(
            "strategy",
            format!(
                "deployment {target} selects its pods with matchExpressions or no matchLabels, which a Service cannot copy; give it a matchLabels selector or use strategy rolling"
            ),
        ));
    }
    if selector.contains_key(TRACK) {
        return Err(refuse(
            "deployment",
            format!(
                "deployment {target} has the label {TRACK} in its selector, so it is itself a derived Deployment; name the main one"
            ),
        ));
    }
    let pod_labels = spec
        .template
        .metadata
        .and_then(|m| m.labels)
        .unwrap_or_default();
    let derived = Target {
        namespace: namespace.to_owned(),
        name: format!("{}-{track}", target.name),
    };
    let existing = derived
        .api(client)
        .get_opt(&derived.name)
        .await
        .map_err(|error| {
            failed(format!(
                "failed to read deployment {derived}: {}",
                said(&error)
            ))
        })?;
    if let Some(existing) = &existing
        && existing
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DERIVED_FROM))
            != Some(&target.name)
    {
        return Err(refuse(
            "deployment",
            format!(
                "deployment {derived} exists and k8s-deploy did not derive it from {target} (no {DERIVED_FROM} annotation naming it); rename or remove it, or use strategy rolling"
            ),
        ));
    }
    let service = service(
        client,
        namespace,
        settings,
        &target,
        &pod_labels,
        service_needed,
    )
    .await?;
    Ok(Plan {
        main,
        target,
        container,
        previous_image,
        derived,
        track,
        existing,
        service,
    })
}

/// The named Service, or the one whose selector picks the main Deployment's pods.
async fn service(
    client: &kube::Client,
    namespace: &str,
    settings: &Settings,
    target: &Target,
    pod_labels: &BTreeMap<String, String>,
    needed: bool,
) -> Result<Option<Service>, ActionError> {
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    let selects = |service: &Service| {
        let selector = service
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        let own: BTreeMap<_, _> = selector.into_iter().filter(|(k, _)| k != TRACK).collect();
        !own.is_empty() && own.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
    };
    if let Some(name) = &settings.service {
        let found = api
            .get_opt(name)
            .await
            .map_err(|error| failed(format!("failed to read service {namespace}/{name}: {}", said(&error))))?
            .ok_or_else(|| refuse("service", format!("service {namespace}/{name} does not exist; name the Service in front of {target}")))?;
        if !selects(&found) {
            return Err(refuse(
                "service",
                format!(
                    "service {namespace}/{name} has a selector that does not pick the pods of {target} (or none); name the Service in front of it"
                ),
            ));
        }
        return Ok(Some(found));
    }
    if !needed {
        return Ok(None);
    }
    let all = api.list(&ListParams::default()).await.map_err(|error| {
        failed(format!(
            "failed to list services in {namespace}: {}",
            said(&error)
        ))
    })?;
    let mut matching: Vec<Service> = all.items.into_iter().filter(selects).collect();
    match matching.len() {
        1 => Ok(matching.pop()),
        0 => Err(refuse(
            "service",
            format!(
                "no Service in {namespace} selects the pods of {target}; create one or name it in service"
            ),
        )),
        _ => Err(refuse(
            "service",
            format!(
                "several Services in {namespace} select the pods of {target} ({}); name one in service",
                matching
                    .iter()
                    .filter_map(|s| s.metadata.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

impl Plan {
    /// The derived Deployment with `image` and `replicas`: the main one's spec, plus the track
    /// label in its selector and pod labels.
    pub fn derived_spec(&self, settings: &Settings, replicas: i32) -> Deployment {
        let mut spec = self.main.spec.clone().unwrap_or_default();
        spec.replicas = Some(replicas);
        spec.paused = None;
        spec.selector
            .match_labels
            .get_or_insert_default()
            .insert(TRACK.to_owned(), self.track.to_owned());
        let template_meta = spec.template.metadata.get_or_insert_default();
        template_meta
            .labels
            .get_or_insert_default()
            .insert(TRACK.to_owned(), self.track.to_owned());
        if let Some(pod) = spec.template.spec.as_mut() {
            for c in pod
                .containers
                .iter_mut()
                .filter(|c| c.name == self.container)
            {
                c.image = Some(settings.image.clone());
            }
        }
        let mut labels = self.main.metadata.labels.clone().unwrap_or_default();
        labels.insert(TRACK.to_owned(), self.track.to_owned());
        let mut annotations = settings.annotations.clone();
        annotations.insert(DERIVED_FROM.to_owned(), self.target.name.clone());
        Deployment {
            metadata: kube::api::ObjectMeta {
                name: Some(self.derived.name.clone()),
                namespace: Some(self.derived.namespace.clone()),
                labels: Some(labels),
                annotations: Some(annotations),
                ..Default::default()
            },
            spec: Some(spec),
            status: None,
        }
    }

    /// The image the derived Deployment runs (an earlier run's, before this one wrote it).
    pub fn existing_image(&self) -> Option<String> {
        self.existing
            .as_ref()
            .and_then(|d| deployment::image_of(d, &self.container))
    }

    /// Creates the derived Deployment with `replicas`, or brings the one this run (or an earlier
    /// one) wrote to this spec with a merge patch: the derived Deployment is ours alone, and its
    /// controller keeps changing its status, so a write needs no `resourceVersion`. Returns what
    /// was written.
    pub async fn write(
        &mut self,
        client: &kube::Client,
        settings: &Settings,
        replicas: i32,
    ) -> Result<Deployment, String> {
        let api = self.derived.api(client);
        let wanted = self.derived_spec(settings, replicas);
        let written = if self.existing.is_none() {
            let params = PostParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PostParams::default()
            };
            api.create(&params, &wanted).await
        } else {
            let params = PatchParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PatchParams::default()
            };
            api.patch(&self.derived.name, &params, &Patch::Merge(&wanted))
                .await
        }
        .map_err(|error| {
            format!(
                "failed to write deployment {}: {}",
                self.derived,
                said(&error)
            )
        })?;
        self.existing = Some(written.clone());
        Ok(written)
    }

    /// Watches the derived Deployment's rollout of what `written` asked for.
    pub async fn wait(
        &self,
        client: &kube::Client,
        settings: &Settings,
        written: &Deployment,
        console: &mut Console<'_>,
    ) -> Outcome {
        let expect = Expectation::after(written, &self.container, &settings.image);
        let options = WaitOptions {
            timeout: settings.timeout,
            fail_fast: settings.fail_fast,
            pods: settings.pods,
            soak: None,
        };
        let target = &self.derived;
        console.group(&format!("rollout of {target} to {}", settings.image));
        let outcome = watch::wait(client, target, &expect, options, &mut |line: &str| {
            console.info(&format!("{target}: {line}"));
        })
        .await;
        console.end_group();
        outcome
    }

    /// Deletes the derived Deployment (its `ReplicaSets` and pods with it); gone already is fine.
    pub async fn remove(&mut self, client: &kube::Client) -> Result<(), String> {
        self.existing = None;
        match self
            .derived
            .api(client)
            .delete(&self.derived.name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(response)) if response.code == 404 => Ok(()),
            Err(error) => Err(format!(
                "failed to delete deployment {}: {}",
                self.derived,
                said(&error)
            )),
        }
    }

    /// Removes the derived Deployment and says what that leaves.
    pub async fn removal(&mut self, client: &kube::Client) -> String {
        match self.remove(client).await {
            Ok(()) => format!(
                "{} was removed and {} left unchanged",
                self.derived, self.target
            ),
            Err(message) => format!("{message}; {} left unchanged", self.target),
        }
    }

    /// Points the Service at the derived pods (`to_derived`) or back at the main ones: a merge
    /// patch of the track label into (or out of) its selector, carrying the `resourceVersion`
    /// last read, so someone else's change in between makes it fail (409) rather than be lost.
    pub async fn switch(&mut self, client: &kube::Client, to_derived: bool) -> Result<(), String> {
        let service = self.service.as_ref().ok_or("no service to switch")?;
        let name = service.metadata.name.clone().unwrap_or_default();
        let api: Api<Service> = Api::namespaced(client.clone(), &self.target.namespace);
        let value = if to_derived {
            json!(self.track)
        } else {
            json!(null)
        };
        let patch = json!({
            "metadata": {"resourceVersion": service.metadata.resource_version},
            "spec": {"selector": {TRACK: value}},
        });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        let switched = api
            .patch(&name, &params, &Patch::Merge(&patch))
            .await
            .map_err(|error| match error {
                kube::Error::Api(response) if response.code == 409 => format!(
                    "service {}/{name} changed since it was read, so its selector was left alone; run again",
                    self.target.namespace
                ),
                error => format!(
                    "failed to switch service {}/{name}: {}",
                    self.target.namespace,
                    said(&error)
                ),
            })?;
        self.service = Some(switched);
        Ok(())
    }

    /// `prod/web`: the Service's namespace and name.
    pub fn service_name(&self) -> String {
        let name = self
            .service
            .as_ref()
            .and_then(|s| s.metadata.name.clone())
            .unwrap_or_default();
        format!("{}/{name}", self.target.namespace)
    }

    /// Whether the Service sends its traffic to the derived pods now.
    pub fn switched(&self) -> bool {
        self.service
            .as_ref()
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.selector.as_ref())
            .is_some_and(|selector| selector.get(TRACK).map(String::as_str) == Some(self.track))
    }
}

/// What the API server said (its `Status` message), or the client's error.
fn said(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(response) => format!("{} ({})", response.message, response.code),
        error => chain(error),
    }
}

impl Context<'_, '_> {
    /// Runs `spec` against the derived Deployment's pods, logging each measurement. `Ok` holds
    /// the measurements as the summary shows them; `Err` why it failed (the limit, the first
    /// failing measurement). A cancellation never ends: the caller's own wait for it wins.
    pub async fn analyse(
        &mut self,
        plan: &Plan,
        spec: &AnalysisSpec,
    ) -> Result<Vec<String>, (Vec<String>, String)> {
        let client = analysis::http_client(self.settings.network.clone())
            .map_err(|error| (Vec::new(), error.to_string()))?;
        let image = &self.settings.image;
        let version = image
            .rsplit_once('@')
            .or_else(|| image.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')))
            .map_or("", |(_, version)| version);
        let vars = Substitutions::new(
            image,
            version,
            &plan.target.namespace,
            &plan.target.name,
            &plan.derived.name,
        );
        let seen = std::sync::Mutex::new(Vec::new());
        let outcome = spec
            .run(
                &client,
                &vars,
                &self.cancellation,
                &mut |m: &Measurement| {
                    let line = format!("{:.1}s: {} ({})", m.at.as_secs_f64(), m.value, m.phase);
                    seen.lock().expect("not poisoned").push(line);
                },
            )
            .await;
        let measurements = seen.into_inner().expect("not poisoned");
        for line in &measurements {
            self.console
                .info(&format!("Analysis of {}: {line}", plan.derived));
        }
        match outcome {
            Ok(outcome) if outcome.passed => Ok(measurements),
            Ok(outcome) => {
                let first =
                    outcome
                        .measurements
                        .iter()
                        .find(|m| !m.ok)
                        .map_or_else(String::new, |m| {
                            format!(
                                " (first failing measurement: {} ({}) at {:.1}s)",
                                m.value,
                                m.phase,
                                m.at.as_secs_f64()
                            )
                        });
                let reason = outcome
                    .reason
                    .unwrap_or_else(|| "it did not pass".to_owned());
                Err((measurements, format!("analysis failed: {reason}{first}")))
            }
            Err(AnalysisError::Cancelled(_)) => std::future::pending().await,
            Err(error) => Err((measurements, format!("analysis failed: {error}"))),
        }
    }
}

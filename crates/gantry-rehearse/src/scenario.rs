//! The story the rehearsal plays, in the order the workflows run the actions: for each release a
//! developer's release pull request (ticgen, then required-ci-check over the CI jobs), the merge
//! and the tag (ticgen, create-prerelease), then the deploy: auto-deploy on the `prereleased`
//! event and, when its landing-zone merge lands, k8s-deploy from the merged env file, while
//! auto-deploy verifies over HTTP what the cluster serves. The first release is good; the second
//! one's image cannot start. Then, when the layout has a `canary_version`, k8s-deploy rolls an
//! image that answers a fifth of its requests with 500 out as a canary, whose first step's
//! analysis must catch it. After each step the expectations compare what the actions said with
//! what the simulators hold.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::json;

use crate::binaries::Binaries;
use crate::developer::Developer;
use crate::dora::rehearsed::{self, Rehearsed};
use crate::facts::{self, DeploymentFacts, PullFacts};
use crate::layout::Layout;
use crate::progress::Progress;
use crate::stage::Stage;
use crate::step::{Context, Step, StepRunner, checkout};

/// How long auto-deploy may take as a whole (its waits are a few simulated seconds).
const DEPLOY_TIMEOUT: &str = "3m";
/// How long k8s-deploy waits for each rollout.
const ROLLOUT_TIMEOUT: &str = "2m";

/// The canary's steps: the first (a quarter of the pods) gated on the canary's error ratio as the
/// stage's endpoint measures it (`BASE`); the second is only reached by a good image.
const CANARY_STEPS: &str = "
- weight: 25
  analysis:
    http:
      url: BASE/error-ratio/{{namespace}}/{{canary}}
      json-pointer: /error_ratio
    success-condition: result < 0.05
    interval: 500ms
    count: 3
    initial-delay: 500ms
- weight: 50
  pause: 1s
";

/// The landing zone's branch deploys merge into (auto-deploy's default `base-branch`).
const LANDING_ZONE_BRANCH: &str = "refs/heads/main";
/// The service's branch releases are merged into and canaries dispatched from.
const SERVICE_BRANCH: &str = "refs/heads/main";

/// One thing the rehearsal expected, and whether it held.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Expectation {
    pub what: String,
    pub held: bool,
    /// What was found, when it differed (or the evidence, when it held).
    pub found: String,
}

/// What one release left in the simulators.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ReleaseFacts {
    pub tag: String,
    pub good: bool,
    /// The image tag ticgen derived and auto-deploy wrote.
    pub tic: String,
    pub landing_zone_pull: Option<PullFacts>,
    pub env_lines_changed: usize,
    pub prerelease: Option<bool>,
    pub deployment: DeploymentFacts,
}

/// Everything the rehearsal did and found.
pub struct Report {
    pub steps: Vec<Step>,
    pub expectations: Vec<Expectation>,
    pub releases: Vec<ReleaseFacts>,
    pub total: Duration,
    /// The DORA keys of the deploys' GitHub records, when they could be read.
    pub dora: Option<Rehearsed>,
}

impl Report {
    pub fn all_held(&self) -> bool {
        self.expectations.iter().all(|e| e.held)
    }
}

/// Plays the story on `stage`.
pub fn rehearse(
    layout: &Layout,
    stage: &Stage,
    binaries: &Binaries,
    progress: &Progress,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut rehearsal = Rehearsal {
        layout,
        stage,
        runner: StepRunner {
            binaries,
            api_url: stage.github.url().to_owned(),
            started,
            progress,
        },
        progress,
        steps: Vec::new(),
        expectations: Vec::new(),
        releases: Vec::new(),
        run_id: 7000,
    };
    rehearsal.release(&layout.good_version, true)?;
    rehearsal.release(&layout.bad_version, false)?;
    if let Some(version) = &layout.canary_version {
        rehearsal.canary(version)?;
    }
    let total = started.elapsed();
    let dora = rehearsal.dora();
    Ok(Report {
        steps: rehearsal.steps,
        expectations: rehearsal.expectations,
        releases: rehearsal.releases,
        total,
        dora,
    })
}

struct Rehearsal<'a> {
    layout: &'a Layout,
    stage: &'a Stage,
    runner: StepRunner<'a>,
    progress: &'a Progress,
    steps: Vec<Step>,
    expectations: Vec<Expectation>,
    releases: Vec<ReleaseFacts>,
    run_id: u64,
}

impl Rehearsal<'_> {
    fn github(&self) -> &github_sim::Control {
        &self.stage.github
    }

    fn expect(&mut self, what: impl Into<String>, held: bool, found: impl Into<String>) {
        let (what, found) = (what.into(), found.into());
        if !held {
            self.progress
                .line(&format!("  ✗ expected {what}; found {found}"));
        }
        self.expectations.push(Expectation { what, held, found });
    }

    fn context(
        &mut self,
        repository: &str,
        event_index: usize,
        git_ref: String,
        sha: &str,
        name: &str,
    ) -> anyhow::Result<Context> {
        let event = self.github().events()[event_index].event.clone();
        let payload = self
            .github()
            .webhook_payload(event_index)
            .context("the simulator renders no payload for the event")?;
        let workspace = self.stage.workspace(name)?;
        let files = facts::tree(self.github(), repository, sha)
            .with_context(|| format!("{repository} has no commit {sha}"))?;
        checkout(&workspace, &files)?;
        self.run_id += 1;
        Ok(Context {
            repository: repository.to_owned(),
            event,
            payload,
            git_ref,
            sha: sha.to_owned(),
            workspace,
            run_id: self.run_id,
        })
    }

    fn run(
        &mut self,
        title: &str,
        action: &'static str,
        context: &Context,
        inputs: &[(&str, &str)],
    ) -> usize {
        let step = self.runner.run(title, action, context, inputs);
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// One release, from the release pull request to the deploy.
    fn release(&mut self, version: &str, good: bool) -> anyhow::Result<()> {
        let layout = self.layout;
        let tag = format!("v{version}");
        self.progress.line(&format!(
            "── release {tag} ({})",
            if good {
                "a good image"
            } else {
                "an image that cannot start"
            }
        ));
        let merge_sha = self.release_pull_request(version)?;
        let (tic, release_event) = self.tag_and_prerelease(&tag, &merge_sha)?;
        let env_before = facts::file_text(
            self.github(),
            &layout.landing_zone,
            "main",
            &layout.env_file,
        )
        .with_context(|| format!("{} has no {} on main", layout.landing_zone, layout.env_file))?;
        let (deploy, rollout) = self.deploy(&tag, &tic, &merge_sha, release_event)?;
        let env_after = facts::file_text(
            self.github(),
            &layout.landing_zone,
            "main",
            &layout.env_file,
        )
        .unwrap_or_default();
        let pull = self.steps[deploy]
            .output("pr-number")
            .parse()
            .ok()
            .and_then(|number| facts::pull(self.github(), &layout.landing_zone, number));
        let facts = ReleaseFacts {
            tag: tag.clone(),
            good,
            tic: tic.clone(),
            landing_zone_pull: pull,
            env_lines_changed: facts::lines_changed(&env_before, &env_after),
            prerelease: facts::is_prerelease(self.github(), &layout.service, &tag),
            deployment: facts::deployment(
                &self.stage.cluster,
                &layout.namespace,
                &layout.deployment,
            ),
        };
        self.expect_landing_zone(&facts, &env_after);
        if good {
            self.expect_good(&facts, deploy, rollout);
        } else {
            self.expect_bad(&facts, deploy, rollout);
        }
        self.releases.push(facts);
        Ok(())
    }

    /// The developer's release pull request and its CI, then its merge; returns the merge commit.
    fn release_pull_request(&mut self, version: &str) -> anyhow::Result<String> {
        let layout = self.layout;
        let login = facts::login_of(self.github(), &layout.tokens.developer)
            .context("tokens.developer belongs to no identity of the world")?;
        let manifest = facts::file_text(self.github(), &layout.service, "main", &layout.manifest)
            .with_context(|| {
            format!("{} has no {} on main", layout.service, layout.manifest)
        })?;
        let bumped = bump_version(&manifest, version)
            .with_context(|| format!("{} has no version line to bump", layout.manifest))?;
        let branch = format!("release/{version}");
        self.github().world(|w| {
            w.push_files(
                &layout.service,
                &branch,
                &[(layout.manifest.as_str(), Some(bumped.as_str()))],
                &format!("Release {version}"),
                Some(login.as_str()),
            )
        });
        let mark = self.github().events().len();
        let number = self.developer().open_pull(
            &layout.service,
            &branch,
            "main",
            &format!("Release {version}"),
        )?;
        let opened = self.event_after(mark, |e| {
            e.event == "pull_request"
                && e.action.as_deref() == Some("opened")
                && e.payload["number"] == number
        })?;
        let head = self.github().world(|w| {
            w.repos[&layout.service]
                .pull(number)
                .map(|p| p.head_sha.hex())
        });
        let head = head.context("the pull request vanished")?;
        let context = self.context(
            &layout.service,
            opened,
            format!("refs/pull/{number}/merge"),
            &head,
            &format!("pull-{number}"),
        )?;
        let ticgen = self.run(
            &format!("ticgen on pull request #{number}"),
            "ticgen",
            &context,
            &[("image", &layout.image)],
        );
        let tic = self.steps[ticgen].output("tic").to_owned();
        self.expect(
            format!("ticgen to stamp pull request #{number} with its head commit"),
            self.steps[ticgen].succeeded() && tic.contains(&format!("pr.{number}.g{}", &head[..7])),
            format!("tic `{tic}` ({})", self.steps[ticgen].outcome()),
        );
        let needs = json!({
            "version": {"result": if self.steps[ticgen].succeeded() { "success" } else { "failure" }, "outputs": {"tic": tic}},
            "publish": {"result": "skipped", "outputs": {}},
        })
        .to_string();
        let gate = self.run(
            "required-ci-check over the pull request's jobs",
            "required-ci-check",
            &context,
            &[("jobs", &needs), ("allowed-skips", "publish")],
        );
        self.expect(
            "required-ci-check to pass the pull request (publish is skipped on pull requests)",
            self.steps[gate].output("result") == "success",
            self.steps[gate].outcome(),
        );
        let merged = self.developer().merge_pull(&layout.service, number)?;
        self.progress.line(&format!(
            "  {login} merged pull request #{number} ({})",
            &merged[..7]
        ));
        Ok(merged)
    }

    /// Tags the merge, runs ticgen and create-prerelease on the tag push; returns the release's
    /// image tag and the index of the `prereleased` event.
    fn tag_and_prerelease(
        &mut self,
        tag: &str,
        merge_sha: &str,
    ) -> anyhow::Result<(String, usize)> {
        let layout = self.layout;
        let mark = self.github().events().len();
        self.developer().push_tag(&layout.service, tag, merge_sha)?;
        let pushed = self.event_after(mark, |e| {
            e.event == "push" && e.payload["ref"] == format!("refs/tags/{tag}")
        })?;
        let context = self.context(
            &layout.service,
            pushed,
            format!("refs/tags/{tag}"),
            merge_sha,
            &format!("tag-{tag}"),
        )?;
        let ticgen = self.run(
            &format!("ticgen on the tag {tag}"),
            "ticgen",
            &context,
            &[("image", &layout.image)],
        );
        let tic = self.steps[ticgen].output("tic").to_owned();
        self.expect(
            format!("ticgen to release {tag} as its final image tag"),
            self.steps[ticgen].output("is-release") == "true" && tag.trim_start_matches('v') == tic,
            format!(
                "is-release `{}`, tic `{tic}`",
                self.steps[ticgen].output("is-release")
            ),
        );
        let mark = self.github().events().len();
        let prerelease = self.run(
            &format!("create-prerelease for {tag}"),
            "create-prerelease",
            &context,
            &[("token", &layout.tokens.release)],
        );
        self.expect(
            format!("create-prerelease to create {tag} as a prerelease"),
            self.steps[prerelease].output("prerelease") == "true"
                && facts::is_prerelease(self.github(), &layout.service, tag) == Some(true),
            self.steps[prerelease].outcome(),
        );
        let event = self.event_after(mark, |e| {
            e.event == "release"
                && e.action.as_deref() == Some("prereleased")
                && e.payload["tag_name"] == tag
        })?;
        let triggers = self.github().events()[event].triggers_workflows;
        self.expect(
            format!("the `prereleased` event of {tag} to start the deploy workflow"),
            triggers,
            if triggers {
                "made by an app, so it starts workflows"
            } else {
                "made with the workflow's own GITHUB_TOKEN, which starts no workflow (use an app or bot token as tokens.release)"
            },
        );
        Ok((tic, event))
    }

    /// auto-deploy, and k8s-deploy when the landing-zone merge lands; returns both steps'
    /// indices (the rollout's is `None` when no merge landed).
    fn deploy(
        &mut self,
        tag: &str,
        tic: &str,
        sha: &str,
        release_event: usize,
    ) -> anyhow::Result<(usize, Option<usize>)> {
        let layout = self.layout;
        let deploy_context = self.context(
            &layout.service,
            release_event,
            format!("refs/tags/{tag}"),
            sha,
            &format!("deploy-{tag}"),
        )?;
        let mark = self.github().events().len();
        // The release's author as GitHub shows it: the identity of tokens.release made it.
        let author = self
            .github()
            .webhook_payload(release_event)
            .and_then(|payload| {
                payload["release"]["author"]["login"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let inputs = [
            ("token", layout.tokens.deploy.as_str()),
            ("bot-token", layout.tokens.bot.as_str()),
            ("landing-zone-repo", layout.landing_zone.as_str()),
            ("release-authors", author.as_str()),
            ("env-file", layout.env_file.as_str()),
            ("image-version", tic),
            ("verify-url", self.stage.endpoint.url.as_str()),
            ("verify-timeout", layout.verify_timeout.as_str()),
            ("deployment-environment", layout.environment()),
            ("timeout", DEPLOY_TIMEOUT),
        ];
        let kubeconfig = std::fs::read_to_string(&self.stage.kubeconfig)?;
        let runner = &self.runner;
        let github = self.github();
        let (deploy, rollout) = std::thread::scope(|scope| -> anyhow::Result<_> {
            let deploy = scope.spawn(|| {
                runner.run(
                    &format!("auto-deploy {tag} to {}", layout.env_file),
                    "auto-deploy",
                    &deploy_context,
                    &inputs,
                )
            });
            let merge = loop {
                let landed =
                    github
                        .events()
                        .iter()
                        .enumerate()
                        .skip(mark)
                        .find_map(|(index, e)| {
                            (e.event == "push"
                                && e.repo == layout.landing_zone
                                && e.payload["ref"] == LANDING_ZONE_BRANCH)
                                .then_some(index)
                        });
                if landed.is_some() || deploy.is_finished() {
                    break landed;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let rollout = match merge {
                Some(index) => {
                    let after = github.events()[index].payload["after"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    let context =
                        Rehearsal::landing_zone_context(self.stage, layout, github, index, &after)?;
                    Some(runner.run(
                        &format!("k8s-deploy {} from the merge", layout.env_file),
                        "k8s-deploy",
                        &context,
                        &[
                            ("kubeconfig", kubeconfig.as_str()),
                            ("namespace", &layout.namespace),
                            ("deployment", &layout.deployment),
                            ("env-file", &layout.env_file),
                            ("timeout", ROLLOUT_TIMEOUT),
                            // As the k8s-deploy workflow: auto-deploy records the deploy in the
                            // service repository.
                            ("record-deployment", "false"),
                        ],
                    ))
                }
                None => None,
            };
            let deploy = deploy
                .join()
                .map_err(|_| anyhow::anyhow!("the auto-deploy step panicked"))?;
            Ok((deploy, rollout))
        })?;
        let deploy_index = self.steps.len();
        self.steps.push(deploy);
        let rollout_index = rollout.map(|step| {
            self.steps.push(step);
            self.steps.len() - 1
        });
        Ok((deploy_index, rollout_index))
    }

    /// The landing-zone workflow's context for the push event at `index`: a checkout of `after`.
    fn landing_zone_context(
        stage: &Stage,
        layout: &Layout,
        github: &github_sim::Control,
        index: usize,
        after: &str,
    ) -> anyhow::Result<Context> {
        let payload = github
            .webhook_payload(index)
            .context("the simulator renders no payload for the merge")?;
        let workspace =
            stage.workspace(&format!("landing-zone-{}", &after[..after.len().min(12)]))?;
        let files = facts::tree(github, &layout.landing_zone, after)
            .with_context(|| format!("{} has no commit {after}", layout.landing_zone))?;
        checkout(&workspace, &files)?;
        Ok(Context {
            repository: layout.landing_zone.clone(),
            event: "push".to_owned(),
            payload,
            git_ref: LANDING_ZONE_BRANCH.to_owned(),
            sha: after.to_owned(),
            workspace,
            run_id: 9000 + u64::try_from(index).unwrap_or_default(),
        })
    }

    /// k8s-deploy rolling `version` out as a canary from the service's own workflow (a person
    /// dispatching it on main), recorded as a deployment of main's head in the service
    /// repository; its first step's analysis must catch the errors and leave the Deployment as
    /// it was.
    fn canary(&mut self, version: &str) -> anyhow::Result<()> {
        let layout = self.layout;
        let image = layout.image_of(version);
        self.progress.line(&format!(
            "── canary {version} (an image that answers a fifth of its requests with 500)"
        ));
        let head = self
            .github()
            .world(|w| {
                let repo = w.repos.get(&layout.service)?;
                repo.resolve(&w.objects, "main").map(|sha| sha.hex())
            })
            .with_context(|| format!("{} has no branch main", layout.service))?;
        let context = Context {
            repository: layout.service.clone(),
            event: "workflow_dispatch".to_owned(),
            payload: json!({ "ref": SERVICE_BRANCH, "inputs": { "version": version } }),
            git_ref: SERVICE_BRANCH.to_owned(),
            sha: head,
            workspace: self.stage.workspace(&format!("canary-{version}"))?,
            run_id: self.run_id + 1,
        };
        self.run_id += 1;
        let before = facts::deployment(&self.stage.cluster, &layout.namespace, &layout.deployment);
        let kubeconfig = std::fs::read_to_string(&self.stage.kubeconfig)?;
        let steps = CANARY_STEPS.replace("BASE", &self.stage.endpoint.base);
        let rollout = self.run(
            &format!("k8s-deploy canary of {version}"),
            "k8s-deploy",
            &context,
            &[
                ("kubeconfig", kubeconfig.as_str()),
                ("namespace", &layout.namespace),
                ("deployment", &layout.deployment),
                ("image-name", &layout.image),
                ("version", version),
                ("strategy", "canary"),
                ("steps", &steps),
                ("timeout", ROLLOUT_TIMEOUT),
                // The workflow's App token, as the deploy workflows mint it.
                ("github-token", &layout.tokens.deploy),
                ("deployment-environment", layout.environment()),
            ],
        );
        let after = facts::deployment(&self.stage.cluster, &layout.namespace, &layout.deployment);
        let step = &self.steps[rollout];
        let error = step.transcript.errors().pop().unwrap_or_default();
        let failed_on_analysis = step.transcript.code == 1
            && step.output("result") == "failed"
            && error.contains("canary step 1 ")
            && error.contains("analysis failed");
        let outcome = step.outcome();
        let measured = step
            .transcript
            .summary
            .lines()
            .find(|line| line.starts_with("| step 1 "))
            .unwrap_or_default()
            .to_owned();
        self.expect(
            format!("k8s-deploy to fail the canary of {image} at its first step, on its analysis"),
            failed_on_analysis,
            outcome,
        );
        self.expect(
            "the first step's measurements to show the canary's errors",
            measured.contains("(failed)"),
            if measured.is_empty() {
                "no step 1 in the summary".to_owned()
            } else {
                measured
            },
        );
        let canary = format!("{}-canary", layout.deployment);
        let left = self
            .stage
            .cluster
            .get::<k8s_openapi::api::apps::v1::Deployment>(&layout.namespace, &canary);
        self.expect(
            format!(
                "the canary Deployment {}/{canary} removed",
                layout.namespace
            ),
            left.is_none(),
            if left.is_some() {
                "still there"
            } else {
                "gone"
            },
        );
        self.expect(
            format!(
                "the Deployment {}/{} untouched: same image, same generation",
                layout.namespace, layout.deployment
            ),
            after.image == before.image && after.generation == before.generation,
            format!(
                "image {} (was {}), generation {} (was {})",
                after.image, before.image, after.generation, before.generation
            ),
        );
        Ok(())
    }

    /// The DORA keys of the records the deploys left; each release's auto-deploy recorded one
    /// deployment, which failed when the release was bad, and the canary's k8s-deploy one, which
    /// failed.
    fn dora(&mut self) -> Option<Rehearsed> {
        let keys = match rehearsed::keys_of(self.layout, self.stage, self.progress) {
            Ok(keys) => keys,
            Err(error) => {
                self.expect(
                    "the deployment records read back",
                    false,
                    format!("{error:#}"),
                );
                return None;
            }
        };
        // Every canary the rehearsal plays is bad and caught: recorded by k8s-deploy, failed.
        let canaries = usize::from(self.layout.canary_version.is_some());
        let deploys = self.releases.len() + canaries;
        let failed = self.releases.iter().filter(|r| !r.good).count() + canaries;
        let rate = &keys.keys.change_failure_rate;
        self.expect(
            format!(
                "{deploys} deployments recorded in {} ({failed} failed), so a change failure rate of {failed}/{deploys}",
                keys.scope.environment
            ),
            rate.finished == deploys && rate.failed == failed,
            format!("{} finished, {} failed, {} pending", rate.finished, rate.failed, rate.pending),
        );
        Some(keys)
    }

    fn expect_landing_zone(&mut self, facts: &ReleaseFacts, env_after: &str) {
        let layout = self.layout;
        let bot = facts::login_of(self.github(), &layout.tokens.bot).unwrap_or_default();
        match &facts.landing_zone_pull {
            Some(pull) => {
                self.expect(
                    format!("the landing-zone pull request #{} merged by {bot} with one approval, by {bot}", pull.number),
                    pull.merged && pull.merged_by.as_deref() == Some(bot.as_str()) && pull.approvals == [bot.clone()],
                    format!(
                        "merged {} by {}, approvals {}",
                        pull.merged,
                        pull.merged_by.as_deref().unwrap_or("nobody"),
                        pull.approvals.join(", ")
                    ),
                );
            }
            None => self.expect(
                "a landing-zone pull request",
                false,
                "auto-deploy named none",
            ),
        }
        let line = env_after
            .lines()
            .find(|l| l.contains("IMAGE_VERSION="))
            .unwrap_or_default()
            .to_owned();
        self.expect(
            format!(
                "{} on main changed on exactly one line, to {}",
                layout.env_file, facts.tic
            ),
            facts.env_lines_changed == 1 && line.contains(&facts.tic),
            format!("{} lines changed; `{line}`", facts.env_lines_changed),
        );
    }

    fn expect_good(&mut self, facts: &ReleaseFacts, deploy: usize, rollout: Option<usize>) {
        let layout = self.layout;
        let image = layout.image_of(&facts.tic);
        let d = &self.steps[deploy];
        let (held, found) = (
            d.succeeded() && d.output("result") == "deployed" && d.output("verified") == "true",
            d.outcome(),
        );
        self.expect(
            format!("auto-deploy to deploy and verify {}", facts.tag),
            held,
            found,
        );
        let (held, found) = rollout.map_or(
            (false, "no merge reached the landing zone".to_owned()),
            |r| {
                let r = &self.steps[r];
                (
                    r.succeeded() && r.output("result") == "deployed" && r.output("image") == image,
                    format!("{} ({})", r.outcome(), r.output("image")),
                )
            },
        );
        self.expect(format!("k8s-deploy to roll out {image}"), held, found);
        self.expect(
            format!("the Deployment to run {image}"),
            facts.deployment.image == image,
            facts.deployment.image.clone(),
        );
        self.expect(
            format!("{} promoted to a full release", facts.tag),
            facts.prerelease == Some(false),
            format!("prerelease {:?}", facts.prerelease),
        );
    }

    fn expect_bad(&mut self, facts: &ReleaseFacts, deploy: usize, rollout: Option<usize>) {
        let layout = self.layout;
        let bad_image = layout.image_of(&facts.tic);
        let previous = self
            .releases
            .last()
            .map(|good| layout.image_of(&good.tic))
            .unwrap_or_default();
        let (held, found) = rollout.map_or(
            (false, "no merge reached the landing zone".to_owned()),
            |r| {
                let r = &self.steps[r];
                (
                    r.transcript.code == 1
                        && r.output("result") == "rolled-back"
                        && r.output("revision") == facts.deployment.revision,
                    format!(
                        "{} (revision {}, restored {})",
                        r.outcome(),
                        r.output("revision"),
                        r.output("rollback-revision")
                    ),
                )
            },
        );
        self.expect(
            format!("k8s-deploy to fail fast on {bad_image} and roll back"),
            held,
            found,
        );
        let newest = facts.deployment.history.last().cloned().unwrap_or_default();
        let broken = facts
            .deployment
            .history
            .iter()
            .any(|(_, image)| *image == bad_image);
        self.expect(
            format!("the Deployment back on {previous}, its newest revision, with {bad_image} kept in the history"),
            facts.deployment.image == previous
                && newest.1 == previous
                && newest.0.to_string() == facts.deployment.revision
                && broken,
            format!("image {}, revision {}, history {:?}", facts.deployment.image, facts.deployment.revision, facts.deployment.history),
        );
        let d = &self.steps[deploy];
        let (held, found) = (
            d.transcript.code == 1 && d.output("verified") != "true",
            d.outcome(),
        );
        self.expect(
            format!("auto-deploy to report that {} was never served", facts.tag),
            held,
            found,
        );
        self.expect(
            format!("{} to stay a prerelease", facts.tag),
            facts.prerelease == Some(true),
            format!("prerelease {:?}", facts.prerelease),
        );
    }

    fn developer(&self) -> Developer<'_> {
        Developer {
            api_url: self.stage.github.url(),
            token: &self.layout.tokens.developer,
            runtime: &self.stage.runtime,
        }
    }

    /// The first event recorded since `mark` that `matches`.
    fn event_after(
        &self,
        mark: usize,
        matches: impl Fn(&github_sim::Event) -> bool,
    ) -> anyhow::Result<usize> {
        let events = self.github().events();
        match events
            .iter()
            .enumerate()
            .skip(mark)
            .find(|(_, e)| matches(e))
        {
            Some((index, _)) => Ok(index),
            None => bail!("the simulator recorded no such event"),
        }
    }
}

/// The manifest with its first `version = "…"` (TOML) or `"version": "…"` (JSON) set to `version`.
pub fn bump_version(manifest: &str, version: &str) -> Option<String> {
    let line = regex::Regex::new(r#"(?m)^(\s*"?version"?\s*[=:]\s*)"[^"]*""#).ok()?;
    line.is_match(manifest).then(|| {
        line.replace(manifest, format!("${{1}}\"{version}\""))
            .into_owned()
    })
}
